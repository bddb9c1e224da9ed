"""The audit engine: each rule approving and holding, their order, batches; plain Python, no Odoo."""

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.engine_loader import load_engines

engines = load_engines()
audit = engines.audit
orders = engines.orders

PAID = datetime(2026, 11, 23, 10, 0)


def line(key=11, product="P1", quantity="1", amount="99.00", **values):
    return orders.OrderLine(key, product, Decimal(quantity), Decimal(amount), sku=f"SKU-{product}", **values)


def order(key=1, **values):
    fields = {
        "name": f"SO{key:04d}",
        "shop": "tmall",
        "platform": "taobao",
        "buyer": "tb_buyer_1",
        "receiver": "王小明",
        "mobile": "13800138000",
        "address": orders.Address("浙江省", "杭州市", "西湖区", "文三路 100 号 3 幢 501"),
        "lines": (line(key * 10),),
        "paid_at": PAID,
    }
    fields.update(values)
    return orders.Order(key=key, **fields)


def context(stock=None, warehouses=None, recent_orders=()):
    warehouses = warehouses or (orders.Warehouse("HZ", "杭州仓"),)
    stock = stock if stock is not None else {("HZ", "P1"): "10", ("HZ", "P2"): "10"}
    quantities = {key: Decimal(value) for key, value in stock.items()}
    return audit.AuditContext(stock=orders.StockBook(quantities), warehouses=tuple(warehouses),
                              recent_orders=tuple(recent_orders))


def run(rules, batch, audit_context=None):
    return audit.AuditEngine(rules).audit(batch, audit_context or context())


def only(rule, the_order, audit_context=None):
    return run([rule], [the_order], audit_context)[0]


def held_with(decision, reason, code):
    assert not decision.approved
    assert [(hold.reason, hold.message.code) for hold in decision.holds] == [(reason, code)]
    return decision.holds[0].message


# -- all rules --------------------------------------------------------------------------------------------


def test_an_order_passing_every_rule_is_approved():
    decision = run(None, [order()])[0]
    assert decision.approved
    assert decision.holds == []
    assert decision.passed == ["address", "phone", "duplicate", "stock", "threshold", "blacklist", "remark", "risk"]
    assert decision.message.code == "audit.approved"
    assert decision.area.district_code == "330106"


def test_every_failing_rule_is_listed_in_sequence_order():
    rules = [audit.ThresholdRule(sequence=30, max_amount=Decimal(50)), audit.MobileRule(sequence=10),
             audit.AddressRule(sequence=20)]
    decision = run(rules, [order(mobile="123", address=orders.Address("广东省", "深圳市", "西湖区", "x"))])[0]
    assert [hold.rule for hold in decision.holds] == ["phone", "address", "threshold"]
    assert [hold.reason for hold in decision.holds] == ["phone", "address", "threshold"]


def test_a_stopping_rule_skips_the_rules_after_it():
    rules = [audit.AddressRule(sequence=10, stop=True), audit.MobileRule(sequence=20)]
    decision = run(rules, [order(mobile="123", address=orders.Address("火星", "x", "y", "z"))])[0]
    assert [hold.rule for hold in decision.holds] == ["address"]
    assert decision.passed == []


def test_decisions_come_back_in_the_order_given_and_are_json_ready():
    batch = [order(3, paid_at=PAID + timedelta(hours=2)), order(1, buyer="b1"), order(2, mobile="12")]
    decisions = run(None, batch)
    assert [decision.order_key for decision in decisions] == [3, 1, 2]
    data = [decision.to_data() for decision in decisions]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data[2]["holds"][0]["reason"] == "phone"
    assert data[2]["holds"][0]["message"]["source"] == audit.AUDIT_PHONE_INVALID


def test_make_rule_builds_a_rule_from_configuration():
    rule = audit.make_rule("threshold", key="big_orders", sequence=5, max_amount=Decimal("5000"))
    assert isinstance(rule, audit.ThresholdRule)
    assert (rule.key, rule.sequence, rule.reason) == ("big_orders", 5, "threshold")


# -- address ----------------------------------------------------------------------------------------------


def test_address_approves_short_forms_and_holds_a_district_of_another_city():
    assert only(audit.AddressRule(), order(address=orders.Address("广东", "深圳", "南山", "科技园 1 号"))).approved
    decision = only(audit.AddressRule(), order(address=orders.Address("广东省", "深圳市", "西湖区", "科技园 1 号")))
    message = held_with(decision, "address", "address.district_elsewhere")
    assert message.render() == "西湖区 is not in 深圳市: it is in 浙江省/杭州市, 江西省/南昌市."


def test_address_holds_a_missing_street_or_receiver():
    no_street = order(address=orders.Address("浙江省", "杭州市", "西湖区", "  "))
    held_with(only(audit.AddressRule(), no_street), "address", "audit.street_missing")
    held_with(only(audit.AddressRule(), order(receiver="")), "address", "audit.receiver_missing")
    assert only(audit.AddressRule(require_street=False), no_street).approved


