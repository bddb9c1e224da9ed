"""Benchmark: the public tracking page (``/track``) with 50 buyers looking up their parcels at the same time.

    .venv/bin/python bench/bench_tracking_page.py [--shipments 3000] [--clients 50] [--duration 30] [--think 1]
                                                   [--workers N] [--keep-alive] [--db-name-only]

Odoo runs as its own server (odoo-bin with ``odoo.conf``, as ``bench_platform_webhook.start_odoo`` starts it:
threaded unless ``--workers`` says otherwise, no cron thread) on a free port against ``shop_logistics_bench_page``
(the four add-ons, rebuilt when they changed).
Before it starts, ``--shipments`` deliveries of a Taobao shop are written through the ORM: a sale order with its
platform order id, a receiver with a mobile, a waybill, a logistics state and 3 to 12 track events each (or those
of an earlier run are looked up again, when the database was not rebuilt since).

Each of ``--clients`` threads plays buyers one after the other for ``--duration`` seconds. A buyer opens the page
(``GET /track``, which gives the session cookie and the CSRF token of the form), waits ``--think`` seconds
(typing), posts the form (``POST /track`` with the waybill, the order number or the platform order number, at
random, and the last 4 digits of the phone), then waits ``--think`` seconds again (reading). One buyer in 20 first
types wrong digits (answered 404) and then the right ones. Each request has its own connection, as when Odoo sits
behind a reverse proxy; ``--keep-alive`` keeps one per buyer, as a browser talking to Odoo directly does (the
threaded server then holds one of its 32 request threads per open connection, idle ones included).

``--db-name-only`` starts Odoo with ``-d`` alone: with ``--db-filter`` (as ``./shoplog run`` and the other benchmarks
start it) or neither, Odoo lists the databases, on a new PostgreSQL connection, for each request of a visitor who
has no session with a database yet, which every public request is.

Every buyer comes from its own loopback address (127.x.y.z, all of 127.0.0.0/8 is the loopback interface on
Linux). ``odoo.conf`` has ``proxy_mode = False``, so the page's rate limiter (10 failed lookups per address in 10
minutes) keys on the TCP peer address and sees the buyers as different clients: the lookups measured are real
lookups, not 429 answers, and the limiter's own query and insert are part of each lookup. No setting is changed
for the benchmark.

Reported: p50 / p95 / max of the lookups (the POST), of the form (the GET) and of both; requests per second;
errors (transport errors, unexpected status, a found parcel without its waybill on the page, any 429).
Target (issue #7): lookups p95 under 200 ms with 50 concurrent clients.
"""

import argparse
import http.client
import random
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import configure_odoo, ensure_bench_database  # noqa: E402
from bench_platform_webhook import percentile, start_odoo, stop_odoo  # noqa: E402
from bench_shipments import pick_share, shop_deliveries  # noqa: E402

# Its own database (the four add-ons), so that other benchmarks rebuilding theirs do not pull it away.
BENCH_DB = "shop_logistics_bench_page"
WARM_UP = 20
MISTYPED_SHARE = 0.05
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATES = [
    (0.10, "handed_over"),
    (0.45, "in_transit"),
    (0.15, "out_for_delivery"),
    (0.22, "delivered"),
    (0.05, "exception"),
    (0.03, "returned"),
]
CITIES = [
    ("北京市", "base.state_cn_BJ", "朝阳区"),
    ("上海市", "base.state_cn_SH", "浦东新区"),
    ("广州市", "base.state_cn_GD", "天河区"),
    ("深圳市", "base.state_cn_GD", "南山区"),
    ("成都市", "base.state_cn_SC", "武侯区"),
    ("杭州市", "base.state_cn_ZJ", "余杭区"),
]
HUBS = ["杭州转运中心", "上海转运中心", "广州白云集散中心", "北京顺义集散中心", "成都双流转运中心", "武汉转运中心"]


