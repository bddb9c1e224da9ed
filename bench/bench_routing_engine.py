"""Route synthetic deliveries through the plain routing engine (no Odoo, no database); print decisions/s.

Builds 5 carrier accounts with rate cards (zones by region, volumetric weight, remote surcharge) and 51 rules
(buyer-specified carrier, fresh goods, seasonal, shop and platform rules, weight bands per region, value,
fallbacks), then routes ``--count`` deliveries to random districts of China in batches of ``--batch`` (as the
models feed them: a batch is built, routed, its decisions read, then dropped), in first-match and in cheapest
mode. Only routing is timed; turning the decisions into their stored form (``to_data()``, explanation included)
is timed apart. Finally audits ``--audit-count`` orders with the default audit rules.

    .venv/bin/python bench/bench_routing_engine.py [--count 100000] [--batch 1000] [--audit-count 20000]
"""

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.engine_loader import load_engines  # noqa: E402

engines = load_engines()
cn_regions = engines.cn_regions
rate_card = engines.rate_card
routing = engines.routing
audit = engines.audit
orders_module = engines.orders

SHOPS = ("tmall_flagship", "tb_outlet", "jd_store", "pdd_store", "douyin_live", "ks_store")
PLATFORMS = {"tmall_flagship": "taobao", "tb_outlet": "taobao", "jd_store": "jd", "pdd_store": "pinduoduo",
             "douyin_live": "douyin", "ks_store": "kuaishou"}
REGIONS = ("华北", "东北", "华东", "华中", "华南", "西南", "西北")
CATEGORIES = ("apparel", "food", "electronics", "cosmetics", "home")


def money(text):
    return Decimal(text)


def build_carriers(sets, nationwide):
    def card(code, near, mid, far, remote_surcharge, divisor=8000, max_weight=None):
        zones = [
            rate_card.Zone("江浙沪", sets["江浙沪"], money(near[0]), money(near[1])),
            rate_card.Zone("偏远", sets["偏远地区"], money(far[0]), money(far[1])),
            rate_card.Zone("华东华南华中", cn_regions.RegionSet(
                "华东华南华中", sets["华东"].codes | sets["华南"].codes | sets["华中"].codes), money(mid[0]),
                money(mid[1])),
            rate_card.Zone("全国", nationwide, money(mid[0]) + 2, money(mid[1]) + 1),
        ]
        return rate_card.RateCard(code, zones, volumetric_divisor=divisor, remote_region=sets["偏远地区"],
                                  remote_surcharge=money(remote_surcharge), max_weight_kg=max_weight)

    return [
        routing.CarrierAccount("zto", "ZTO", "中通快递", card("ZTO", ("5", "1"), ("8", "2"), ("15", "8"), "10")),
        routing.CarrierAccount("yto", "YTO", "圆通速递", card("YTO", ("5.5", "1"), ("8", "2.5"), ("16", "8"), "10")),
        routing.CarrierAccount("yd", "YD", "韵达快递", card("YD", ("4.5", "1.5"), ("7.5", "2"), ("14", "9"), "12")),
        routing.CarrierAccount("sf", "SF", "顺丰速运", card("SF", ("12", "2"), ("18", "5"), ("23", "10"), "0",
                                                         divisor=6000)),
        routing.CarrierAccount("ems", "EMS", "中国邮政EMS", card("EMS", ("10", "3"), ("12", "4"), ("15", "5"), "0",
                                                            max_weight=Decimal(40))),
    ]


