"""Benchmark: the scheduled track refresh of 10,000 undelivered KDNiao shipments, end to end.

    .venv/bin/python bench/bench_tracking_refresh.py [--count 10000] [--hours 40] [--latency 0]

Runs in Odoo on the database ``shop_logistics_bench_refresh`` (the four add-ons, rebuilt when they changed), with the
KDNiao simulator (``tests/simulators/kdniao.py``) in this process, spoken to over HTTP.

Set-up (not measured): ``--count`` deliveries of a Taobao shop (its buyer notifications switched on, as by default)
from the Hangzhou warehouse to buyers all over China, with their KDNiao ZTO waybills: each 1007 request is built by
``stock.picking._kdniao_waybill_request()`` (not subscribed: pushes are another path) and sent to the simulator over
HTTP, the deliveries are then written as handed to the carrier and validated (SQL). Most parcels follow the
simulator's normal journey, a few fail delivery, wait in a locker, have an address problem or are refused. The
simulator's clock, started ``--hours`` + 12 hours ago, moves ``--hours`` on: same-province parcels are delivered by
then, the others are on their way.

Measured: what the scheduled action does. ``stock.picking._cron_kdniao_refresh_tracks()`` queues the query jobs
(100 shipments each, channel ``root.tracking``); each job is then run in this process as the queue_job runner runs
it (``Job.load(env, uuid)``, started, ``perform()``, done, committed), one after the other as the channel's
capacity of 1 does: 8001 queries to the simulator (8 in flight per job), every answer's traces stored as track
events once, states moved (delivered, out for delivery, exceptions with their tickets), buyer notifications queued.
Then the simulator's clock moves 12 hours on, the shipments are due again 30 minutes later (their check times are
moved back) and the refresh runs a second time: every answer repeats the traces already stored, which must be
skipped. KDNiao documents 20 queries a second per account for 8001; the simulator's limit is switched off, as in
``bench_kdniao_waybills.py``: 10,000 queries a minute need a negotiated rate.

Reported for each run: the time, the 8001 calls, the events stored, the duplicates among the events (same waybill,
time, status, place and text; must be 0), the shipments' states. Target (issue #7): 10,000 shipments in under 60 s.
"""

import argparse
import random
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import API_KEY, EBUSINESS_ID, configure_odoo, ensure_bench_database  # noqa: E402
from bench_shipments import pick_share, shop_deliveries  # noqa: E402

BENCH_DB = "shop_logistics_bench_refresh"
# (city, state xmlid, district): from a Hangzhou warehouse, 24 h in Zhejiang, 48 h to the neighbours, 72 h further
# and 96 h to the remote provinces in the simulator.
DESTINATIONS = [
    ("杭州市", "base.state_cn_ZJ", "西湖区"),
    ("宁波市", "base.state_cn_ZJ", "鄞州区"),
    ("上海市", "base.state_cn_SH", "浦东新区"),
    ("南京市", "base.state_cn_JS", "鼓楼区"),
    ("合肥市", "base.state_cn_AH", "蜀山区"),
    ("北京市", "base.state_cn_BJ", "朝阳区"),
    ("广州市", "base.state_cn_GD", "天河区"),
    ("成都市", "base.state_cn_SC", "武侯区"),
    ("武汉市", "base.state_cn_HB", "洪山区"),
    ("乌鲁木齐市", "base.state_cn_XJ", "天山区"),
]
SCENARIOS = [(0.90, "normal"), (0.03, "failed_delivery"), (0.03, "locker"), (0.02, "address_problem"),
             (0.02, "rejected")]
SEED_PARALLEL = 16


def make_carrier(env, simulator, tag):
    account = env["kdniao.account"].search([("ebusiness_id", "=", EBUSINESS_ID)], limit=1) or env[
        "kdniao.account"
    ].create({"name": "Bench", "ebusiness_id": EBUSINESS_ID, "api_key": API_KEY})
    account.write({"api_url": simulator.base_url, "paid_tracking": True, "track_refresh_minutes": 30})
    service = env["product.product"].create({"name": f"ZTO refresh bench {tag}", "type": "service"})
    carrier = env["delivery.carrier"].create(
        {
            "name": f"中通快递 ZTO {tag}",
            "delivery_type": "kdniao",
            "product_id": service.id,
            "kdniao_return_template": False,
            "kdniao_predict_delivery": False,
        }
    )
    return env["logistics.carrier.account"].create(
        {
            "name": f"ZTO {tag}",
            "carrier_id": carrier.id,
            "express_code": "ZTO",
            "kdniao_account_id": account.id,
            "kdniao_customer_name": "testzto",
            "kdniao_customer_pwd": "testztopwd",
        }
    )


