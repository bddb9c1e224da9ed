"""Merging orders and splitting them into deliveries: lines and amounts stay exact; plain Python, no Odoo."""

from decimal import Decimal

from tests.engine_loader import load_engines

engines = load_engines()
orders = engines.orders
merge_split = engines.merge_split
allocation = engines.allocation

ADDRESS = orders.Address("广东省", "深圳市", "南山区", "科技园南区 R2-B 栋 8 楼")


def line(key, product, quantity, amount, **values):
    return orders.OrderLine(key, product, Decimal(quantity), Decimal(amount), sku=f"SKU-{product}", **values)


def order(key, lines, **values):
    fields = {"name": f"SO{key}", "shop": "tmall", "platform": "taobao", "buyer": "buyer_a", "receiver": "李雷",
              "mobile": "13900001111", "address": ADDRESS, "lines": tuple(lines)}
    fields.update(values)
    return orders.Order(key=key, **fields)


def part(warehouse, *line_quantities):
    return allocation.AllocationPart(warehouse, tuple((key, Decimal(quantity)) for key, quantity in line_quantities))


def allocated(order_key, *parts):
    return allocation.Allocation(order_key, parts=list(parts))


# -- merge ------------------------------------------------------------------------------------------------


def test_orders_of_the_same_shop_buyer_and_address_not_printed_are_proposed_for_merging():
    first = order(1, [line(11, "P1", "1", "0.10")])
    second = order(2, [line(21, "P2", "2", "0.20")],
                   address=orders.Address("广东省", "深圳市", "南山区", "科技园南区R2-B栋8楼"))
    printed = order(3, [line(31, "P3", "1", "5.00")], printed=True)
    other_buyer = order(4, [line(41, "P1", "1", "1.00")], buyer="buyer_b")
    other_shop = order(5, [line(51, "P1", "1", "1.00")], shop="jd_store")
    proposals = merge_split.propose_merges([first, second, printed, other_buyer, other_shop])
    assert len(proposals) == 1
    proposal = proposals[0]
    assert proposal.order_keys == (1, 2)
    assert proposal.amount_total == Decimal("0.30")
    assert proposal.message.args == {"orders": "SO1, SO2"}
    assert proposal.to_data()["amount_total"] == "0.30"


def test_another_receiver_at_the_same_address_is_not_merged():
    proposals = merge_split.propose_merges([order(1, [line(11, "P1", "1", "1")]),
                                            order(2, [line(21, "P1", "1", "1")], receiver="韩梅梅")])
    assert proposals == []


def test_masked_orders_merge_only_by_the_platform_address_key():
    masked = {"contact_masked": True, "receiver": "李*", "mobile": "139****1111"}
    without_key = [order(1, [line(11, "P1", "1", "1")], **masked), order(2, [line(21, "P1", "1", "1")], **masked)]
    assert merge_split.propose_merges(without_key) == []
    with_key = [order(1, [line(11, "P1", "1", "1")], address_key="oaid-77", **masked),
                order(2, [line(21, "P1", "1", "1")], address_key="oaid-77", **masked),
                order(3, [line(31, "P1", "1", "1")], address_key="oaid-99", **masked)]
    assert [proposal.order_keys for proposal in merge_split.propose_merges(with_key)] == [(1, 2)]


def test_merged_order_keeps_every_line_with_its_order_and_the_exact_total():
    first = order(1, [line(11, "P1", "1", "19.90"), line(12, "P2", "3", "0.03")], remark="礼物",
                  remark_tags=frozenset({"gift"}))
    second = order(2, [line(21, "P3", "2", "80.07")], remark="指定顺丰", remark_tags=frozenset({"require_sf"}))
    merged = merge_split.merge_orders([first, second])
    assert merged.key == 1
    assert [(item.key, item.order_key) for item in merged.lines] == [(11, 1), (12, 1), (21, 2)]
    assert merged.total == Decimal("100.00")
    assert merged.remark_tags == frozenset({"gift", "require_sf"})
    assert merged.name == "SO1, SO2"


# -- split ------------------------------------------------------------------------------------------------


def test_an_order_in_one_warehouse_is_one_delivery():
    the_order = order(1, [line(11, "P1", "2", "59.80", unit_weight_kg=Decimal("0.35"))])
    plan = merge_split.split_order(the_order, allocated(1, part("SZ", (11, "2"))))
    assert not plan.split
    (delivery,) = plan.deliveries
    assert (delivery.warehouse, delivery.value, delivery.weight_kg) == ("SZ", Decimal("59.80"), Decimal("0.70"))
    assert plan.explanation == ()


