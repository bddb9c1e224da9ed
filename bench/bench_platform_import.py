"""Benchmark: paid platform orders pulled through the connector into confirmed sale orders, beside the raw ORM cost.

    .venv/bin/python bench/bench_platform_import.py [--count 10000] [--platform taobao] [--profile FILE] [--queries]

Runs in Odoo on the database ``shop_logistics_bench`` (made from the template database with the four add-ons
when missing or when the add-ons changed), with a real registry and cursor, against a platform simulator (its own
process) over real HTTP. Target (issue #4): the connector adds at most 25% to the raw cost of the same orders.

1. **Connector**: ``count`` paid orders wait on the simulator; ``logistics.shop._platform_pull()`` of a shop with
   auto-confirm and a SKU mapping for every catalogue SKU pulls them page by page (HTTP, signatures, parsing,
   payload inbox, receiver contact found or created, SKU mapping, sale order, confirmation and its delivery),
   all in one transaction as the pull job does, committed at the end.
2. **Raw ORM**: the same orders (read from the simulator beforehand, not timed) created through the ORM directly
   on a second shop with the same warehouse, a page (the platform's page size) at a time as the connector gets
   them: the page's new contacts in one ``res.partner.create`` (one per distinct receiver, as the connector's
   reuse gives), its orders in one ``sale.order.create`` with the same products, quantities, prices and freight
   lines and the order fields the core module keeps (shop, platform order id, status, buyer nick, remark and
   memo, paid and order dates), then ``action_confirm``; one commit at the end. What the raw path does not do is
   the connector's own work: platform calls and parsing, the payload inbox, the stored payload, the contact
   look-up and the SKU mappings.

The connector runs first, so that its contact look-up cannot reuse the raw path's contacts. Both paths are warmed
up on 20 orders of their own first. Times are wall clock and CPU (this process, every thread, plus its PostgreSQL
backend: steadier than the wall clock on a shared machine). Each path then checks that ``count`` orders of its
shop are confirmed with an outgoing delivery.
"""

import argparse
import cProfile
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import BENCH_DB, configure_odoo, ensure_bench_database  # noqa: E402

WARM_UP = 20


def make_catalogue(env, tag):
    """A storable product per simulator catalogue entry (internal references that are not the merchant codes, so
    every line goes through a SKU mapping), with stock: platform SKU id -> product."""
    from tests.simulators.platforms.sample_data import CATALOGUE

    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    products = {}
    for index, (title, spec, _code, price) in enumerate(CATALOGUE):
        product = env["product.product"].create(
            {
                "name": f"{title} {spec}",
                "default_code": f"BENCH-{tag}-{index}",
                "type": "consu",
                "is_storable": True,
                "list_price": float(price),
                "weight": 0.5,
            }
        )
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1_000_000)
        products[str(5000000000 + index * 7919)] = product
    return warehouse, products


SIMULATOR_PROCESS = """
import json, sys
sys.path.insert(0, {root!r})
from tests.simulators.platforms import make_simulator
sim = make_simulator({platform!r}).start()
sim.generate_orders({count!r}, seed={seed!r})
print(json.dumps({{"code": sim.code, "base_url": sim.base_url, "app_key": sim.app_key, "app_secret": sim.app_secret,
                  "access_token": sim.tokens.access_token, "refresh_token": sim.tokens.refresh_token,
                  "push_secret": sim.push_secret()}}), flush=True)
sys.stdin.read()
sim.stop()
"""


class SimulatorProcess:
    """A platform simulator with ``count`` paid orders, in a process of its own: the platform's own work (rendering
    and serving the orders) is not counted in the Odoo process's CPU time."""

    def __init__(self, platform, count, seed):
        code = SIMULATOR_PROCESS.format(root=str(ROOT), platform=platform, count=count, seed=seed)
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {platform} simulator did not start")
        for key, value in json.loads(line).items():
            setattr(self, key, value)

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


