"""Benchmark: 10,000 shop orders audited, allocated to warehouses and routed to carriers inside Odoo.

    .venv/bin/python bench/bench_audit_routing_odoo.py [--count 10000] [--batch 1000] [--no-auto-batch]
                                                       [--profile FILE] [--queries]

What is timed is what the scheduler and the clerks' buttons run, through the models' batch methods on a real
database: ``sale.order._logistics_audit()`` (the default audit rules; approving an order allocates it to a
warehouse with the priority table, stock and daily capacity, makes its deliveries again when it is in the wrong
warehouse, reserves its stock and proposes merges), then ``stock.picking._logistics_route()`` on the deliveries
to route, ``--batch`` orders (deliveries) at a time, in one transaction, flushed at the end.
Target (issue #5): under 10 s for 10,000 orders.

The orders are made once, not timed, in the database ``shop_logistics_bench_allocation_seed_<count>`` (the template
database with the four add-ons, no demo): three warehouses (北京, 上海, 广州) with daily capacities and costs,
region sets and the region-to-warehouse table, three shops shipping from every warehouse, 40 products (two of
them fresh goods that ship apart, a few missing in some warehouses), carriers with rate cards and routing rules,
and ``--count`` paid orders of 1 to 3 lines to buyers all over China, created and confirmed with the ORM
(their deliveries start in the nearest warehouse by region); about 1 in 25 buyers orders twice. Each run
copies the seed database to ``shop_logistics_bench_allocation`` and times the steps there; the seed is
upgraded when the add-ons changed. The time of each step is printed too (each flushed at its end), among
them the reservation of the approved orders' stock (Odoo's ``action_assign``), which Odoo's automatic batches
of deliveries by partner (on by default for delivery types with stock_picking_batch) make much slower;
``--no-auto-batch`` switches them off on the delivery types first.
"""

import argparse
import cProfile
import pstats
import random
import re
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import configure_odoo  # noqa: E402

SEED_DB = "shop_logistics_bench_allocation_seed"  # + the order count
RUN_DB = "shop_logistics_bench_allocation"
TARGET_SECONDS = 10.0

# province state, city, street (district first, as the shop connectors keep it), weight of the city
CITIES = [
    ("base.state_cn_BJ", "北京市", "朝阳区建国路{}号", 8),
    ("base.state_cn_TJ", "天津市", "和平区南京路{}号", 2),
    ("base.state_cn_HE", "石家庄市", "长安区中山东路{}号", 2),
    ("base.state_cn_SD", "济南市", "历下区泉城路{}号", 3),
    ("base.state_cn_LN", "沈阳市", "和平区南京北街{}号", 2),
    ("base.state_cn_SH", "上海市", "浦东新区世纪大道{}号", 9),
    ("base.state_cn_JS", "南京市", "鼓楼区中山路{}号", 5),
    ("base.state_cn_ZJ", "杭州市", "西湖区文三路{}号", 7),
    ("base.state_cn_AH", "合肥市", "蜀山区长江西路{}号", 2),
    ("base.state_cn_HB", "武汉市", "武昌区中南路{}号", 3),
    ("base.state_cn_HN", "长沙市", "岳麓区麓山南路{}号", 2),
    ("base.state_cn_GD", "广州市", "天河区花城大道{}号", 8),
    ("base.state_cn_GD", "深圳市", "南山区科技园科苑路{}号", 8),
    ("base.state_cn_FJ", "福州市", "鼓楼区五四路{}号", 2),
    ("base.state_cn_GX", "南宁市", "青秀区民族大道{}号", 1),
    ("base.state_cn_SC", "成都市", "武侯区天府大道{}号", 5),
    ("base.state_cn_CQ", "重庆市", "渝中区解放碑{}号", 3),
    ("base.state_cn_YN", "昆明市", "五华区东风西路{}号", 1),
    ("base.state_cn_SN", "西安市", "雁塔区长安南路{}号", 2),
    ("base.state_cn_XJ", "乌鲁木齐市", "天山区解放北路{}号", 1),
]

