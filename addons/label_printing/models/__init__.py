from . import logistics_printer
from . import logistics_print_job
from . import stock_picking
from . import label_scan
from . import report_direct_print
from . import logistics_print_batch
from . import stock_picking_batch
from . import delivery_carrier