def build_rules(sets):
    rule = routing.RoutingRule
    rules = [
        rule(key="buyer_sf", name="指定顺丰", sequence=1, carrier="sf", remark_tags=frozenset({"require_sf"})),
        rule(key="buyer_ems", name="指定EMS", sequence=2, carrier="ems", remark_tags=frozenset({"require_ems"})),
        rule(key="fresh", name="生鲜顺丰冷运", sequence=3, carrier="sf", service_type="冷运",
             tags=frozenset({"fresh"})),
        rule(key="high_value", name="高价值顺丰", sequence=4, carrier="sf", min_value=Decimal(2000)),
        rule(key="fragile", name="易碎品圆通", sequence=5, carrier="yto", tags=frozenset({"fragile"})),
        rule(key="618_jzh", name="618 江浙沪韵达", sequence=6, carrier="yd", regions=(sets["江浙沪"],),
             valid_from=date(2026, 6, 1), valid_to=date(2026, 6, 20)),
        rule(key="1111_jzh", name="双11 江浙沪中通", sequence=7, carrier="zto", regions=(sets["江浙沪"],),
             valid_from=date(2026, 11, 1), valid_to=date(2026, 11, 12)),
        rule(key="remote_ems", name="偏远地区EMS", sequence=8, carrier="ems", regions=(sets["偏远地区"],)),
        rule(key="hk_sf", name="港澳台顺丰", sequence=9, carrier="sf", regions=(sets["港澳台"],)),
        rule(key="jd_shop", name="京东店铺", sequence=10, carrier="sf", platforms=frozenset({"jd"}),
             min_value=Decimal(500)),
    ]
    carriers = ("zto", "yto", "yd")
    sequence = 20
    for region in REGIONS:
        for band, (low, high) in enumerate(((None, Decimal(1)), (Decimal(1), Decimal(3)), (Decimal(3), Decimal(10)),
                                            (Decimal(10), Decimal(20)), (Decimal(20), None))):
            rules.append(rule(key=f"{region}_{band}", name=f"{region} {low or 0}–{high or '∞'} kg",
                              sequence=sequence, carrier=carriers[(sequence // 10) % 3], regions=(sets[region],),
                              min_weight_kg=low, max_weight_kg=high,
                              shops=frozenset(SHOPS[: 3 + band % 4]) if band == 2 else frozenset()))
            sequence += 10
    rules += [
        rule(key="bulky", name="大件圆通", sequence=500, carrier="yto", min_volume_cm3=Decimal(100000)),
        rule(key="cosmetics", name="化妆品中通", sequence=510, carrier="zto", categories=frozenset({"cosmetics"})),
        rule(key="douyin", name="抖音韵达", sequence=520, carrier="yd", platforms=frozenset({"douyin"})),
        rule(key="pdd_cheap", name="拼多多低价", sequence=530, carrier="yd", platforms=frozenset({"pinduoduo"}),
             max_value=Decimal(50)),
        rule(key="default_zto", name="默认中通", sequence=990, carrier="zto"),
        rule(key="default_yto", name="默认圆通", sequence=999, carrier="yto"),
    ]
    return rules


def build_shipments(start, count, areas, rng):
    day = date(2026, 11, 23)
    shipments = []
    for index in range(start, start + count):
        shop = rng.choice(SHOPS)
        tags = set()
        roll = rng.random()
        if roll < 0.05:
            tags.add("fresh")
        elif roll < 0.08:
            tags.add("fragile")
        remark_roll = rng.random()
        remark_tags = frozenset({"require_sf"} if remark_roll < 0.03 else {"exclude_yd"} if remark_roll < 0.05
                                else ())
        # Two parcels in three are small (up to 3 kg, up to ¥300), the third anything up to 30 kg and ¥3,000.
        weight = Decimal(rng.choice((rng.randint(5, 300), rng.randint(5, 300), rng.randint(300, 3000)))) / 100
        value = Decimal(rng.choice((rng.randint(500, 30000), rng.randint(500, 30000), rng.randint(500, 300000)))) / 100
        length, width, height = rng.randint(10, 60), rng.randint(10, 40), rng.randint(5, 40)
        shipments.append(routing.Shipment(
            key=index, area=rng.choice(areas), weight_kg=weight, volume_cm3=Decimal(length * width * height),
            value=value, categories=frozenset({rng.choice(CATEGORIES)}),
            tags=frozenset(tags), shop=shop, platform=PLATFORMS[shop], remark_tags=remark_tags, ship_date=day,
        ))
    return shipments


def build_orders(count, areas, rng):
    addresses = [orders_module.Address(area.province, area.city, area.district, f"幸福路{index}号")
                 for index, area in enumerate(areas)]
    paid = datetime(2026, 11, 23, 8)
    return [
        orders_module.Order(
            key=index, name=f"SO{index:06d}", shop=rng.choice(SHOPS), platform="taobao", buyer=f"buyer{index % 5000}",
            receiver="王小明", mobile=f"13{rng.randint(800000000, 999999999)}", address=rng.choice(addresses),
            lines=(orders_module.OrderLine(index * 10, f"P{index % 200}", Decimal(rng.randint(1, 3)),
                                           Decimal(rng.randint(990, 29900)) / 100),),
            paid_at=paid + timedelta(seconds=index),
            remark_tags=frozenset({"attention"}) if index % 50 == 0 else frozenset(),
        )
        for index in range(count)
    ]


def timed(label, count, function):
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    print(f"{label}: {count:,} in {elapsed:.2f} s = {count / elapsed:,.0f}/s", flush=True)
    return result


class Clock:
    """Wall-clock and CPU seconds of the timed parts (the machine may be shared: CPU time shows it)."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._started = (time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc_info):
        self.wall += time.perf_counter() - self._started[0]
        self.cpu += time.process_time() - self._started[1]


def bench_routing(engine, count, batch, areas, seed):
    """Route ``count`` shipments in batches; return (routing Clock, to_data Clock, summary counters)."""
    rng = random.Random(seed)
    routing_clock, data_clock = Clock(), Clock()
    unrouted = skipped = 0
    by_carrier = {}
    freight = Decimal(0)
    for start in range(0, count, batch):
        shipments = build_shipments(start, min(batch, count - start), areas, rng)
        with routing_clock:
            decisions = engine.route_many(shipments)
        with data_clock:
            stored = [decision.to_data() for decision in decisions]
        for decision, data in zip(decisions, stored):
            unrouted += not decision.routed
            skipped += len(data["skipped"])
            by_carrier[data["carrier"]] = by_carrier.get(data["carrier"], 0) + 1
            freight += decision.cost or 0
    return routing_clock, data_clock, {"unrouted": unrouted, "skipped": skipped, "by_carrier": by_carrier,
                                       "freight": freight}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--audit-count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    divisions = cn_regions.load_divisions()
    sets = divisions.named_region_sets()
    nationwide = cn_regions.RegionSet("全国", frozenset(code for code in divisions.divisions if code.endswith("0000")))
    districts = sorted(code for code, division in divisions.divisions.items() if division.level == cn_regions.DISTRICT)
    areas = [divisions.area_of(code) for code in districts]
    carriers = build_carriers(sets, nationwide)
    rules = build_rules(sets)
    print(f"{len(rules)} rules, {len(carriers)} carriers, {len(areas)} destination districts, "
          f"{args.count:,} deliveries in batches of {args.batch:,}", flush=True)

    for mode in (routing.FIRST_MATCH, routing.CHEAPEST):
        engine = routing.RoutingEngine(rules, carriers, mode=mode)
        routing_clock, data_clock, summary = bench_routing(engine, args.count, args.batch, areas, args.seed)
        both = routing_clock.wall + data_clock.wall
        print(f"routing ({mode}): {args.count:,} decisions in {routing_clock.wall:.2f} s = "
              f"{args.count / routing_clock.wall:,.0f} decisions/s (CPU {routing_clock.cpu:.2f} s); "
              f"to_data() with the explanation: {data_clock.wall:.2f} s more ({args.count / both:,.0f}/s together)",
              flush=True)
        carriers_used = dict(sorted(summary["by_carrier"].items(), key=str))
        print(f"  unrouted {summary['unrouted']}, {summary['skipped'] / args.count:.1f} rules skipped per "
              f"decision, by carrier {carriers_used}, expected freight {summary['freight']:,.2f}", flush=True)

    if args.audit_count:
        rng = random.Random(args.seed)
        orders = build_orders(args.audit_count, areas, rng)
        warehouses = tuple(orders_module.Warehouse(key, key) for key in ("BJ", "SH", "GZ"))
        stock = orders_module.StockBook({(warehouse.key, f"P{index}"): Decimal(10_000)
                                         for warehouse in warehouses for index in range(200)})
        context = audit.AuditContext(stock=stock, warehouses=warehouses)
        decisions = timed("audit (default rules)", len(orders), lambda: audit.AuditEngine().audit(orders, context))
        print(f"  held {sum(not decision.approved for decision in decisions)}", flush=True)


if __name__ == "__main__":
    main()