REGIONS = {
    "华北": "北京\n天津\n河北\n山西\n山东\n内蒙古",
    "东北": "辽宁\n吉林\n黑龙江",
    "华中": "安徽\n江西\n河南\n湖北\n湖南",
    "华南": "广东\n广西\n海南\n福建",
    "西南": "四川\n重庆\n贵州\n云南\n西藏",
    "西北": "陕西\n甘肃\n青海\n宁夏\n新疆",
}
# region → warehouse codes, nearest first (江浙沪 is a region set of the data file)
PRIORITIES = [
    ("华北", ("BBJ", "BSH")),
    ("东北", ("BBJ",)),
    ("江浙沪", ("BSH",)),
    ("华中", ("BSH", "BGZ")),
    ("华南", ("BGZ", "BSH")),
    ("西南", ("BGZ", "BSH")),
    ("西北", ("BBJ", "BSH")),
]
# code, name, daily capacity, cost per delivery
WAREHOUSES = [("BBJ", "北京仓", 4000, 3.5), ("BSH", "上海仓", 6000, 3.0), ("BGZ", "广州仓", 3000, 2.8)]


def ensure_seed(odoo_src, seed):
    """The seed database with the add-ons installed (upgraded when they changed)."""
    devctl.ensure_base_template(odoo_src)
    digest = devctl.addons_digest()
    if not devctl.db_exists(seed):
        devctl.say(f"creating {seed}")
        devctl.copy_db(devctl.BASE_TEMPLATE_DB, seed)
        devctl.run_odoo(
            odoo_src, "-d", seed, "-i", ",".join(devctl.OUR_ADDONS), "--stop-after-init", "--no-http",
            "--without-demo=all", log_file=devctl.VAR / f"{seed}-install.log",
        )
        devctl.set_db_comment(seed, digest)
    elif devctl.db_comment(seed) != digest:
        devctl.say(f"upgrading {seed} (the add-ons changed)")
        devctl.run_odoo(
            odoo_src, "-d", seed, "-u", ",".join(devctl.OUR_ADDONS), "--stop-after-init", "--no-http",
            log_file=devctl.VAR / f"{seed}-upgrade.log",
        )
        devctl.set_db_comment(seed, digest)


def populate(env, count, seed):
    """Warehouses, regions, shops, products with stock, carriers and routing rules, and ``count`` confirmed
    shop orders waiting for the audit. Does nothing when the orders are there."""
    from odoo import Command

    orders = env["sale.order"].search_count([("platform_order_id", "=like", "BENCH-%")])
    if orders == count:
        return
    if orders:
        raise SystemExit(f"{seed} holds {orders} bench orders, not {count}: drop it to make it again")
    random.seed(5)
    company = env.company
    company.logistics_routing_mode = "first_match"
    warehouses = {}
    for code, name, capacity, cost in WAREHOUSES:
        warehouses[code] = env["stock.warehouse"].create(
            {"name": name, "code": code, "logistics_daily_capacity": capacity, "logistics_delivery_cost": cost}
        )
    regions = {name: env["logistics.region.set"].create({"name": name, "members": members})
               for name, members in REGIONS.items()}
    regions["江浙沪"] = env.ref("shop_logistics.region_set_jzh")
    sequence = 0
    for region, codes in PRIORITIES:
        for code in codes:
            sequence += 1
            env["logistics.warehouse.priority"].create(
                {"sequence": sequence, "region_set_id": regions[region].id, "warehouse_id": warehouses[code].id}
            )
    every = [Command.set([warehouse.id for warehouse in warehouses.values()])]
    shops = env["logistics.shop"].create([
        {"name": name, "code": code, "platform": platform, "warehouse_id": warehouses["BSH"].id,
         "allocation_warehouse_ids": every}
        for name, code, platform in (("Bench Tmall", "BTM", "tmall"), ("Bench JD", "BJD", "jd"),
                                     ("Bench Douyin", "BDY", "douyin"))
    ])
    fresh = env["product.tag"].create({"name": "Bench Fresh", "logistics_ship_apart": True})
    products = env["product.product"].create([
        {"name": f"Bench product {index}", "default_code": f"BENCH-{index:03d}", "is_storable": True,
         "weight": 0.2 + index % 7 * 0.3, "list_price": 20 + index * 3,
         "product_tag_ids": [Command.set(fresh.ids)] if index in (38, 39) else []}
        for index in range(40)
    ])
    for index, product in enumerate(products):
        for code, warehouse in warehouses.items():
            # a few products are missing in one warehouse: their orders go to the next one
            missing = (index % 10 == 3 and code == "BBJ") or (index % 10 == 7 and code == "BGZ")
            if not missing:
                env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100000)
    make_routing(env, regions, fresh)
    make_orders(env, count, shops, products)


