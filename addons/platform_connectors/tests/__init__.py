from . import test_platform_sync
from . import test_platform_matrix