def create_shipments(env, count, tag, seed=7):
    """``count`` deliveries of a Taobao shop with waybills and track events; returns what buyers would type:
    ``[(waybill, order name, platform order id, phone tail)]``."""
    rng = random.Random(seed)
    shop = env["logistics.shop"].create({"name": f"淘宝 bench {tag}", "code": f"TP{tag}", "platform": "taobao"})
    carrier = env["delivery.carrier"].create(
        {
            "name": "中通快递 ZTO",
            "delivery_type": "fixed",
            "product_id": env["product.product"].create({"name": f"ZTO freight {tag}", "type": "service"}).id,
        }
    )
    product = env["product.product"].create({"name": f"保温杯 bench {tag}", "type": "consu", "weight": 0.4})
    rows = []
    chunks = shop_deliveries(
        env, shop, product, CITIES, count, tag, rng,
        lambda index: {"carrier_id": carrier.id, "waybill_number": f"7{tag}{index:07d}"},
    )
    for orders, pickings in chunks:
        now = time.time()
        events = []
        for picking in pickings:
            picking.logistics_state = pick_share(rng, STATES, "in_transit")
            shipped = now - rng.uniform(1, 6) * 86400
            for number in range(rng.randint(3, 12)):
                events.append(
                    {
                        "picking_id": picking.id,
                        "waybill_number": picking.waybill_number,
                        "event_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(shipped + number * 7200)),
                        "status": "collected" if number == 0 else "in_transit",
                        "location": rng.choice(HUBS),
                        "description": "快件已揽收" if number == 0 else f"快件到达 {rng.choice(HUBS)}",
                        "source": "push",
                    }
                )
        env["logistics.shipment.event"].create(events)
        rows += [
            (picking.waybill_number, order.name, order.platform_order_id, picking.receiver_phone_tail)
            for picking, order in zip(pickings, orders)
            if picking.sale_id == order
        ]
        env.cr.commit()
    if len(rows) != count or not all(tail for _waybill, _order, _platform_order, tail in rows):
        raise SystemExit("some deliveries have no order or no phone tail: the bench data is wrong")
    return rows


def earlier_shipments(env, count):
    """The parcels of the latest earlier run with at least ``count`` shipments (the database is rebuilt when the
    add-ons change): ``(rows, tag)``, or ``([], None)``."""
    shop = env["logistics.shop"].search(
        [("code", "=like", "TP%"), ("name", "=like", "淘宝 bench %")], order="id desc", limit=1
    )
    if not shop:
        return [], None
    env.cr.execute(
        """SELECT p.waybill_number, s.name, s.platform_order_id, p.receiver_phone_tail
             FROM stock_picking p JOIN sale_order s ON s.id = p.sale_id
            WHERE s.shop_id = %s ORDER BY p.id LIMIT %s""",
        (shop.id, count),
    )
    rows = env.cr.fetchall()
    return (rows, shop.code[2:]) if len(rows) == count else ([], None)


class Buyer:
    """One buyer: their own loopback address, their own session; opens the page, then looks the parcel up."""

    def __init__(self, port, address, keep_alive=False):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(address, 0))
        self.cookie = None
        self.keep_alive = keep_alive

    def request(self, method, path, body=None):
        headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
        if not self.keep_alive:
            headers["Connection"] = "close"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - started
        cookie = response.getheader("Set-Cookie")
        if cookie and cookie.startswith("session_id="):
            self.cookie = cookie.split(";", 1)[0]
        if not self.keep_alive:
            self.connection.close()
        return response.status, page, elapsed

    def open_form(self):
        status, page, elapsed = self.request("GET", "/track")
        match = CSRF.search(page)
        return status, (match.group(1) if match else None), elapsed

    def look_up(self, number, digits, token):
        body = urllib.parse.urlencode({"number": number, "phone_tail": digits, "csrf_token": token})
        return self.request("POST", "/track", body)

    def close(self):
        self.connection.close()


def address(number):
    """The ``number``-th buyer's address in 127.0.0.0/8 (all of it is the loopback interface on Linux)."""
    return f"127.{number // 62500 % 250 + 1}.{number // 250 % 250 + 1}.{number % 250 + 1}"


def play_buyer(port, number, parcel, rng, think, results, lock, keep_alive=False):
    waybill, order, platform_order, tail = parcel
    typed = rng.choice((waybill, waybill, order, platform_order))
    attempts = [(typed, tail)]
    if rng.random() < MISTYPED_SHARE:
        attempts.insert(0, (typed, f"{(int(tail) + 1) % 10000:04d}"))
    buyer = Buyer(port, address(number), keep_alive)
    try:
        status, token, elapsed = buyer.open_form()
        record(results, lock, "form", elapsed, None if status == 200 and token else f"form answered {status}")
        for index, (number_typed, digits) in enumerate(attempts):
            time.sleep(think)
            status, page, elapsed = buyer.look_up(number_typed, digits, token)
            expected = 404 if digits != tail else 200
            error = None
            if status != expected:
                error = f"lookup answered {status}, expected {expected}"
            elif status == 200 and waybill not in page:
                error = "parcel page without its waybill"
            record(results, lock, "lookup" if index == len(attempts) - 1 else "lookup_mistyped", elapsed, error)
        time.sleep(think)
    except (OSError, http.client.HTTPException) as error:
        record(results, lock, "transport", 0.0, repr(error))
    finally:
        buyer.close()


def record(results, lock, kind, elapsed, error):
    with lock:
        results.append((kind, elapsed, error))


