"""Refresh each add-on's i18n/<addon>.pot from a database and merge it into i18n/zh_CN.po.

Run inside the project's virtualenv, against a database with the four add-ons and demo data installed
(``./shoplog run`` makes one)::

    .venv/bin/python tools/i18n_sync.py [--database shop_logistics_demo] [addon ...]

Existing translations are kept; new terms are added untranslated (the translation test then lists them);
terms that disappeared are dropped.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devctl  # noqa: E402


def merge(pot_path, po_path):
    pot = polib.pofile(str(pot_path))
    old = {entry.msgid: entry for entry in polib.pofile(str(po_path))} if po_path.exists() else {}
    po = polib.POFile(wrapwidth=pot.wrapwidth)
    po.metadata = dict(pot.metadata, Language="zh_CN", **{"Plural-Forms": "nplurals=1; plural=0;"})
    untranslated = 0
    for entry in pot:
        entry.msgstr = old[entry.msgid].msgstr if entry.msgid in old else ""
        untranslated += not entry.msgstr
        po.append(entry)
    po.save(str(po_path))
    return len(po), untranslated


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=devctl.DEMO_DB)
    parser.add_argument("addons", nargs="*", default=devctl.OUR_ADDONS)
    args = parser.parse_args()
    odoo_src = devctl.find_odoo_source()
    for addon in args.addons:
        i18n = devctl.ADDONS_DIR / addon / "i18n"
        i18n.mkdir(exist_ok=True)
        pot = i18n / f"{addon}.pot"
        command = devctl.odoo_command(
            odoo_src, "-d", args.database, f"--i18n-export={pot}", f"--modules={addon}",
            "--stop-after-init", "--no-http", "--log-level=warn",
        )
        subprocess.run(command, cwd=devctl.ROOT, check=True)
        total, untranslated = merge(pot, i18n / "zh_CN.po")
        print(f"{addon}: {total} terms, {untranslated} without zh_CN translation")


if __name__ == "__main__":
    main()
