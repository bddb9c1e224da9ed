"""Bench data shared by the tracking benchmarks: shop orders with one outgoing delivery each, made fast."""

CHUNK = 500


def shop_deliveries(env, shop, product, places, count, order_prefix, rng, picking_values):
    """``count`` sale orders of ``shop`` to buyers at random ``places`` (``(city, state xmlid, district)``), each
    with one outgoing delivery of one ``product`` from the company's first warehouse, written through the ORM
    ``CHUNK`` at a time. ``picking_values(index)`` gives each delivery's own fields (carrier, waybill …). Yields
    ``(orders, pickings)`` per chunk; the caller commits."""
    from odoo import Command

    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    states = {xmlid: env.ref(xmlid).id for _city, xmlid, _district in places}
    customers = env.ref("stock.stock_location_customers").id
    for start in range(0, count, CHUNK):
        chosen = [rng.choice(places) for _ in range(min(CHUNK, count - start))]
        partners = env["res.partner"].create(
            [
                {
                    "name": f"买家{start + index}",
                    "mobile": f"13{rng.randrange(10**9):09d}",
                    "city": city,
                    "state_id": states[state],
                    "street": f"{district}幸福路{rng.randrange(1, 999)}号",
                }
                for index, (city, state, district) in enumerate(chosen)
            ]
        )
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "shop_id": shop.id,
                    "platform_order_id": f"{order_prefix}{start + index:08d}",
                }
                for index, partner in enumerate(partners)
            ]
        )
        groups = env["procurement.group"].create(
            [{"name": order.name, "sale_id": order.id, "partner_id": order.partner_id.id} for order in orders]
        )
        pickings = env["stock.picking"].create(
            [
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "partner_id": order.partner_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": customers,
                    **picking_values(start + index),
                    # The delivery's order is its moves' procurement group's, as when an order is confirmed.
                    "move_ids": [
                        Command.create(
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "group_id": group.id,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": customers,
                            }
                        )
                    ],
                }
                for index, (order, group) in enumerate(zip(orders, groups))
            ]
        )
        yield orders, pickings


def pick_share(rng, shares, default):
    """A value drawn from ``[(share, value)]`` (shares summing to at most 1), ``default`` for the rest."""
    draw, total = rng.random(), 0.0
    for share, value in shares:
        total += share
        if draw < total:
            return value
    return default
