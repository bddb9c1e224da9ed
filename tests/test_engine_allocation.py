"""Warehouse allocation: nearest by region, then stock, daily capacity and cost; plain Python, no Odoo."""

from decimal import Decimal

import pytest

from tests.engine_loader import load_engines

engines = load_engines()
orders = engines.orders
allocation = engines.allocation
merge_split = engines.merge_split
cn_regions = engines.cn_regions

BEIJING = orders.Warehouse("BJ", "北京仓", cost=Decimal("5"))
SHANGHAI = orders.Warehouse("SH", "上海仓", cost=Decimal("4"))
GUANGZHOU = orders.Warehouse("GZ", "广州仓", cost=Decimal("6"))


@pytest.fixture(scope="module")
def divisions():
    return cn_regions.load_divisions()


@pytest.fixture(scope="module")
def priorities(divisions):
    sets = divisions.named_region_sets()
    return [
        allocation.RegionPriority(sets["华北"], ("BJ", "SH")),  # north → Beijing
        allocation.RegionPriority(sets["华南"], ("GZ", "SH")),  # south → Guangzhou
        allocation.RegionPriority(sets["华东"], ("SH",)),
    ]


DESTINATIONS = {
    "beijing": ("北京", "北京", "朝阳区"),
    "shenzhen": ("广东", "深圳", "南山区"),
    "hangzhou": ("浙江", "杭州", "西湖区"),
    "chengdu": ("四川", "成都", "武侯区"),
}


def order(key, destination, lines=None, shop="tmall"):
    lines = lines or [("P1", "2", "100.00")]
    return orders.Order(
        key=key, name=f"SO{key}", shop=shop, platform="taobao", buyer=f"buyer{key}", receiver="张三",
        mobile="13800138000", address=orders.Address(*DESTINATIONS[destination], "某路 1 号"),
        lines=tuple(orders.OrderLine(key * 10 + index, product, Decimal(quantity), Decimal(amount), sku=product)
                    for index, (product, quantity, amount) in enumerate(lines)),
    )


def stock(**per_warehouse):
    """stock(BJ={"P1": 5}, …) → StockBook."""
    return orders.StockBook({(warehouse, product): Decimal(quantity)
                             for warehouse, products in per_warehouse.items()
                             for product, quantity in products.items()})


def allocate(divisions, priorities, batch, book, warehouses=(BEIJING, SHANGHAI, GUANGZHOU)):
    areas = {item.key: divisions.resolve(item.address.province, item.address.city, item.address.district)
             for item in batch}
    return allocation.WarehouseAllocator(warehouses, priorities).allocate(batch, areas, book)


EVERYWHERE = {"P1": 100, "P2": 100}


@pytest.mark.parametrize(("destination", "warehouse"), [("beijing", "BJ"), ("shenzhen", "GZ"), ("hangzhou", "SH")])
def test_the_nearest_warehouse_of_the_region_ships(divisions, priorities, destination, warehouse):
    (result,) = allocate(divisions, priorities, [order(1, destination)],
                         stock(BJ=EVERYWHERE, SH=EVERYWHERE, GZ=EVERYWHERE))
    assert [part.warehouse for part in result.parts] == [warehouse]
    assert result.complete and not result.split
    assert result.explanation[0].code == "allocation.region"


def test_the_region_message_names_the_region_and_its_warehouses(divisions, priorities):
    (result,) = allocate(divisions, priorities, [order(1, "shenzhen")], stock(GZ=EVERYWHERE))
    assert result.explanation[0].render() == "广东省/深圳市/南山区 is in 华南: warehouses 广州仓, 上海仓 first."
    assert result.explanation[-1].render() == "广州仓 ships the whole order (cost 6.00)."


def test_falls_back_to_the_next_warehouse_when_the_nearest_lacks_stock(divisions, priorities):
    (result,) = allocate(divisions, priorities, [order(1, "shenzhen")],
                         stock(GZ={"P1": 1}, SH={"P1": 5}, BJ={"P1": 5}))
    assert [part.warehouse for part in result.parts] == ["SH"]
    assert [message.code for message in result.explanation] == ["allocation.region", "allocation.short",
                                                                 "allocation.whole"]
    assert result.explanation[1].args == {"warehouse": "广州仓", "items": "P1 ×1"}


