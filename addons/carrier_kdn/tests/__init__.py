from . import test_kdniao_protocol
from . import test_waybill
from . import test_tracks
from . import test_logistics_hooks
from . import test_tracking_exceptions