def create_deliveries(env, account, count, tag, rng):
    """``count`` outgoing deliveries of sale orders of a Taobao shop, shipped with ``account``, not yet issued."""
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    warehouse.partner_id.write(
        {"street": "余杭区文一西路100号", "city": "杭州市", "state_id": env.ref("base.state_cn_ZJ").id,
         "phone": "0571-88886666"}
    )
    shop = env["logistics.shop"].create({"name": f"淘宝 refresh bench {tag}", "code": f"TR{tag}", "platform": "taobao"})
    product = env["product.product"].create(
        {"name": f"保温杯 refresh {tag}", "default_code": f"BENCH-R{tag}", "type": "consu", "weight": 0.4}
    )
    pickings = env["stock.picking"]
    chunks = shop_deliveries(
        env, shop, product, DESTINATIONS, count, f"R{tag}", rng,
        lambda _index: {"carrier_id": account.carrier_id.id, "carrier_account_id": account.id},
    )
    for _orders, batch in chunks:
        for picking in batch:
            picking.kdniao_order_code = picking._kdniao_new_order_code()
        env.cr.commit()
        pickings |= batch
    return pickings


def issue_in_simulator(env, pickings, account, simulator, hours, rng):
    """Each delivery's real 1007 request sent to the simulator over HTTP; the waybills written on the deliveries as
    handed to the carrier. Returns ``{scenario: count}``."""
    client = account.kdniao_account_id._client()
    # Not subscribed: the simulator would queue a push per change for them (pushes are another path than this one).
    payloads = [dict(picking._kdniao_waybill_request(account), IsSubscribe="0") for picking in pickings]
    with ThreadPoolExecutor(SEED_PARALLEL) as pool:
        answers = list(pool.map(client.create_waybill, payloads))
    waybills = [answer["Order"]["LogisticCode"] for answer in answers]
    scenarios = Counter()
    for waybill in waybills:
        scenario = pick_share(rng, SCENARIOS, "normal")
        scenarios[scenario] += 1
        if scenario != "normal":
            simulator.set_scenario(waybill, scenario)
    env.flush_all()
    env.cr.execute(
        """UPDATE stock_picking p
              SET waybill_number = v.waybill, carrier_tracking_ref = v.waybill, kdniao_subscribed = TRUE,
                  logistics_state = 'handed_over', logistics_state_date = now() AT TIME ZONE 'UTC',
                  logistics_label_printed_at = now() AT TIME ZONE 'UTC',
                  state = 'done', date_done = now() AT TIME ZONE 'UTC'
             FROM unnest(%s::int[], %s::varchar[]) AS v(id, waybill)
            WHERE p.id = v.id""",
        (pickings.ids, waybills),
    )
    # Validated when the carrier took them, as the hand-over does (the stock itself is not the point here).
    env.cr.execute("UPDATE stock_move SET state = 'done', quantity = product_uom_qty WHERE picking_id = ANY(%s)",
                   (pickings.ids,))
    env.invalidate_all()
    env.cr.commit()
    simulator.advance(hours)
    return scenarios


def run_refresh(env, simulator):
    """The scheduled action, then each job it queued as the runner runs it; returns (seconds, jobs, failed jobs)."""
    from odoo.addons.queue_job.job import Job

    calls_before = len(simulator.requests)
    env.cr.execute("SELECT coalesce(max(id), 0) FROM queue_job")
    (last_job,) = env.cr.fetchone()
    started = time.perf_counter()
    env["stock.picking"]._cron_kdniao_refresh_tracks()
    env.cr.commit()
    env.cr.execute(
        "SELECT uuid FROM queue_job WHERE id > %s AND method_name = '_kdniao_query_tracks_job' ORDER BY id",
        (last_job,),
    )
    uuids = [uuid for (uuid,) in env.cr.fetchall()]
    failed = []
    for uuid in uuids:
        job = Job.load(env, uuid)
        job.set_started()
        job.store()
        env.cr.commit()
        try:
            job.perform()
            env.flush_all()
            job.set_done()
            job.store()
            env.cr.commit()
        except Exception as error:  # noqa: BLE001 - a failed job is reported, the others still run
            env.cr.rollback()
            failed.append((uuid, repr(error)[:200]))
    elapsed = time.perf_counter() - started
    calls = sum(1 for request in simulator.requests[calls_before:] if request["request_type"] == "8001")
    return elapsed, len(uuids), calls, failed, last_job