def test_falls_back_when_the_nearest_has_used_its_daily_capacity(divisions, priorities):
    full = orders.Warehouse("GZ", "广州仓", cost=Decimal("6"), daily_capacity=500, shipped_today=500)
    (result,) = allocate(divisions, priorities, [order(1, "shenzhen")], stock(GZ=EVERYWHERE, SH=EVERYWHERE),
                         warehouses=(BEIJING, SHANGHAI, full))
    assert [part.warehouse for part in result.parts] == ["SH"]
    assert result.explanation[1].render() == "广州仓 has used its capacity of 500 deliveries today."


def test_capacity_is_used_up_within_a_batch(divisions, priorities):
    small = orders.Warehouse("GZ", "广州仓", cost=Decimal("6"), daily_capacity=2, shipped_today=1)
    batch = [order(1, "shenzhen"), order(2, "shenzhen")]
    results = allocate(divisions, priorities, batch, stock(GZ=EVERYWHERE, SH=EVERYWHERE),
                       warehouses=(BEIJING, SHANGHAI, small))
    assert [[part.warehouse for part in result.parts] for result in results] == [["GZ"], ["SH"]]


def test_a_destination_no_region_lists_goes_to_the_cheapest_warehouse(divisions, priorities):
    (result,) = allocate(divisions, priorities, [order(1, "chengdu")], stock(BJ=EVERYWHERE, SH=EVERYWHERE,
                                                                            GZ=EVERYWHERE))
    assert [part.warehouse for part in result.parts] == ["SH"]  # cost 4 < 5 < 6
    assert result.explanation[0].code == "allocation.no_region"


def test_warehouses_a_region_does_not_list_follow_by_cost(divisions, priorities):
    (result,) = allocate(divisions, priorities, [order(1, "hangzhou")], stock(BJ=EVERYWHERE, GZ=EVERYWHERE))
    assert [part.warehouse for part in result.parts] == ["BJ"]  # 华东 lists SH only; then BJ (5) before GZ (6)


def test_a_warehouse_not_shipping_for_the_shop_is_skipped(divisions, priorities):
    jd_only = orders.Warehouse("GZ", "广州仓", cost=Decimal("6"), shops=frozenset({"jd_store"}))
    (result,) = allocate(divisions, priorities, [order(1, "shenzhen")], stock(GZ=EVERYWHERE, SH=EVERYWHERE),
                         warehouses=(BEIJING, SHANGHAI, jd_only))
    assert [part.warehouse for part in result.parts] == ["SH"]
    assert result.explanation[1].code == "allocation.not_for_shop"


def test_an_order_no_warehouse_has_whole_is_split_nearest_first(divisions, priorities):
    the_order = order(1, "shenzhen", [("P1", "3", "300.00"), ("P2", "1", "50.00")])
    book = stock(GZ={"P1": 2}, SH={"P1": 1, "P2": 5}, BJ={"P1": 9})
    (result,) = allocate(divisions, priorities, [the_order], book)
    assert result.split and result.complete
    assert [(part.warehouse, part.lines) for part in result.parts] == [
        ("GZ", ((10, Decimal("2")),)),
        ("SH", ((10, Decimal("1")), (11, Decimal("1")))),
    ]
    assert result.explanation[-1].render() == "No warehouse has every item: split between 广州仓, 上海仓."
    assert (book.available("GZ", "P1"), book.available("SH", "P1"), book.available("SH", "P2")) == (0, 0, 4)
    plan = merge_split.split_order(the_order, result)
    assert sorted((delivery.warehouse, delivery.value) for delivery in plan.deliveries) == [
        ("GZ", Decimal("200.00")), ("SH", Decimal("150.00"))]


def test_what_no_warehouse_has_stays_unallocated(divisions, priorities):
    (result,) = allocate(divisions, priorities, [order(1, "beijing", [("P1", "5", "5.00")])],
                         stock(BJ={"P1": 1}, SH={"P1": 2}))
    assert [(part.warehouse, part.lines) for part in result.parts] == [("BJ", ((10, Decimal("1")),)),
                                                                       ("SH", ((10, Decimal("2")),))]
    assert result.shortages == [(10, Decimal("2"))]
    assert not result.complete
    assert result.explanation[-1].render() == "No warehouse has P1 ×2."


def test_stock_taken_by_one_order_is_gone_for_the_next(divisions, priorities):
    batch = [order(1, "shenzhen", [("P1", "4", "4.00")]), order(2, "shenzhen", [("P1", "4", "4.00")])]
    results = allocate(divisions, priorities, batch, stock(GZ={"P1": 5}, SH={"P1": 5}))
    assert [[part.warehouse for part in result.parts] for result in results] == [["GZ"], ["SH"]]
    assert results[0].to_data()["parts"] == [{"warehouse": "GZ", "lines": [[10, "4"]]}]
