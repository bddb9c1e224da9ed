"""Benchmark: an order paid on a platform → a sale order in Odoo, by webhook, at a steady rate.

    .venv/bin/python bench/bench_platform_webhook.py [--rate 20] [--duration 30] [--platform douyin] [--threads 100]

Odoo runs as its own server (odoo-bin, ``odoo.conf`` as ``./shoplog run`` uses it: threaded, ``workers = 0``,
unless ``--workers`` says otherwise; no cron thread, so that no scheduled pull runs beside the pushes) on a free
port against the database ``shop_logistics_bench``. A platform simulator in this process has ``rate × duration``
paid orders and its webhook pointed at ``/platform/push/<shop code>`` of a shop with auto-confirm and SKU mappings
for every line. Orders are pushed on a fixed schedule (``rate`` per second, open loop) from ``--threads`` threads;
Douyin's push carries the order id only, so Odoo reads the order back from the simulator before answering, as it
does in production. The push's HTTP answer comes after Odoo committed the order.

Odoo answers a push once the payload is committed in its inbox; the queue_job runner of that server then runs the
inbox job (the payloads become sale orders, a batch per transaction) and the confirmation job (deliveries).

The first 3 seconds of pushes at the same rate are a warm-up (each Odoo worker loads its registry, the jobs start);
the measure starts once they are all confirmed.

For each order: the push round trip (from the simulator's push to Odoo's answer), the time from the push until the
sale order is visible in the database from another connection, and until it is confirmed (a watcher looks every
20 ms). Target (issue #4): visible p95 under 2 s at 20 orders/s. At the end every order must be a confirmed sale
order with an outgoing delivery; payloads the connector kept in its inbox with an error are listed.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import BENCH_DB, configure_odoo, ensure_bench_database  # noqa: E402
from bench_platform_import import make_catalogue, make_shop  # noqa: E402

WARM_UP_SECONDS = 3


def wait_confirmed(shop_id, order_ids, timeout=180):
    """Wait until the given orders are confirmed sale orders (the warm-up drained); whether they all are."""
    import psycopg2

    deadline = time.monotonic() + timeout
    with psycopg2.connect(dbname=BENCH_DB) as connection, connection.cursor() as cursor:
        connection.autocommit = True
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM sale_order WHERE shop_id = %s AND state = 'sale' AND platform_order_id = ANY(%s)",
                (shop_id, list(order_ids)),
            )
            if cursor.fetchone()[0] == len(order_ids):
                return True
            time.sleep(0.2)
    return False


class SimulatorCredentials:
    """What make_shop reads, from a simulator running in this process."""

    def __init__(self, sim):
        self.code, self.base_url, self.app_key, self.app_secret = sim.code, sim.base_url, sim.app_key, sim.app_secret
        self.access_token, self.refresh_token = sim.tokens.access_token, sim.tokens.refresh_token
        self.push_secret = sim.push_secret()


def start_odoo(odoo_src, port, workers, database=BENCH_DB, log_name="bench-webhook-odoo.log", db_filter=True):
    """Odoo serving ``database`` as ``./shoplog run`` does (``-d`` and ``--db-filter``); without ``db_filter``, by
    ``-d`` alone (Odoo then knows the database without listing them for each request that has no session yet)."""
    log_file = devctl.VAR / log_name
    args = [
        "-d", database, f"--http-port={port}", f"--gevent-port={devctl._free_port()}",
        "--max-cron-threads=0", f"--logfile={log_file}", "--log-level=warn",
    ]
    if db_filter:
        args.append(f"--db-filter=^{database}$")
    if workers is not None:
        args.append(f"--workers={workers}")
    log_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        devctl.odoo_command(odoo_src, *args), cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 180
    # Odoo that could not start (its port was taken meanwhile) exits: no need to wait for the deadline then, nor
    # to take the answer of whatever server took the port for its own.
    while True:
        answered = devctl._wait_http(f"http://127.0.0.1:{port}/web/login", timeout=2)
        if answered:
            time.sleep(1)
        if process.poll() is not None or time.monotonic() > deadline:
            stop_odoo(process)
            raise SystemExit(f"Odoo did not answer on port {port}, see {log_file}")
        if answered:
            return process


def stop_odoo(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # it had stopped already
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


def push_all(sim, order_ids, rate, threads, shop_id):
    """Push every order at its slot of a fixed schedule; returns one result dict per order and the time taken."""
    import psycopg2

    results = [None] * len(order_ids)
    pending = {}  # platform order id -> push start, until the order is seen confirmed in the database
    seen, confirmed = {}, {}
    next_index = iter(range(len(order_ids)))
    lock = threading.Lock()
    pushing_done = threading.Event()
    started = time.perf_counter() + 0.5

    def pusher():
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            scheduled = started + index / rate
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            push_start = time.perf_counter()
            with lock:
                pending[order_ids[index]] = push_start
            try:
                status, body = sim.push(order_ids[index], "paid")
            except Exception as error:  # noqa: BLE001 - reported as an error of this push
                status, body = None, repr(error)
            results[index] = {
                "lag": push_start - scheduled,
                "push": time.perf_counter() - push_start,
                "accepted": sim.push_accepted(status, body),
                "status": status,
                "body": body,
            }

    def watcher():
        """Every 20 ms, which pushed orders exist in the database (seen from its own connection)."""
        connection = psycopg2.connect(dbname=BENCH_DB)
        connection.autocommit = True
        deadline = None
        with connection, connection.cursor() as cursor:
            while True:
                with lock:
                    wanted = list(pending)
                if wanted:
                    cursor.execute(
                        "SELECT platform_order_id, state FROM sale_order "
                        "WHERE shop_id = %s AND platform_order_id = ANY(%s)",
                        (shop_id, wanted),
                    )
                    now = time.perf_counter()
                    with lock:
                        for order_id, state in cursor.fetchall():
                            seen.setdefault(order_id, now - pending[order_id])
                            if state == "sale":
                                confirmed[order_id] = now - pending.pop(order_id)
                if pushing_done.is_set():
                    deadline = deadline or time.perf_counter() + 300  # the confirmations catch up
                    if not pending or time.perf_counter() > deadline:
                        break
                time.sleep(0.02)
        connection.close()

    watch = threading.Thread(target=watcher, daemon=True)
    watch.start()
    pool = [threading.Thread(target=pusher, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    pushing_done.set()
    watch.join()
    for order_id, result in zip(order_ids, results):
        result["visible"] = seen.get(order_id)
        result["confirmed"] = confirmed.get(order_id)
    return results, elapsed


def check_orders(shop_id):
    import psycopg2

    with psycopg2.connect(dbname=BENCH_DB) as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE so.state = 'sale' AND EXISTS (
                       SELECT 1 FROM stock_picking p JOIN stock_picking_type t ON t.id = p.picking_type_id
                        WHERE p.sale_id = so.id AND t.code = 'outgoing')),
                   count(*)
              FROM sale_order so
             WHERE so.shop_id = %s
            """,
            (shop_id,),
        )
        confirmed, total = cursor.fetchone()
        cursor.execute(
            "SELECT state, error FROM logistics_platform_inbox WHERE shop_id = %s AND state != 'done' ORDER BY id",
            (shop_id,),
        )
        return confirmed, total, cursor.fetchall()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="orders pushed per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of pushing")
    parser.add_argument("--platform", default="douyin", help="a platform that pushes over HTTP (default: douyin)")
    parser.add_argument(
        "--threads", type=int, default=100, help="pushing threads (enough to keep the schedule when pushes time out)"
    )
    parser.add_argument("--workers", type=int, help="Odoo prefork workers (default: odoo.conf's, 0 = threaded)")
    parser.add_argument("--timeline", action="store_true", help="also print the worst visible time per 5 s of pushes")
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    from tests.simulators.platforms import make_simulator

    configure_odoo(odoo_src, BENCH_DB)
    sim = make_simulator(args.platform).start()
    if sim.PUSH_CHANNEL != "http":
        raise SystemExit(
            f"{args.platform} does not push over HTTP; use douyin, shopify, jd, kuaishou, youzan or woocommerce"
        )
    count = int(args.rate * args.duration)
    warm_up = int(args.rate * WARM_UP_SECONDS)
    sim.generate_orders(warm_up + count, seed=20)
    order_ids = list(sim.records)
    tag = time.strftime("%H%M%S")
    port = devctl._free_port()
    code = f"BENCH-WH-{tag}"
    registry = Registry(BENCH_DB)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        warehouse, products = make_catalogue(env, tag)
        shop_id = make_shop(env, SimulatorCredentials(sim), code, warehouse, products, sync_enabled=True).id
        cr.commit()
    sim.webhook_url = f"http://127.0.0.1:{port}/platform/push/{code}"

    server = start_odoo(odoo_src, port, args.workers)
    try:
        # Warm-up: a few seconds of pushes at the same rate (every worker loads its registry, the jobs start),
        # then wait until they are all confirmed, so that the measure starts from a drained queue.
        warm, _elapsed = push_all(sim, order_ids[:warm_up], args.rate, args.threads, shop_id)
        if not all(result["accepted"] for result in warm):
            raise SystemExit(f"warm-up pushes refused: {[r for r in warm if not r['accepted']][:2]}")
        if not wait_confirmed(shop_id, order_ids[:warm_up]):
            raise SystemExit("the warm-up orders were not all confirmed within 3 minutes")
        results, elapsed = push_all(sim, order_ids[warm_up:], args.rate, args.threads, shop_id)
    finally:
        stop_odoo(server)
        sim.stop()

    pushes = [r["push"] for r in results if r["accepted"]]
    visible = [r["visible"] for r in results if r["visible"] is not None]
    confirmed_after = [r["confirmed"] for r in results if r["confirmed"] is not None]
    lags = [r["lag"] for r in results]
    errors = [r for r in results if not r["accepted"]]
    confirmed, total, parked = check_orders(shop_id)

    def line(name, values):
        if not values:
            return f"  {name}: none"
        return (f"  {name}: p50 {percentile(values, 0.5) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms, "
                f"max {max(values) * 1000:.0f} ms")

    workers = "threaded (workers = 0)" if not args.workers else f"{args.workers} workers"
    print(f"{count} {args.platform} orders pushed at {args.rate:g}/s from {args.threads} threads for "
          f"{args.duration:g} s (took {elapsed:.1f} s), Odoo {workers}")
    print(line("push round trip   ", pushes))
    print(line("visible in the DB ", visible))
    print(line("confirmed         ", confirmed_after))
    if args.timeline:
        buckets = {}
        for index, result in enumerate(results):
            if result["visible"] is not None:
                buckets.setdefault(int(index / args.rate) // 5 * 5, []).append(result["visible"])
        print("  visible by push time: " + ", ".join(
            f"{second}s: max {max(values) * 1000:.0f} ms" for second, values in sorted(buckets.items())))
    print(f"  start lag behind schedule: max {max(lags) * 1000:.0f} ms; "
          f"{len(results) - len(visible)} orders never seen in the database")
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]['status']} {errors[0]['body'][:200]})" if errors else ""))
    print(f"  {confirmed} of the shop's {total} orders ({warm_up} warm-up orders included) confirmed with an "
          "outgoing delivery")
    if parked:
        reasons = Counter((error or "").strip().splitlines()[0][:80] for _state, error in parked)
        print(f"  {len(parked)} payloads kept in the inbox with an error (platform answered success): "
              + "; ".join(f"{number} × {reason}" for reason, number in reasons.most_common(3)))
    complete = confirmed == total == count + warm_up
    ok = not errors and not parked and complete and visible and percentile(visible, 0.95) < 2.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