def make_routing(env, regions, fresh):
    from odoo import Command

    service = env["product.product"].create({"name": "Bench freight", "type": "service"})
    accounts = {}
    for code, first, additional in (("SF", 12, 3), ("ZTO", 8, 2), ("YTO", 7, 2), ("YD", 6, 1.5)):
        method = env["delivery.carrier"].create(
            {"name": f"Bench {code}", "product_id": service.id, "delivery_type": "fixed"}
        )
        accounts[code] = env["logistics.carrier.account"].create({
            "name": f"Bench {code}", "express_code": code, "carrier_id": method.id,
            "rate_zone_ids": [
                Command.create({"name": "江浙沪", "region_set_ids": [Command.set(regions["江浙沪"].ids)],
                                "first_price": first - 2, "additional_price": additional}),
                Command.create({"name": "偏远", "region_set_ids": [Command.set(regions["西北"].ids)],
                                "first_price": first + 10, "additional_price": additional * 3}),
                Command.create({"name": "全国", "state_ids": [Command.set(env["res.country.state"].search(
                    [("country_id.code", "=", "CN")]).ids)], "first_price": first, "additional_price": additional}),
            ],
        })
    require_sf = env["logistics.remark.tag"].search([("code", "=", "require_sf")], limit=1)
    rules = [
        ("Fresh goods by SF", "SF", {"product_tag_ids": [Command.set(fresh.ids)]}),
        ("Buyer asks for SF", "SF", {"remark_tag_ids": [Command.set(require_sf.ids)]} if require_sf else None),
        ("Remote by YTO", "YTO", {"region_set_ids": [Command.set(regions["西北"].ids)]}),
        ("江浙沪 by ZTO", "ZTO", {"region_set_ids": [Command.set(regions["江浙沪"].ids)]}),
        ("Heavy by YTO", "YTO", {"min_weight": 5}),
        ("Everywhere else by YD", "YD", {}),
    ]
    env["logistics.routing.rule"].search([]).active = False
    env["logistics.routing.rule"].create([
        {"name": name, "sequence": (index + 1) * 10, "carrier_account_id": accounts[code].id, **values}
        for index, (name, code, values) in enumerate(rules) if values is not None
    ])


