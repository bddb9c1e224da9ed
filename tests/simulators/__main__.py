"""Start every simulator for the demo: ``python -m tests.simulators --state-file var/simulators.json``.

Ports match the demo data: printers on 9100-9102, KDNiao on 8701 with the demo's sandbox account. The state
file lists what listens where; the process runs until it is terminated.

KDNiao's clock runs on its own (``--kdniao-speed`` simulated hours per real minute, default 12: a parcel is
collected about 10 seconds after its waybill and a cross-country one is delivered within about 6 minutes),
and its pushes go to Odoo by themselves. ``POST /__sim__/advance`` and friends move it further by hand.
"""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .kdniao import KdniaoSimulator
from .platforms import make_simulator
from .printer import RawPrinter

DEMO_PRINTER_PORTS = (9100, 9101, 9102)
DEMO_KDNIAO_PORT = 8701
DEMO_KDNIAO_ACCOUNTS = {"test1234567": "sandbox-kdniao-api-key"}
DEMO_KDNIAO_PUSH_URL = "http://127.0.0.1:8069/kdniao/push"
DEMO_KDNIAO_SPEED = 12.0
# The demo shops (shop code -> platform, port); their credentials in the demo data are these simulators'.
DEMO_SHOPS = {
    "TM01": ("tmall", 8711),
    "TB01": ("taobao", 8712),
    "JD01": ("jd", 8713),
    "DY01": ("douyin", 8714),
    "PDD01": ("pinduoduo", 8715),
    "SPF01": ("shopify", 8716),
}
DEMO_ORDERS_PER_SHOP = 8
DEMO_WEBHOOK_URL = "http://127.0.0.1:8069/platform/push/{code}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-file", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--spool-dir", default=None, help="where printers keep the bytes of each job")
    parser.add_argument(
        "--printer-ports", default=",".join(map(str, DEMO_PRINTER_PORTS)), help="comma-separated; 0 picks a free port"
    )
    parser.add_argument("--kdniao-port", type=int, default=DEMO_KDNIAO_PORT, help="0 picks a free port")
    parser.add_argument("--kdniao-push-url", default=DEMO_KDNIAO_PUSH_URL, help="where KDNiao pushes tracks")
    parser.add_argument(
        "--kdniao-speed", type=float, default=DEMO_KDNIAO_SPEED,
        help="simulated hours per real minute (0: the clock only moves through POST /__sim__/advance)",
    )
    parser.add_argument("--no-shops", action="store_true", help="do not start the shop platform simulators")
    args = parser.parse_args()

    state_file = Path(args.state_file)
    spool = Path(args.spool_dir) if args.spool_dir else state_file.parent / "printer-spool"
    ports = [int(port) for port in args.printer_ports.split(",")]
    printers = [RawPrinter(args.host, port, spool).start() for port in ports]
    kdniao, kdniao_state = _start_kdniao(args)
    shops, shops_state = _start_shops(args) if not args.no_shops else ([], {})
    state = {
        "printers": [{"host": args.host, "port": p.port, "spool": str(spool)} for p in printers],
        "kdniao": kdniao_state,
        "shops": shops_state,
    }
    state_file.write_text(json.dumps(state, indent=2))
    print(f"simulators listening: {json.dumps(state)}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for printer in printers:
        printer.stop()
    if kdniao:
        kdniao.stop()
    for shop in shops:
        shop.stop()
    state_file.unlink(missing_ok=True)


def _start_kdniao(args):
    """The KDNiao simulator and its state entry; a taken port is reported, the printers still run."""
    push_urls = {ebusiness_id: args.kdniao_push_url for ebusiness_id in DEMO_KDNIAO_ACCOUNTS}
    kdniao = KdniaoSimulator(args.host, args.kdniao_port, DEMO_KDNIAO_ACCOUNTS, push_urls, auto_push=True)
    try:
        kdniao.start()
    except OSError as error:
        print(f"KDNiao simulator not started on {args.host}:{args.kdniao_port}: {error}", file=sys.stderr, flush=True)
        return None, {"error": f"{args.host}:{args.kdniao_port}: {error}"}
    if args.kdniao_speed > 0:
        kdniao.start_clock(args.kdniao_speed)
    state = {
        "url": kdniao.base_url,
        "host": args.host,
        "port": kdniao.port,
        "push_url": args.kdniao_push_url,
        "hours_per_minute": args.kdniao_speed,
    }
    return kdniao, state


def _start_shops(args):
    """One platform simulator per demo shop, with a few paid orders waiting to be pulled."""
    started, state = [], {}
    for code, (platform, port) in DEMO_SHOPS.items():
        sim = make_simulator(
            platform,
            access_token=f"demo-{code.lower()}-token",
            refresh_token=f"demo-{code.lower()}-refresh",
            webhook_url=DEMO_WEBHOOK_URL.format(code=code),
            host=args.host,
            port=port,
        )
        try:
            sim.start()
        except OSError as error:
            state[code] = {"error": f"{args.host}:{port}: {error}"}
            continue
        sim.generate_orders(DEMO_ORDERS_PER_SHOP, seed=port)
        started.append(sim)
        state[code] = {"platform": platform, "url": sim.base_url, "webhook_url": sim.webhook_url}
    return started, state


if __name__ == "__main__":
    main()
