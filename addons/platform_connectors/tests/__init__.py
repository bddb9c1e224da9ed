from . import test_platform_sync
from . import test_platform_matrix
from . import test_order_import