class CpuClock:
    """CPU seconds of this process (every thread) plus its PostgreSQL backend, read from /proc."""

    def __init__(self, cr):
        cr.execute("SELECT pg_backend_pid()")
        self.backend_stat = Path(f"/proc/{cr.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self):
        try:
            fields_ = self.backend_stat.read_text().rsplit(")", 1)[1].split()
            backend = (int(fields_[11]) + int(fields_[12])) / self.tick  # utime, stime
        except OSError:  # PostgreSQL on another host
            backend = 0.0
        return time.process_time() + backend


def make_shop(env, sim, code, warehouse, products, sync_enabled=False):
    """A shop connected to the simulator ``sim`` (anything with the simulator's code, base_url, app_key, app_secret,
    access_token, refresh_token and push_secret), auto-confirming, with a SKU mapping for every catalogue SKU."""
    from odoo import fields

    shop = env["logistics.shop"].create(
        {
            "name": f"Bench {code}",
            "code": code,
            "platform": sim.code,
            # Pulled by the benchmarks only: a server started on the bench database must not pull it on schedule.
            "sync_enabled": sync_enabled,
            "sync_interval": 24 * 60,
            "last_sync_at": fields.Datetime.now(),
            "auto_confirm": True,
            "warehouse_id": warehouse.id,
            "api_url": sim.base_url,
            "app_key": sim.app_key,
            "app_secret": sim.app_secret,
            "access_token": sim.access_token,
            "refresh_token": sim.refresh_token,
            "webhook_secret": sim.push_secret,
            "sync_overlap": 10,
        }
    )
    env["logistics.sku.mapping"].create(
        [
            {
                "shop_id": shop.id,
                "platform_sku_id": sku,
                "line_ids": [(0, 0, {"product_id": product.id, "quantity": 1})],
            }
            for sku, product in products.items()
        ]
    )
    return shop


def pull_all(shop):
    """Every order of the shop's simulator, read with the connector's client (for the raw path; not timed)."""
    client = shop._platform_client()
    now = _pull_end()
    orders = []
    for start, end in client.split_window(now - timedelta(days=1, minutes=10), now):
        cursor = None
        while True:
            page = client.fetch_orders(start, end, cursor)
            orders += page.orders
            if not page.has_more:
                break
            cursor = page.next_cursor
    # Consecutive windows share their boundary second: an order modified then is served twice.
    return list({order.platform_order_id: order for order in orders}.values())


def _pull_end():
    from odoo import fields

    return fields.Datetime.now() + timedelta(minutes=1)


def raw_values(env, canonical_orders, products):
    """Partner values per distinct receiver and sale order values per order, as the connector would make them."""
    from odoo import Command

    partner_model = env["res.partner"]
    country = env["res.country"].search([("code", "=", "CN")], limit=1)
    freight = env.ref("platform_connectors.product_platform_freight")
    partners, orders = {}, []
    for canonical in canonical_orders:
        receiver = canonical.receiver
        street = "".join(part for part in (receiver.district, receiver.street) if part)
        partner = {
            "name": receiver.name or canonical.buyer_nick,
            "mobile": receiver.mobile or False,
            "phone": receiver.phone or False,
            "street": street or False,
            "city": receiver.city or False,
            "zip": receiver.zip or False,
            "state_id": partner_model._platform_state(country, receiver.province).id,
            "country_id": country.id,
        }
        key = (partner["name"], partner["mobile"], partner["street"], partner["city"])
        partners.setdefault(key, partner)
        lines = [
            Command.create(
                {
                    "product_id": products[line.platform_sku_id].id,
                    "name": line.title,
                    "product_uom_qty": line.quantity,
                    "price_unit": float(line.amount) / line.quantity,
                }
            )
            for line in canonical.lines
        ]
        if canonical.shipping_amount:
            lines.append(
                Command.create(
                    {"product_id": freight.id, "product_uom_qty": 1, "price_unit": float(canonical.shipping_amount)}
                )
            )
        orders.append(
            (
                key,
                {
                    "platform_order_id": canonical.platform_order_id,
                    "platform_status": canonical.platform_status,
                    "date_order": canonical.created_at,
                    "buyer_nick": canonical.buyer_nick or False,
                    "buyer_remark": canonical.buyer_remark or False,
                    "seller_memo": canonical.seller_memo or False,
                    "paid_at": canonical.paid_at or False,
                    "order_line": lines,
                },
            )
        )
    return partners, orders


def raw_create(env, shop, partners, orders, page_size):
    """The raw ORM path, a page at a time as the connector receives them: the page's new partners in one create,
    its orders with their lines in one create, then one confirmation."""
    sale, partner_ids = env["sale.order"], {}
    for first in range(0, len(orders), page_size):
        page = orders[first:first + page_size]
        new_keys = list(dict.fromkeys(key for key, _values in page if key not in partner_ids))
        partner_ids.update(zip(new_keys, env["res.partner"].create([partners[key] for key in new_keys]).ids))
        sale.create(
            [
                {**values, "shop_id": shop.id, "company_id": shop.company_id.id, "partner_id": partner_ids[key]}
                for key, values in page
            ]
        ).action_confirm()


class timed:
    """Wall time of a block (``.seconds``), profiled into ``profile_file`` when one is given; with ``queries``,
    the SQL statements it ran are counted by shape."""

    def __init__(self, cpu_clock, profile_file=None, queries=False):
        self.cpu_clock = cpu_clock
        self.profile_file = profile_file
        self.profiler = cProfile.Profile() if profile_file else None
        self.seconds = None
        self.queries = Counter() if queries else None

    def __enter__(self):
        if self.queries is not None:
            from odoo import sql_db

            counter, execute = self.queries, sql_db.Cursor.execute

            def counting(cursor, query, params=None, log_exceptions=True):
                text = query.code if hasattr(query, "code") else str(query)
                counter[re.sub(r"\s+", " ", re.sub(r"'[^']*'|\b\d+\b", "?", text))[:110]] += 1
                return execute(cursor, query, params, log_exceptions)

            self._restore = lambda: setattr(sql_db.Cursor, "execute", execute)
            sql_db.Cursor.execute = counting
        self.started, self.cpu_started = time.perf_counter(), self.cpu_clock.seconds()
        if self.profiler:
            self.profiler.enable()
        return self

    def __exit__(self, *exc):
        if self.profiler:
            self.profiler.disable()
        self.seconds = time.perf_counter() - self.started
        self.cpu = self.cpu_clock.seconds() - self.cpu_started
        if self.profiler:
            self.profiler.dump_stats(self.profile_file)
        if self.queries is not None:
            self._restore()
        return False

    def report(self, name):
        if self.queries is not None:
            print(f"  {name}: {sum(self.queries.values())} SQL statements; most frequent:")
            for text, number in self.queries.most_common(10):
                print(f"    {number:7d}  {text}")


def confirmed_with_delivery(cr, shop):
    cr.execute(
        """
        SELECT count(*) FILTER (WHERE so.state = 'sale' AND EXISTS (
                   SELECT 1 FROM stock_picking p JOIN stock_picking_type t ON t.id = p.picking_type_id
                    WHERE p.sale_id = so.id AND t.code = 'outgoing')),
               count(*),
               count(DISTINCT so.partner_id)
          FROM sale_order so
         WHERE so.shop_id = %s
        """,
        (shop.id,),
    )
    return cr.fetchone()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--platform", default="taobao", help="simulator to pull from (default: taobao)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--profile", help="write cProfiles of the timed runs to PROFILE.connector and PROFILE.raw")
    parser.add_argument("--queries", action="store_true", help="print the most frequent SQL statements of each run")
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    configure_odoo(odoo_src, BENCH_DB)
    tag = time.strftime("%H%M%S")
    sim = SimulatorProcess(args.platform, args.count, args.seed)
    warm_sim = SimulatorProcess(args.platform, WARM_UP, args.seed + 1)
    registry = Registry(BENCH_DB)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            warehouse, products = make_catalogue(env, tag)
            shop = make_shop(env, sim, f"BENCH-{tag}", warehouse, products)
            warm_shop = make_shop(env, warm_sim, f"BENCH-{tag}-W", warehouse, products)
            raw_shop = env["logistics.shop"].create(
                {"name": f"Bench raw {tag}", "code": f"BENCH-{tag}-RAW", "platform": "manual",
                 "warehouse_id": warehouse.id}
            )
            warm_raw_shop = raw_shop.copy({"code": f"BENCH-{tag}-RAWW"})
            cr.commit()

            page_size = shop._platform_client().page_size
            canonical = pull_all(shop)
            assert len(canonical) == args.count, f"the simulator served {len(canonical)} orders, not {args.count}"
            partners, orders = raw_values(env, canonical, products)
            warm_partners, warm_orders = raw_values(env, pull_all(warm_shop), products)
            cr.commit()

            # Warm-up of both paths (registry caches, query plans), on their own shops.
            warm_shop._platform_pull(now=_pull_end())
            raw_create(env, warm_raw_shop, warm_partners, warm_orders, page_size)
            cr.commit()
            env.invalidate_all()

            cpu_clock = CpuClock(cr)
            with timed(cpu_clock, args.profile and f"{args.profile}.connector", args.queries) as connector:
                log = shop._platform_pull(now=_pull_end())
                cr.commit()
            log_state = log.state
            log_text = f"{log.state}: {log.received_count} received, {log.created_count} created"
            env.invalidate_all()
            connector_check = confirmed_with_delivery(cr, shop)

            with timed(cpu_clock, args.profile and f"{args.profile}.raw", args.queries) as raw:
                raw_create(env, raw_shop, partners, orders, page_size)
                cr.commit()
            env.invalidate_all()
            raw_check = confirmed_with_delivery(cr, raw_shop)
    finally:
        sim.stop()
        warm_sim.stop()

    count = args.count
    connector.report("connector")
    raw.report("raw")
    if args.queries:
        difference = connector.queries.copy()
        difference.subtract(raw.queries)
        print("  statements the connector ran more often than the raw path:")
        for text, number in difference.most_common(30):
            print(f"    {number:+7d}  {text}")
    lines = sum(len(order.lines) for order in canonical)
    print(f"{count} paid {args.platform} orders ({lines} platform lines, {len(partners)} distinct receivers)")
    print(f"  connector pull: {connector.seconds:.2f} s ({count / connector.seconds:.1f} orders/s), "
          f"CPU {connector.cpu:.2f} s"
          f" — sync log {log_text}")
    print(f"  raw ORM       : {raw.seconds:.2f} s ({count / raw.seconds:.1f} orders/s), CPU {raw.cpu:.2f} s")
    print(f"  overhead      : {(connector.seconds / raw.seconds - 1) * 100:+.1f}% wall time, "
          f"{(connector.cpu / raw.cpu - 1) * 100:+.1f}% CPU (Odoo process + its PostgreSQL backend); "
          "target: at most +25%")
    for name, (confirmed, total, partner_count) in (("connector", connector_check), ("raw", raw_check)):
        print(f"  {name}: {confirmed} of {total} orders confirmed with an outgoing delivery, {partner_count} partners")
    ok = connector_check[0] == count == raw_check[0] and connector_check[1] == count and log_state == "done"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
