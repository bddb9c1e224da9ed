from . import test_platform_sync
