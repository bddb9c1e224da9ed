from . import logistics_shop
from . import logistics_remark_tag
from . import logistics_order_hold
from . import logistics_carrier_account
from . import logistics_shipment_event
from . import sale_order
from . import stock_picking
from . import logistics_tracking
