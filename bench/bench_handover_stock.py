"""Benchmark: deliveries validated when the carrier collects them (stock deducted at hand-over, issue #5).

    .venv/bin/python bench/bench_handover_stock.py [--count 200]

Runs in Odoo on the database ``shop_logistics_bench_handover`` (made from the template database with
shop_logistics when missing or when the add-ons changed). ``--count`` approved shop orders with a reserved
delivery each are moved to In Transit (the carrier's first scan) two ways: one by one, each delivery validated as
it moves, as a push of single items does; and as a track job does, every move marked To Deduct and the deliveries
validated together at the end (``logistics_defer_stock_deduction`` + ``_logistics_deduct_pending_stock``). Time and
queries cover the whole state change (notifications, hooks) plus the validation. Everything is rolled back.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import devctl  # noqa: E402
from bench_kdniao_waybills import configure_odoo, ensure_bench_database  # noqa: E402

BENCH_DB = "shop_logistics_bench_handover"
MODULES = ["shop_logistics"]


def reserved_deliveries(env, count, prefix, shop, product, partner):
    from odoo import Command

    orders = env["sale.order"].create(
        [
            {"partner_id": partner.id, "shop_id": shop.id, "platform_order_id": f"{prefix}{number}",
             "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})]}
            for number in range(count)
        ]
    )
    orders.action_confirm()
    orders.action_logistics_approve()
    pickings = orders.picking_ids
    for picking in pickings:
        picking._set_logistics_state("routed")
        picking.waybill_number = f"{prefix}{picking.id}"
        picking._set_logistics_state("waybill_issued")
    env.flush_all()
    return pickings


def measure(env, pickings, deferred):
    env.invalidate_all()
    queries, started = env.cr.sql_log_count, time.perf_counter()
    if deferred:
        for picking in pickings.with_context(logistics_defer_stock_deduction=True):
            picking._set_logistics_state("in_transit")
        pickings._logistics_deduct_pending_stock()
    else:
        for picking in pickings:
            picking._set_logistics_state("in_transit")
    env.flush_all()
    elapsed, queries = time.perf_counter() - started, env.cr.sql_log_count - queries
    assert set(pickings.mapped("state")) == {"done"}, "every delivery validated"
    return elapsed, queries


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src, BENCH_DB, MODULES)

    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    configure_odoo(odoo_src, BENCH_DB)
    registry = Registry(BENCH_DB)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].create({"name": "Bench hand-over", "code": "BHO"})
        shop = env["logistics.shop"].create(
            {"name": "Bench hand-over", "code": "B-HO", "platform": "tmall", "warehouse_id": warehouse.id}
        )
        product = env["product.product"].create({"name": "保温杯", "type": "consu", "is_storable": True})
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10 * args.count)
        partner = env["res.partner"].create({"name": "王小明", "city": "北京市", "street": "朝阳区建国路88号"})
        results = []
        for label, deferred in (("one by one", False), ("batch (deferred)", True)):
            pickings = reserved_deliveries(env, args.count, f"BHO{int(deferred)}-", shop, product, partner)
            results.append((label, *measure(env, pickings, deferred)))
        cr.rollback()
    print(f"{args.count} deliveries moved to In Transit and validated")
    for label, elapsed, queries in results:
        print(f"  {label}: {elapsed:.2f} s, {queries} queries "
              f"({queries / args.count:.1f} queries and {1000 * elapsed / args.count:.1f} ms per delivery)")


if __name__ == "__main__":
    main()
