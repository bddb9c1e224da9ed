from . import logistics_order_import