def make_orders(env, count, shops, products):
    """``count`` paid orders, created and confirmed 500 at a time; about 1 buyer in 25 orders twice."""
    from odoo import Command

    weights = [city[3] for city in CITIES]
    states = {state: env.ref(state).id for state, *_rest in CITIES}
    china = env.ref("base.cn").id
    now = env.cr.now()
    created = 0
    started = time.perf_counter()
    while created < count:
        size = min(500, count - created)
        buyers_values = []
        for index in range(created, created + size):
            state, city, street, _weight = random.choices(CITIES, weights)[0]
            buyers_values.append({
                "name": f"买家{index}", "mobile": f"139{index:08d}", "city": city, "state_id": states[state],
                "street": street.format(index % 300 + 1), "country_id": china,
            })
        buyers = env["res.partner"].create(buyers_values)
        orders_values = []
        for offset, buyer in enumerate(buyers):
            index = created + offset
            # a repeat buyer: same person, shop and address as an order a moment before, other items
            if offset and index % 25 == 0:
                buyer, shop = buyers[offset - 1], orders_values[-1]["shop_id"]
                nick = orders_values[-1]["buyer_nick"]
            else:
                shop, nick = random.choice(shops).id, f"nick{index}"
            picked = random.sample(list(products), random.choice((1, 1, 1, 2, 2, 3)))
            orders_values.append({
                "partner_id": buyer.id, "shop_id": shop, "platform_order_id": f"BENCH-{index:06d}",
                "buyer_nick": nick, "paid_at": now - timedelta(seconds=count - index),
                "buyer_remark": "请指定顺丰" if index % 50 == 1 else False,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": random.randint(1, 3)})
                               for product in picked],
            })
        orders = env["sale.order"].create(orders_values)
        orders.action_confirm()
        env.cr.commit()
        created += size
        rate = created / (time.perf_counter() - started)
        devctl.say(f"  {created} of {count} orders created and confirmed ({rate:.0f}/s)")


class QueryTimes:
    """SQL time by statement shape (numbers and strings blanked) while active."""

    def __init__(self):
        self.seconds, self.calls = Counter(), Counter()

    def __enter__(self):
        from odoo import sql_db

        self.original = original = sql_db.Cursor.execute
        seconds, calls = self.seconds, self.calls

        def execute(cursor, query, params=None, log_exceptions=True):
            started = time.perf_counter()
            try:
                return original(cursor, query, params, log_exceptions)
            finally:
                shape = re.sub(r"\b\d+\b|'[^']*'", "?", str(getattr(query, "code", query)))[:160]
                seconds[shape] += time.perf_counter() - started
                calls[shape] += 1

        sql_db.Cursor.execute = execute
        return self

    def __exit__(self, *exc):
        from odoo import sql_db

        sql_db.Cursor.execute = self.original

    def report(self, top=15):
        print(f"  SQL: {sum(self.calls.values())} statements, {sum(self.seconds.values()):.2f} s; slowest shapes:")
        for shape, seconds in self.seconds.most_common(top):
            print(f"    {seconds:7.2f} s {self.calls[shape]:6d}×  {' '.join(shape.split())}")


# Steps timed on their own inside the run (wrapped, not changed): (label, model, method)
PHASES = [
    ("allocation", "sale.order", "_logistics_allocate"),
    ("  of which deliveries made again", "sale.order", "_logistics_replan"),
    ("reservation at approval", "sale.order", "_logistics_reserve_deliveries"),
    ("merge proposals", "sale.order", "_logistics_propose_merges"),
    ("routing", "stock.picking", "_logistics_route"),
]