def server_cpu(pid):
    """CPU seconds used so far by the Odoo server and its workers."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_clients(port, parcels, clients, duration, think, seed, first_buyer, keep_alive=False):
    results, lock = [], threading.Lock()
    counter = iter(range(first_buyer, first_buyer + 10**6))
    deadline = time.perf_counter() + duration

    def client(index):
        rng = random.Random(seed * 1000 + index)
        while time.perf_counter() < deadline:
            with lock:
                number = next(counter)
            play_buyer(port, number, rng.choice(parcels), rng, think, results, lock, keep_alive)

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=3000, help="deliveries with waybills and track events")
    parser.add_argument("--clients", type=int, default=50, help="buyers at the same time")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of looking up")
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds a buyer types before and reads after a lookup"
    )
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="a buyer keeps one connection for the form and the lookup, as a browser talking to Odoo directly "
        "(default: a connection per request, as through the reverse proxy of a production set-up)",
    )
    parser.add_argument(
        "--db-name-only",
        action="store_true",
        help="serve the database by -d alone, without --db-filter: Odoo then does not list the databases (a new "
        "PostgreSQL connection) for each request of a visitor without a session",
    )
    parser.add_argument("--workers", type=int, help="Odoo prefork workers (default: odoo.conf's, 0 = threaded)")
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src, BENCH_DB)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    configure_odoo(odoo_src, BENCH_DB)
    started = time.perf_counter()
    with Registry(BENCH_DB).cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        parcels, tag = earlier_shipments(env, args.shipments)
        if parcels:
            print(f"{len(parcels)} shipments of an earlier run (shop TP{tag}) looked up again")
        else:
            tag = time.strftime("%H%M%S")
            parcels = create_shipments(env, args.shipments, tag)
            print(f"{len(parcels)} shipments written in {time.perf_counter() - started:.0f} s")
        cr.execute("SELECT count(*) FROM logistics_shipment_event WHERE waybill_number LIKE %s", (f"7{tag}%",))
        (events,) = cr.fetchone()
        cr.execute("SELECT count(*), (SELECT count(*) FROM logistics_shipment_event) FROM stock_picking")
        all_pickings, all_events = cr.fetchone()
    print(f"  their {events} track events; {all_pickings} deliveries and {all_events} events in the database")

    for attempt in range(3):  # a free port can be taken by another program before Odoo binds it
        port = devctl._free_port()
        try:
            server = start_odoo(
                odoo_src, port, args.workers, database=BENCH_DB, log_name="bench-tracking-page-odoo.log",
                db_filter=not args.db_name_only,
            )
            break
        except SystemExit:
            if attempt == 2:
                raise
    # Buyers of earlier runs (within the limiter's 10 minutes) must not be the same addresses: each run starts
    # somewhere else in the 15 million addresses.
    first_buyer = random.SystemRandom().randrange(250**3 - 10**6)
    try:
        rng = random.Random(1)
        warm = []
        play = [
            threading.Thread(
                target=play_buyer,
                args=(port, first_buyer + n, rng.choice(parcels), random.Random(n), 0, warm, threading.Lock()),
            )
            for n in range(WARM_UP)
        ]
        for thread in play:
            thread.start()
        for thread in play:
            thread.join()
        cpu_before = server_cpu(server.pid)
        results, elapsed = run_clients(
            port, parcels, args.clients, args.duration, args.think, seed=2, first_buyer=first_buyer + WARM_UP,
            keep_alive=args.keep_alive,
        )
        cpu = server_cpu(server.pid) - cpu_before
    finally:
        stop_odoo(server)

    def line(name, kinds):
        values = [elapsed for kind, elapsed, error in results if kind in kinds and not error]
        if not values:
            return f"  {name}: none"
        return (f"  {name}: {len(values)}, p50 {percentile(values, 0.5) * 1000:.0f} ms, "
                f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")

    errors = [(kind, error) for kind, _elapsed, error in results if error]
    lookups = [elapsed for kind, elapsed, error in results if kind == "lookup" and not error]
    workers = "threaded (workers = 0)" if not args.workers else f"{args.workers} workers"
    workers += ", -d without --db-filter" if args.db_name_only else ", -d and --db-filter as ./shoplog run"
    connections = "one connection per buyer" if args.keep_alive else "a connection per request"
    print(f"{args.clients} buyers for {args.duration:g} s (took {elapsed:.1f} s), think time {args.think:g} s, "
          f"{connections}, Odoo {workers}; each buyer on its own loopback address (proxy_mode is off: the rate "
          "limiter sees them as different clients)")
    print(line("lookups (POST /track)       ", {"lookup"}))
    print(line("mistyped lookups (404)      ", {"lookup_mistyped"}))
    print(line("form (GET /track)           ", {"form"}))
    print(line("all requests                ", {"lookup", "lookup_mistyped", "form"}))
    print(f"  {len(results) / elapsed:.1f} requests/s; Odoo CPU {cpu * 1000 / max(1, len(results)):.1f} ms a request; "
          f"errors: {len(errors)}"
          + (f" (first: {errors[0][0]}: {errors[0][1]})" if errors else ""))
    return 0 if lookups and not errors and percentile(lookups, 0.95) < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
