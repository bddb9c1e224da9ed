import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import devctl  # noqa: E402


@pytest.fixture(scope="session")
def odoo_src():
    return Path(os.environ.get("SHOPLOG_ODOO_SRC") or devctl.find_odoo_source())
