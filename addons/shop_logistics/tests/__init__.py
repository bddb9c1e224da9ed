from . import test_logistics_state
from . import test_remark_tags
from . import test_sale_order
from . import test_shipment_event
from . import test_security
from . import test_translations
from . import test_workbench
from . import test_tracking_page
