from . import test_printer_transport
from . import test_print_jobs
from . import test_scan_to_print
from . import test_documents
