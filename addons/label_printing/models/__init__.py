from . import logistics_printer
from . import logistics_print_job
from . import stock_picking
from . import label_scan
from . import report_direct_print