# -- mobile -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["13800138000", "+86 138-0013-8000", "17012345678", "13800138000-1234"])
def test_mobile_approves_usable_numbers(number):
    assert only(audit.MobileRule(), order(mobile=number)).approved


@pytest.mark.parametrize(
    ("number", "code"),
    [("1380013800", "audit.phone_invalid"), ("", "audit.phone_missing"), ("010-88886666", "audit.phone_landline")],
)
def test_mobile_holds_numbers_a_courier_cannot_use(number, code):
    held_with(only(audit.MobileRule(), order(mobile=number)), "phone", code)


def test_mobile_options_for_landlines_and_virtual_operators():
    assert only(audit.MobileRule(accept_landline=True), order(mobile="010-88886666")).approved
    message = held_with(only(audit.MobileRule(hold_virtual=True), order(mobile="17012345678")), "phone",
                        "audit.phone_virtual")
    assert message.args["prefix"] == "170"


def test_a_masked_number_passes_with_a_note_when_the_platform_masks_and_is_held_otherwise():
    decision = only(audit.MobileRule(), order(mobile="138****8000", contact_masked=True))
    assert decision.approved
    assert [note.code for note in decision.notes] == ["audit.phone_masked_note"]
    held_with(only(audit.MobileRule(), order(mobile="138****8000")), "phone", "audit.phone_masked")


def test_a_privacy_number_passes_with_its_extension_noted():
    decision = only(audit.MobileRule(), order(mobile="13800138000转5678"))
    assert decision.approved
    assert decision.notes[0].args == {"extension": "5678"}


# -- duplicates -------------------------------------------------------------------------------------------


def test_the_later_of_two_identical_orders_within_the_window_is_held():
    first = order(1)
    second = order(2, paid_at=PAID + timedelta(minutes=30), address=orders.Address("浙江省", "杭州市", "西湖区",
                                                                                   "文三路100号3幢501"))
    decisions = run([audit.DuplicateRule()], [second, first])  # given newest first: still the later one
    assert decisions[1].approved
    message = held_with(decisions[0], "duplicate", "audit.duplicate")
    assert message.args == {"other": "SO0001", "minutes": 30}


def test_orders_outside_the_window_or_with_other_items_are_no_duplicates():
    later = order(2, paid_at=PAID + timedelta(hours=25))
    other_items = order(3, paid_at=PAID + timedelta(minutes=5), lines=(line(31, quantity="2", amount="198.00"),))
    other_buyer = order(4, paid_at=PAID + timedelta(minutes=5), buyer="someone_else")
    decisions = run([audit.DuplicateRule()], [order(1), later, other_items, other_buyer])
    assert all(decision.approved for decision in decisions)
    shorter = run([audit.DuplicateRule(window=timedelta(minutes=10))], [order(1), order(2, paid_at=PAID +
                                                                                           timedelta(minutes=20))])
    assert all(decision.approved for decision in shorter)


def test_a_duplicate_of_an_order_already_in_the_database_is_held():
    decision = only(audit.DuplicateRule(), order(2, paid_at=PAID + timedelta(hours=3)),
                    context(recent_orders=[order(1)]))
    assert held_with(decision, "duplicate", "audit.duplicate").args["minutes"] == 180


# -- stock ------------------------------------------------------------------------------------------------


def test_stock_holds_what_no_eligible_warehouse_has():
    the_order = order(lines=(line(11, "P1", quantity="5", amount="500.00"), line(12, "P2", quantity="1")))
    decision = only(audit.StockRule(), the_order, context(stock={("HZ", "P1"): "3", ("HZ", "P2"): "9"}))
    message = held_with(decision, "stock", "audit.stock_short")
    assert message.args == {"shop": "tmall", "items": "SKU-P1 ×5 (3)"}


def test_stock_adds_up_the_warehouses_unless_the_order_must_ship_from_one():
    warehouses = (orders.Warehouse("HZ", "杭州仓"), orders.Warehouse("SH", "上海仓"))
    stock = {("HZ", "P1"): "3", ("SH", "P1"): "2"}
    the_order = order(lines=(line(11, "P1", quantity="5", amount="500.00"),))
    assert only(audit.StockRule(), the_order, context(stock, warehouses)).approved
    decision = only(audit.StockRule(single_warehouse=True), the_order, context(stock, warehouses))
    held_with(decision, "stock", "audit.stock_not_in_one")


def test_stock_of_a_warehouse_not_shipping_for_the_shop_does_not_count():
    warehouses = (orders.Warehouse("HZ", "杭州仓", shops=frozenset({"jd_store"})),)
    held_with(only(audit.StockRule(), order(), context(warehouses=warehouses)), "stock", "audit.no_warehouse")
    warehouses = (*warehouses, orders.Warehouse("SH", "上海仓"))
    decision = only(audit.StockRule(), order(), context({("HZ", "P1"): "9"}, warehouses))
    held_with(decision, "stock", "audit.stock_short")