def test_a_line_split_between_warehouses_keeps_quantity_and_amount_exact():
    the_order = order(1, [line(11, "P1", "3", "100.00"), line(12, "P2", "1", "0.01")])
    plan = merge_split.split_order(the_order, allocated(1, part("BJ", (11, "2"), (12, "1")), part("SH", (11, "1"))))
    assert plan.split
    by_warehouse = {delivery.warehouse: delivery for delivery in plan.deliveries}
    beijing = [(item.line_key, item.quantity, item.amount) for item in by_warehouse["BJ"].lines]
    shanghai = [(item.line_key, item.quantity, item.amount) for item in by_warehouse["SH"].lines]
    assert beijing == [(11, Decimal("2"), Decimal("66.67")), (12, Decimal("1"), Decimal("0.01"))]
    assert shanghai == [(11, Decimal("1"), Decimal("33.33"))]
    assert by_warehouse["BJ"].value + by_warehouse["SH"].value == Decimal("100.01")
    assert [message.code for message in plan.explanation] == ["split.warehouses"]


def test_thirds_of_a_line_add_up_to_the_cent():
    the_order = order(1, [line(11, "P1", "3", "10.00")])
    plan = merge_split.split_order(
        the_order, allocated(1, part("BJ", (11, "1")), part("SH", (11, "1")), part("GZ", (11, "1"))))
    assert [delivery.lines[0].amount for delivery in plan.deliveries] == [Decimal("3.33"), Decimal("3.33"),
                                                                          Decimal("3.34")]
    assert sum(delivery.value for delivery in plan.deliveries) == Decimal("10.00")


def test_fresh_goods_travel_apart_traceable_to_their_lines():
    the_order = order(1, [
        line(11, "P1", "2", "40.00", unit_weight_kg=Decimal("0.5"), category="snacks"),
        line(12, "CRAB", "1", "288.00", unit_weight_kg=Decimal("2.2"), unit_volume_cm3=Decimal("12000"),
             tags=frozenset({"fresh"}), category="seafood"),
        line(13, "P3", "1", "9.90", tags=frozenset({"fragile"})),
    ])
    plan = merge_split.split_order(the_order, allocated(1, part("SH", (11, "2"), (12, "1"), (13, "1"))))
    by_class = {delivery.shipping_class: delivery for delivery in plan.deliveries}
    assert set(by_class) == {"", "fresh"}
    assert [item.line_key for item in by_class["fresh"].lines] == [12]
    assert [item.line_key for item in by_class[""].lines] == [11, 13]
    assert by_class["fresh"].weight_kg == Decimal("2.2")
    assert by_class["fresh"].volume_cm3 == Decimal("12000")
    assert by_class["fresh"].categories == frozenset({"seafood"})
    assert by_class[""].tags == frozenset({"fragile"})
    assert by_class[""].value + by_class["fresh"].value == Decimal("337.90")
    assert [message.code for message in plan.explanation] == ["split.separate"]
    assert plan.explanation[0].args == {"items": "SKU-CRAB", "tag": "fresh"}


def test_every_order_line_is_shipped_exactly_once_across_deliveries():
    lines = [line(11, "P1", "5", "12.34"), line(12, "P2", "7", "99.99", tags=frozenset({"fresh"})),
             line(13, "P3", "1", "0.05")]
    the_order = order(1, lines)
    plan = merge_split.split_order(the_order, allocated(
        1, part("BJ", (11, "2"), (12, "4")), part("SH", (11, "3"), (12, "3"), (13, "1"))))
    assert len(plan.deliveries) == 4  # two warehouses × (ordinary, fresh)
    for original in lines:
        shipped = [item for delivery in plan.deliveries for item in delivery.lines if item.line_key == original.key]
        assert sum(item.quantity for item in shipped) == original.quantity
        assert sum(item.amount for item in shipped) == original.amount
        assert all(item.order_key == 1 for item in shipped)


def test_lines_of_merged_orders_keep_their_order_in_the_deliveries():
    merged = merge_split.merge_orders([order(1, [line(11, "P1", "1", "10.00")]),
                                       order(2, [line(21, "P2", "1", "20.00")])])
    plan = merge_split.split_order(merged, allocated(1, part("SZ", (11, "1"), (21, "1"))))
    assert [(item.order_key, item.line_key) for item in plan.deliveries[0].lines] == [(1, 11), (2, 21)]
    assert plan.deliveries[0].value == Decimal("30.00")


def test_an_unallocated_quantity_stays_out_of_the_deliveries():
    the_order = order(1, [line(11, "P1", "4", "10.00")])
    alloc = allocated(1, part("SZ", (11, "3")))
    alloc.shortages = [(11, Decimal(1))]
    plan = merge_split.split_order(the_order, alloc)
    assert [(item.quantity, item.amount) for item in plan.deliveries[0].lines] == [(Decimal("3"), Decimal("7.50"))]
