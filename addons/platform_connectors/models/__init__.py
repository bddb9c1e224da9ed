from . import logistics_sync_log
from . import logistics_shop
from . import logistics_sku_mapping
from . import logistics_platform_inbox
from . import sale_order
from . import logistics_platform_carrier
from . import stock_picking
from . import logistics_shop_messages