class PhaseTimes:
    """Wall time spent in each of ``PHASES`` while active, each flushed at its end."""

    def __init__(self, env):
        self.env, self.seconds, self.saved = env, Counter(), []

    def __enter__(self):
        for label, model, method in PHASES:
            cls = type(self.env[model])
            original = getattr(cls, method, None)
            if original is None:
                continue
            self.saved.append((cls, method, cls.__dict__.get(method)))
            setattr(cls, method, self._timed(label, original))
        return self

    def _timed(self, label, original):
        seconds = self.seconds

        def timed(records, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(records, *args, **kwargs)
            finally:
                # what the step left to recompute and write is the step's cost, not the next one's
                records.env.flush_all()
                seconds[label] += time.perf_counter() - started

        return timed

    def __exit__(self, *exc):
        for cls, method, own in reversed(self.saved):
            if own is None:
                delattr(cls, method)
            else:
                setattr(cls, method, own)


def run(env, batch, profile):
    """Audit, allocate and route the orders waiting; returns (seconds, figures)."""
    orders = env["sale.order"].search(
        [("platform_order_id", "=like", "BENCH-%"), ("audit_state", "=", "to_audit")], order="paid_at, id"
    )
    profiler = cProfile.Profile() if profile else None
    env.invalidate_all()
    with PhaseTimes(env) as phases:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        for start in range(0, len(orders), batch):
            orders[start:start + batch]._logistics_audit()
        pickings = env["stock.picking"].search(
            [("sale_id", "in", orders.ids), ("picking_type_code", "=", "outgoing"),
             ("logistics_state", "=", "to_route"), ("state", "not in", ("draft", "cancel", "done"))], order="id"
        )
        for start in range(0, len(pickings), batch):
            pickings[start:start + batch]._logistics_route()
        env.flush_all()
        finished = time.perf_counter()
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
    figures = {
        "orders": len(orders),
        "audit": Counter(orders.mapped("audit_state")),
        "allocation": Counter(order.logistics_allocation_data["outcome"] for order in orders
                              if order.logistics_allocation_data),
        "split": len(orders.filtered("logistics_split")),
        "warehouses": Counter(p.picking_type_id.warehouse_id.code for p in pickings),
        "routed": len(pickings.filtered(lambda picking: picking.logistics_state == "routed")),
        "deliveries": len(pickings),
        "merge proposals": env["logistics.merge.proposal"].search_count([("state", "=", "proposed")]),
    }
    steps = [(label, phases.seconds[label]) for label, _model, _method in PHASES]
    inside = sum(seconds for label, seconds in steps if not label.startswith(" "))
    figures["seconds by step"] = [("audit (rules, decisions, holds)", finished - started - inside), *steps]
    return finished - started, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=1000, help="orders (then deliveries) per batch call")
    parser.add_argument("--profile", help="write a cProfile of the timed part to this file and print its top")
    parser.add_argument("--queries", action="store_true", help="print the SQL statements that took the most time")
    parser.add_argument(
        "--no-auto-batch", action="store_true",
        help="switch off Odoo's automatic batches (stock_picking_batch, on by default for delivery types) first",
    )
    args = parser.parse_args()

    odoo_src = devctl.setup()
    seed = f"{SEED_DB}_{args.count}"
    ensure_seed(odoo_src, seed)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    configure_odoo(odoo_src, seed)
    with Registry(seed).cursor() as cr:
        populate(api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True}), args.count, seed)
        cr.commit()
    Registry.delete(seed)
    odoo.sql_db.close_db(seed)
    devctl.copy_db(seed, RUN_DB)
    from odoo.addons.shop_logistics.engines.cn_regions import load_divisions

    with Registry(RUN_DB).cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        if args.no_auto_batch:
            env["stock.picking.type"].search([("code", "=", "outgoing")]).auto_batch = False
        # warm up (not timed): the registry, the divisions of China
        env["sale.order"].search([("platform_order_id", "=like", "BENCH-%")], limit=1)._logistics_engine_order(
            load_divisions()
        )
        queries = QueryTimes() if args.queries else None
        if queries:
            with queries:
                elapsed, figures = run(env, args.batch, args.profile)
        else:
            elapsed, figures = run(env, args.batch, args.profile)
        cr.commit()
    print(f"{figures['orders']} shop orders audited, allocated and routed in {elapsed:.2f} s "
          f"({figures['orders'] / elapsed:,.0f} orders/s; target {TARGET_SECONDS:.0f} s)")
    for key, value in figures.items():
        if key == "seconds by step":
            print("  seconds by step:")
            for label, seconds in value:
                print(f"    {label}: {seconds:.2f} s")
        elif key != "orders":
            print(f"  {key}: {dict(value) if isinstance(value, Counter) else value}")
    if queries:
        queries.report()
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    return 0 if elapsed < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
