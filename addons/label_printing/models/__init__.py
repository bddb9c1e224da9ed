from . import logistics_printer