def test_approved_orders_reserve_their_stock_for_the_rest_of_the_batch():
    batch = [order(2, paid_at=PAID + timedelta(minutes=1), lines=(line(21, quantity="6", amount="6.00"),)),
             order(1, lines=(line(11, quantity="6", amount="6.00"),))]
    decisions = run([audit.StockRule()], batch, context({("HZ", "P1"): "10"}))
    assert decisions[1].approved  # paid first
    assert held_with(decisions[0], "stock", "audit.stock_short").args["items"] == "SKU-P1 ×6 (4)"


def test_a_held_order_reserves_nothing():
    batch = [order(1, mobile="bad", lines=(line(11, quantity="6", amount="6.00"),)),
             order(2, paid_at=PAID + timedelta(minutes=1), lines=(line(21, quantity="6", amount="6.00"),))]
    decisions = run([audit.MobileRule(), audit.StockRule()], batch, context({("HZ", "P1"): "10"}))
    assert not decisions[0].approved
    assert decisions[1].approved


# -- thresholds -------------------------------------------------------------------------------------------


def test_threshold_on_amount():
    rule = audit.ThresholdRule(max_amount=Decimal("1000"))
    assert only(rule, order(lines=(line(amount="1000.00"),))).approved
    message = held_with(only(rule, order(lines=(line(amount="1000.01"),))), "threshold", "audit.amount_above")
    assert message.args == {"amount": "1000.01", "limit": "1000.00"}
    assert not only(rule, order(amount_total=Decimal("1200"))).approved  # the paid total when given


def test_threshold_on_quantity():
    rule = audit.ThresholdRule(max_quantity=Decimal(5))
    assert only(rule, order(lines=(line(quantity="3"), line(12, "P2", quantity="2")))).approved
    message = held_with(only(rule, order(lines=(line(quantity="3"), line(12, "P2", quantity="3")))), "threshold",
                        "audit.quantity_above")
    assert message.args == {"quantity": "6", "limit": "5"}


# -- blacklist --------------------------------------------------------------------------------------------


def test_blacklist_holds_buyers_numbers_and_addresses():
    rule = audit.BlacklistRule(
        buyers={"scalper_01": "resells, refuses deliveries"},
        mobiles={"+86 139-0000-1111": ""},
        addresses={"文三路 100 号 3 幢": "fraud ring"},
    )
    message = held_with(only(rule, order(buyer="scalper_01")), "blacklist", "audit.blacklist_buyer")
    assert message.render() == "Buyer scalper_01 is on the blacklist: resells, refuses deliveries"
    message = held_with(only(rule, order(mobile="13900001111")), "blacklist", "audit.blacklist_mobile")
    assert message.render() == "Mobile number 13900001111 is on the blacklist."
    message = held_with(only(rule, order()), "blacklist", "audit.blacklist_address")
    assert message.args == {"entry": "文三路 100 号 3 幢", "note": "fraud ring"}
    other_address = orders.Address("浙江省", "杭州市", "西湖区", "文二路 8 号")
    assert only(rule, order(address=other_address)).approved


# -- remarks and platform risk ----------------------------------------------------------------------------


def test_remark_needing_a_person_is_held_and_a_carrier_request_is_not():
    held = order(remark="麻烦改地址到公司", remark_tags=frozenset({"attention"}))
    message = held_with(only(audit.RemarkRule(), held), "remark", "audit.remark_review")
    assert message.args == {"tags": "attention", "remark": "麻烦改地址到公司"}
    assert only(audit.RemarkRule(), order(remark="指定顺丰", remark_tags=frozenset({"require_sf"}))).approved
    assert only(audit.RemarkRule(), order(remark="谢谢老板")).approved


def test_remark_not_recognised_is_held_when_asked():
    rule = audit.RemarkRule(hold_unrecognised=True)
    held_with(only(rule, order(remark="周末不在家，放门卫")), "remark", "audit.remark_unrecognised")
    assert only(rule, order(remark="指定顺丰", remark_tags=frozenset({"require_sf"}))).approved
    assert only(rule, order(remark="")).approved


def test_platform_risk_flags():
    flagged = order(risk_flags=frozenset({"address_changed", "risk_buyer"}))
    message = held_with(only(audit.RiskRule(), flagged), "risk", "audit.risk_flags")
    assert message.args == {"flags": "address_changed, risk_buyer"}
    assert only(audit.RiskRule(flags=frozenset({"fraud"})), flagged).approved
    assert only(audit.RiskRule(), order()).approved


def test_rules_do_not_change_the_orders():
    the_order = order()
    before = replace(the_order)
    run(None, [the_order])
    assert the_order == before
