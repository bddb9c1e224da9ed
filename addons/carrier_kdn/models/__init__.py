from . import kdniao_account
from . import logistics_carrier_account
from . import delivery_carrier
from . import stock_picking