def report(env, pickings, name, elapsed, jobs, calls, failed, last_job):
    env.cr.execute("SELECT count(*) FROM logistics_shipment_event WHERE picking_id = ANY(%s)", (pickings.ids,))
    (events,) = env.cr.fetchone()
    env.cr.execute(
        """SELECT count(*) FROM (
               SELECT 1 FROM logistics_shipment_event WHERE picking_id = ANY(%s)
                GROUP BY waybill_number, event_time, status, location, description HAVING count(*) > 1) AS twice""",
        (pickings.ids,),
    )
    (duplicates,) = env.cr.fetchone()
    env.cr.execute(
        "SELECT logistics_state, count(*) FROM stock_picking WHERE id = ANY(%s) GROUP BY 1 ORDER BY 2 DESC",
        (pickings.ids,),
    )
    states = ", ".join(f"{state} {number}" for state, number in env.cr.fetchall())
    env.cr.execute(
        "SELECT count(*) FROM stock_picking WHERE id = ANY(%s) AND kdniao_tracked_at IS NOT NULL "
        "AND kdniao_error IS NULL",
        (pickings.ids,),
    )
    (tracked,) = env.cr.fetchone()
    env.cr.execute("SELECT count(*) FROM logistics_ticket WHERE picking_id = ANY(%s)", (pickings.ids,))
    (tickets,) = env.cr.fetchone()
    env.cr.execute(
        "SELECT channel, count(*) FROM queue_job WHERE id > %s AND method_name != '_kdniao_query_tracks_job' "
        "GROUP BY 1 ORDER BY 1",
        (last_job,),
    )
    queued = ", ".join(f"{channel} {number}" for channel, number in env.cr.fetchall()) or "none"
    print(f"{name}: {len(pickings)} shipments refreshed in {elapsed:.2f} s ({elapsed * 1000 / len(pickings):.2f} s "
          f"per 1,000) by {jobs} jobs, {calls} 8001 calls; {tracked} tracked without error")
    print(f"  track events stored: {events} in all, duplicates: {duplicates}; tickets: {tickets}; "
          f"jobs queued meanwhile: {queued}")
    print(f"  states: {states}")
    if failed:
        print(f"  {len(failed)} jobs failed, first: {failed[0]}")
    return duplicates == 0 and not failed and tracked == len(pickings)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--hours", type=float, default=40.0, help="simulated hours between issuing and the refresh")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the simulator waits on every call")
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src, BENCH_DB)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    from tests.simulators.kdniao import KdniaoSimulator

    configure_odoo(odoo_src, BENCH_DB)
    # Odoo's own deprecation warnings (werkzeug.urls in mail) would print a stack per ticket.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # The simulator's clock reaches the present at the second refresh: the scans are in the past, as the exception
    # rules expect (KDNiao's times are read as they come, like the simulator writes them).
    simulator = KdniaoSimulator(
        accounts={EBUSINESS_ID: API_KEY}, start_time=datetime.utcnow() - timedelta(hours=args.hours + 12)
    ).start()
    simulator.rate_limits = {}
    rng = random.Random(11)
    tag = time.strftime("%H%M%S")
    ok = True
    try:
        with Registry(BENCH_DB).cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            started = time.perf_counter()
            account = make_carrier(env, simulator, tag)
            pickings = create_deliveries(env, account, args.count, tag, rng)
            scenarios = issue_in_simulator(env, pickings, account, simulator, args.hours, rng)
            print(f"set-up: {len(pickings)} deliveries with waybills in {time.perf_counter() - started:.0f} s; "
                  f"journeys: {dict(scenarios)}; simulator clock +{args.hours:g} h")
            if args.latency:
                simulator.inject("latency", seconds=args.latency, count=10 * args.count)

            ok &= report(env, pickings, "first refresh", *run_refresh(env, simulator))

            simulator.advance(12)
            cr.execute(
                "UPDATE stock_picking SET kdniao_tracked_at = kdniao_tracked_at - interval '31 minutes', "
                "kdniao_track_queued_at = kdniao_track_queued_at - interval '31 minutes' WHERE id = ANY(%s)",
                (pickings.ids,),
            )
            cr.commit()
            env.invalidate_all()
            due = pickings.filtered(lambda p: p.logistics_state not in ("delivered", "returned", "cancelled"))
            print(f"12 simulated hours later, {len(due)} shipments still undelivered and due again")
            ok &= report(env, due, "second refresh", *run_refresh(env, simulator))
    finally:
        simulator.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
