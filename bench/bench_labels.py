"""Render 1,000 e-waybill labels to one PDF and to ESC/POS, TSPL and ZPL jobs, send each printer job to a
loopback raw TCP printer (tests/simulators/printer.py) and check it arrived whole; print the timings.

Runs without Odoo: label_render.py is loaded by file path.
    .venv/bin/python bench/bench_labels.py [--count 1000] [--layout 100x150] [--dpi 203]
"""

import argparse
import importlib.util
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_PATH = ROOT / "addons" / "label_printing" / "label_render.py"
TRANSPORT_PATH = ROOT / "addons" / "label_printing" / "printer_transport.py"


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_label_render():
    return load_module("label_render", MODULE_PATH)


def send_to_loopback_printer(transport, payload):
    """Seconds to send ``payload`` as one raw job to a fake printer on 127.0.0.1, checked byte for byte."""
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.simulators.printer import RawPrinter

    printer = RawPrinter().start()
    try:
        address = transport.PrinterAddress(connection="network", host="127.0.0.1", port=printer.port)
        started = time.perf_counter()
        transport.send(address, payload)
        if not printer.wait_for_jobs(1, timeout=60):
            raise RuntimeError("the loopback printer received nothing")
        elapsed = time.perf_counter() - started
        if printer.jobs[0] != payload:
            raise RuntimeError("the loopback printer received other bytes than sent")
        return elapsed
    finally:
        printer.stop()


def sample_labels(label_render, count):
    return [
        label_render.LabelData(
            waybill=f"7731{index:011d}",
            express_code="ZTO",
            express_name="中通快递",
            mark_destination="闽-厦-美",
            sorting_code=f"830-{index % 1000:03d}-00 012",
            package_name="厦门转运中心",
            sender={
                "name": "杭州优品旗舰店",
                "phone": "0571-88886666",
                "province": "浙江省",
                "city": "杭州市",
                "district": "余杭区",
                "address": "仓前街道文一西路1888号",
            },
            receiver={
                "name": "王小明",
                "phone": f"138{index:08d}",
                "province": "福建省",
                "city": "厦门市",
                "district": "湖里区",
                "address": f"科技园路{index % 200}号{index % 12 + 1}栋{index % 4 + 1}单元{index % 30 + 101}室",
            },
            goods_summary="羊毛围巾 ×2，保温杯 ×1",
            remark="请放快递柜，勿电联",
            order_ref=f"SO2026{index:08d}",
            printed_at=datetime(2026, 11, 23, 14, 5),
        )
        for index in range(count)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--layout", default="100x150")
    parser.add_argument("--dpi", type=int, default=203)
    args = parser.parse_args()

    label_render = load_label_render()
    transport = load_module("printer_transport", TRANSPORT_PATH)
    labels = sample_labels(label_render, args.count)
    label_render.render_batch(labels[:2], "pdf", args.layout)  # font registration and caches, not measured
    label_render.render_batch(labels[:2], "tspl", args.layout, args.dpi)
    print(f"{args.count} labels, layout {args.layout}, {args.dpi} dpi for printer jobs, masked receivers")
    for fmt in label_render.FORMATS:
        started = time.perf_counter()
        payload = label_render.render_batch(labels, fmt, args.layout, args.dpi, masked=True)
        elapsed = time.perf_counter() - started
        sent = "" if fmt == "pdf" else f"  sent to the loopback printer in {send_to_loopback_printer(transport, payload):5.2f} s"
        print(
            f"{fmt:>7}: {elapsed:6.2f} s  {elapsed / args.count * 1000:5.1f} ms/label  "
            f"{len(payload) / 1e6:7.1f} MB{sent}"
        )


if __name__ == "__main__":
    main()
