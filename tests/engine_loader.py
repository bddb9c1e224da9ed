"""Import addons/shop_logistics/engines without Odoo.

The add-on's own ``__init__`` imports its models (and so Odoo); the engines package does not, so it is loaded
from its folder under the name ``shop_logistics_engines``, once per process.
"""

import importlib.util
import sys
from pathlib import Path

ENGINES_DIR = Path(__file__).resolve().parent.parent / "addons" / "shop_logistics" / "engines"
PACKAGE_NAME = "shop_logistics_engines"


def load_engines():
    if PACKAGE_NAME in sys.modules:
        return sys.modules[PACKAGE_NAME]
    spec = importlib.util.spec_from_file_location(
        PACKAGE_NAME, ENGINES_DIR / "__init__.py", submodule_search_locations=[str(ENGINES_DIR)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE_NAME] = package
    spec.loader.exec_module(package)
    return package
