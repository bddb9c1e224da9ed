"""Rate cards and carrier routing, against prices worked out by hand; plain Python, no Odoo.

The cards (CNY; 首重 1 kg, 续重 per started kg unless said otherwise; volumetric weight = L×W×H / divisor):

=========  ==================================  ===================================  ==========  ===========
carrier    江浙沪 (first / additional)          全国 mainland (first / additional)   divisor     remote +
=========  ==================================  ===================================  ==========  ===========
中通 ZTO   5.00 / 1.00                          12.00 / 2.00                         8000        10.00
圆通 YTO   6.00 / 1.50                          11.00 / 3.00                         8000        12.00
韵达 YD    4.50 / 1.50                          — (江浙沪 only)                      8000        —
顺丰 SF    —                                    23.00 / 8.00                         6000        —
EMS        —                                    15.00 / 5.00 (up to 30 kg)           8000        —
=========  ==================================  ===================================  ==========  ===========
"""

import json
from datetime import date
from decimal import Decimal

import pytest

from tests.engine_loader import load_engines

engines = load_engines()
cn_regions = engines.cn_regions
rate_card = engines.rate_card
routing = engines.routing
merge_split = engines.merge_split
orders = engines.orders

TODAY = date(2026, 11, 23)
D = Decimal


@pytest.fixture(scope="module")
def divisions():
    return cn_regions.load_divisions()


@pytest.fixture(scope="module")
def regions(divisions):
    sets = divisions.named_region_sets()
    mainland = [code for code in divisions.divisions if code.endswith("0000") and code[:2] not in ("71", "81", "82")]
    sets["全国"] = cn_regions.RegionSet("全国", frozenset(mainland))
    return sets


@pytest.fixture(scope="module")
def place(divisions):
    def resolve(text):
        return divisions.resolve(*text.split("/"))
    return resolve


def card(carrier, regions, near=None, nationwide=None, divisor=8000, remote=None, step="1", max_weight=None):
    zones = []
    if near:
        zones.append(rate_card.Zone("江浙沪", regions["江浙沪"], D(near[0]), D(near[1])))
    if nationwide:
        zones.append(rate_card.Zone("全国", regions["全国"], D(nationwide[0]), D(nationwide[1])))
    return rate_card.RateCard(carrier, zones, step_kg=D(step), volumetric_divisor=divisor,
                              remote_region=regions["偏远地区"] if remote else None, remote_surcharge=D(remote or 0),
                              max_weight_kg=max_weight)


@pytest.fixture(scope="module")
def carriers(regions):
    return [
        routing.CarrierAccount("zto", "ZTO", "中通快递", card("ZTO", regions, ("5", "1"), ("12", "2"), remote="10")),
        routing.CarrierAccount("yto", "YTO", "圆通速递", card("YTO", regions, ("6", "1.5"), ("11", "3"), remote="12")),
        routing.CarrierAccount("yd", "YD", "韵达快递", card("YD", regions, near=("4.5", "1.5"))),
        routing.CarrierAccount("sf", "SF", "顺丰速运", card("SF", regions, nationwide=("23", "8"), divisor=6000)),
        routing.CarrierAccount("ems", "EMS", "中国邮政EMS", card("EMS", regions, nationwide=("15", "5"),
                                                            max_weight=D(30))),
    ]


@pytest.fixture(scope="module")
def rules(regions):
    rule = routing.RoutingRule
    return [
        rule(key="buyer_sf", name="指定顺丰", sequence=1, carrier="sf", remark_tags=frozenset({"require_sf"})),
        rule(key="fresh", name="生鲜冷运", sequence=5, carrier="sf", service_type="冷运",
             label_template="sf_cold_100x150", tags=frozenset({"fresh"})),
        rule(key="618", name="618 江浙沪韵达", sequence=10, carrier="yd", regions=(regions["江浙沪"],),
             valid_from=date(2026, 6, 1), valid_to=date(2026, 6, 20)),
        rule(key="heavy", name="重货圆通", sequence=15, carrier="yto", min_weight_kg=D(20)),
        rule(key="jzh_small", name="江浙沪 3 kg 以内中通", sequence=20, carrier="zto", regions=(regions["江浙沪"],),
             max_weight_kg=D(3)),
        rule(key="jzh_large", name="江浙沪 3 kg 以上圆通", sequence=25, carrier="yto", regions=(regions["江浙沪"],),
             min_weight_kg=D(3)),
        rule(key="remote", name="偏远地区EMS", sequence=30, carrier="ems", regions=(regions["偏远地区"],)),
        rule(key="default", name="默认中通", sequence=100, carrier="zto", excluded_regions=(regions["港澳台"],)),
        rule(key="fallback", name="兜底圆通", sequence=110, carrier="yto"),
        rule(key="jzh_yd", name="江浙沪韵达", sequence=120, carrier="yd", regions=(regions["江浙沪"],)),
        rule(key="old", name="停用的规则", sequence=0, carrier="sf", active=False),
    ]


@pytest.fixture(scope="module")
def first_match(rules, carriers):
    return routing.RoutingEngine(rules, carriers)


@pytest.fixture(scope="module")
def cheapest(rules, carriers):
    return routing.RoutingEngine(rules, carriers, mode=routing.CHEAPEST)


def shipment(area, weight, volume="0", ship_date=TODAY, **values):
    return routing.Shipment(key="WH/OUT/00001", area=area, weight_kg=D(weight), volume_cm3=D(volume),
                            ship_date=ship_date, **values)


def skipped(decision):
    return [(item.rule, item.reason.code) for item in decision.skipped]


# -- rate cards -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "volume", "expected"),
    [
        ("0.8", "0", "12.00"),  # first weight only
        ("1", "0", "12.00"),
        ("2.0", "0", "14.00"),  # 12 + 1 × 2
        ("2.3", "0", "16.00"),  # 1.3 kg above → 2 started kg → 12 + 2 × 2
        ("1.5", str(40 * 30 * 20), "16.00"),  # 24000 / 8000 = 3 kg volumetric → 12 + 2 × 2
        ("1.5", str(50 * 40 * 30), "26.00"),  # 60000 / 8000 = 7.5 kg → 7 started kg → 12 + 7 × 2
        ("4", str(40 * 30 * 20), "18.00"),  # actual 4 kg > volumetric 3 kg → 12 + 3 × 2
    ],
)
def test_first_and_additional_weight_with_volumetric_weight(carriers, place, weight, volume, expected):
    zto = carriers[0].rate_card
    quote = zto.quote(D(weight), D(volume), place("北京/北京/朝阳区"))
    assert quote.zone == "全国"
    assert quote.total == D(expected)


def test_the_quote_shows_each_part_of_the_price(carriers, place):
    quote = carriers[0].rate_card.quote(D("1.5"), rate_card.volume_cm3(40, 30, 20), place("北京/北京/朝阳区"))
    assert (quote.actual_kg, quote.volumetric_kg, quote.chargeable_kg) == (D("1.5"), D("3.00"), D("3.00"))
    assert (quote.first_price, quote.additional_steps, quote.additional_price, quote.surcharge) == (
        D(12), 2, D(2), D(0))
    assert quote.message.render() == (
        "ZTO, zone 全国: 3.00 kg charged (actual 1.5 kg, volumetric 3.00 kg), first weight 12.00 + 2 × additional "
        "weight 2.00 + surcharge 0.00 = 16.00."
    )


def test_remote_surcharge(carriers, place):
    quote = carriers[0].rate_card.quote(D("2.3"), D(0), place("新疆/乌鲁木齐/天山区"))
    assert (quote.surcharge, quote.total) == (D(10), D("26.00"))  # 12 + 2 × 2 + 10


def test_the_zone_of_the_destination(carriers, place):
    zto = carriers[0].rate_card
    assert zto.quote(D("2.3"), D(0), place("浙江/杭州/西湖区")).total == D("7.00")  # 江浙沪: 5 + 2 × 1
    assert carriers[2].rate_card.quote(D("1"), D(0), place("北京/北京/朝阳区")) is None  # YD: 江浙沪 only


def test_a_city_zone_wins_over_its_province_whatever_the_order(regions, divisions, place):
    same_city = rate_card.Zone("同城", divisions.region_set("杭州", ["浙江/杭州"]), D(3), D("0.5"))
    near = rate_card.Zone("江浙沪", regions["江浙沪"], D(5), D(1))
    local = rate_card.RateCard("ZTO", [near, same_city])
    assert local.quote(D("2.3"), D(0), place("浙江/杭州/西湖区")).total == D("4.00")  # 3 + 2 × 0.5
    assert local.quote(D("2.3"), D(0), place("浙江/宁波/鄞州区")).total == D("7.00")


def test_half_kilogram_steps(regions, place):
    half = rate_card.RateCard("ZTO", [rate_card.Zone("全国", regions["全国"], D(12), D(1))], step_kg=D("0.5"))
    assert half.quote(D("2.3"), D(0), place("北京/北京/朝阳区")).total == D("15.00")  # 1.3 kg → 3 half-kg steps


def test_volumetric_divisor_6000_rounds_up_to_ten_grams(carriers, place):
    sf = carriers[3].rate_card
    quote = sf.quote(D(1), D(30 * 20 * 20), place("北京/北京/朝阳区"))
    assert (quote.volumetric_kg, quote.total) == (D("2.00"), D("31.00"))  # 12000 / 6000 = 2 kg → 23 + 8
    assert sf.volumetric_kg(D(1000)) == D("0.17")  # 0.1666… kg


# -- routing: priorities, region sets, weight bands, dates, buyer's carrier ---------------------------------


def test_first_matching_rule_in_sequence_wins_and_every_rule_before_it_says_why_not(first_match, place):
    decision = first_match.route(shipment(place("浙江/杭州/西湖区"), "2.3"))
    assert (decision.rule.key, decision.carrier.key, decision.cost) == ("jzh_small", "zto", D("7.00"))
    assert skipped(decision) == [
        ("buyer_sf", "route.remark"),
        ("fresh", "route.tags"),
        ("618", "route.expired"),
        ("heavy", "route.weight"),
    ]
    assert [item.reason.render() for item in decision.skipped] == [
        "The buyer's remark has none of require_sf.",
        "No item tagged fresh.",
        "Valid until 2026-06-20.",
        "Weight not above 20 kg.",
    ]
    assert decision.reason.render() == "Rule 江浙沪 3 kg 以内中通 matched: 中通快递."


def test_a_seasonal_rule_applies_on_its_dates_only(first_match, place):
    during = first_match.route(shipment(place("浙江/杭州/西湖区"), "2.3", ship_date=date(2026, 6, 18)))
    assert (during.rule.key, during.cost) == ("618", D("7.50"))  # 4.5 + 2 × 1.5
    before = first_match.route(shipment(place("浙江/杭州/西湖区"), "2.3", ship_date=date(2026, 5, 31)))
    assert before.rule.key == "jzh_small"
    assert before.skipped[2].reason.render() == "Valid from 2026-06-01."


def test_the_engine_date_is_used_when_the_shipment_has_none(rules, carriers, place):
    engine = routing.RoutingEngine(rules, carriers, today=date(2026, 6, 1))
    assert engine.route(shipment(place("上海/上海/浦东新区"), "1", ship_date=None)).rule.key == "618"


def test_weight_bands_include_their_maximum(first_match, place):
    exactly_three = first_match.route(shipment(place("江苏/南京/玄武区"), "3"))
    assert (exactly_three.rule.key, exactly_three.cost) == ("jzh_small", D("7.00"))  # 5 + 2 × 1
    above = first_match.route(shipment(place("江苏/南京/玄武区"), "3.01"))
    assert (above.rule.key, above.cost) == ("jzh_large", D("10.50"))  # 6 + 3 × 1.5
    assert above.skipped[-1].reason.render() == "Weight above 3 kg."
    heavy = first_match.route(shipment(place("江苏/南京/玄武区"), "25"))
    assert (heavy.rule.key, heavy.cost) == ("heavy", D("42.00"))  # 6 + 24 × 1.5


def test_rules_see_the_actual_weight_the_price_the_chargeable_one(first_match, place):
    decision = first_match.route(shipment(place("浙江/杭州/西湖区"), "1", volume=str(40 * 30 * 20)))
    assert (decision.rule.key, decision.cost) == ("jzh_small", D("7.00"))  # 3 kg volumetric: 5 + 2 × 1
    assert {item.carrier: item.cost for item in decision.alternatives}["sf"] == D("47.00")  # 24000/6000 = 4 kg


def test_region_sets(first_match, place):
    beijing = first_match.route(shipment(place("北京/北京/朝阳区"), "1"))
    assert (beijing.rule.key, beijing.cost) == ("default", D("12.00"))
    reasons = {item.rule: item.reason.render() for item in beijing.skipped}
    assert reasons["jzh_small"] == "Destination not in 江浙沪."
    assert reasons["remote"] == "Destination not in 偏远地区."
    remote = first_match.route(shipment(place("新疆/乌鲁木齐/天山区"), "2.3"))
    assert (remote.rule.key, remote.carrier.key, remote.cost) == ("remote", "ems", D("25.00"))  # 15 + 2 × 5


def test_an_excluded_region_and_a_carrier_that_does_not_deliver_there(first_match, place):
    decision = first_match.route(shipment(place("香港/九龙/油尖旺区"), "1"))
    assert not decision.routed
    assert decision.reason.code == "route.no_rule"
    reasons = {item.rule: item.reason.render() for item in decision.skipped}
    assert reasons["default"] == "Destination in 港澳台, which the rule excludes."
    assert reasons["fallback"] == "圆通速递 does not deliver to 香港特别行政区/油尖旺区."
    assert decision.cost is None and decision.quote is None


def test_the_buyer_specified_carrier(first_match, place):
    decision = first_match.route(shipment(place("浙江/杭州/西湖区"), "1", remark_tags=frozenset({"require_sf"})))
    assert (decision.rule.key, decision.carrier.express_code, decision.cost) == ("buyer_sf", "SF", D("23.00"))
    assert decision.skipped == []
    assert decision.alternatives == []  # the buyer allows no other carrier


def test_a_carrier_the_buyer_refuses_is_skipped(first_match, place):
    decision = first_match.route(shipment(place("浙江/杭州/西湖区"), "2.3", remark_tags=frozenset({"exclude_zto"})))
    assert (decision.rule.key, decision.carrier.key, decision.cost) == ("fallback", "yto", D("9.00"))  # 6 + 2 × 1.5
    reasons = {item.rule: item.reason for item in decision.skipped}
    assert reasons["jzh_small"].render() == "The buyer asked not to ship with ZTO."
    assert reasons["default"].code == "route.buyer_excluded"
    assert [(item.carrier, item.cost) for item in decision.alternatives] == [
        ("yd", D("7.50")), ("ems", D("25.00")), ("sf", D("39.00"))]


def test_a_carrier_the_buyer_requires_and_nobody_serves_leaves_the_delivery_to_a_person(first_match, place):
    decision = first_match.route(shipment(place("浙江/杭州/西湖区"), "1", remark_tags=frozenset({"require_jd"})))
    assert not decision.routed
    reasons = {item.rule: item.reason.render() for item in decision.skipped}
    assert len(reasons) == 10  # every active rule was tried
    for key in ("jzh_small", "default", "fallback", "jzh_yd"):  # their conditions held, their carrier not
        assert reasons[key] == "The buyer asked for JD."
    assert decision.reason.render() == "No routing rule matched the delivery to 浙江省/杭州市/西湖区: route it by hand."


def test_fresh_goods_get_the_cold_chain_service_and_label(first_match, place):
    decision = first_match.route(shipment(place("广东/深圳/南山区"), "2", tags=frozenset({"fresh"})))
    assert (decision.rule.key, decision.service_type, decision.label_template) == ("fresh", "冷运", "sf_cold_100x150")
    assert decision.cost == D("31.00")  # 23 + 1 × 8


def test_carrier_weight_limit_and_unavailable_carrier(regions, carriers, place):
    rule = routing.RoutingRule
    engine = routing.RoutingEngine(
        [rule(key="remote", name="偏远地区EMS", carrier="ems", regions=(regions["偏远地区"],)),
         rule(key="gone", name="已停用账号", carrier="dhl")],
        carriers,
    )
    decision = engine.route(shipment(place("新疆/乌鲁木齐/天山区"), "35"))
    assert [item.reason.render() for item in decision.skipped] == [
        "中国邮政EMS takes parcels up to 30 kg.", "Carrier account dhl is not available."]


def test_inactive_rules_are_not_tried_and_the_mode_is_checked(first_match, rules, carriers):
    assert "old" not in [compiled.rule.key for compiled in first_match.rules]
    with pytest.raises(ValueError):
        routing.RoutingEngine(rules, carriers, mode="random")


# -- cheapest mode ----------------------------------------------------------------------------------------


def test_cheapest_mode_picks_the_lowest_price_among_matching_rules(first_match, cheapest, place):
    parcel = shipment(place("浙江/杭州/西湖区"), "4")
    assert (first_match.route(parcel).rule.key, first_match.route(parcel).cost) == ("jzh_large", D("10.50"))
    decision = cheapest.route(parcel)
    assert (decision.rule.key, decision.carrier.key, decision.cost) == ("default", "zto", D("8.00"))  # 5 + 3 × 1
    assert decision.reason.render() == "Rule 默认中通 matched with the lowest price: 中通快递."
    outpriced = {item.rule: item.reason.render() for item in decision.skipped if item.reason.code == "route.dearer"}
    assert outpriced == {
        "jzh_large": "Matched, but 圆通速递 costs 10.50, more than 8.00 with 中通快递.",  # 6 + 3 × 1.5
        "fallback": "Matched, but 圆通速递 costs 10.50, more than 8.00 with 中通快递.",
        "jzh_yd": "Matched, but 韵达快递 costs 9.00, more than 8.00 with 中通快递.",  # 4.5 + 3 × 1.5
    }


def test_cheapest_mode_keeps_the_earlier_of_equal_prices(cheapest, place):
    decision = cheapest.route(shipment(place("浙江/杭州/西湖区"), "2.3"))
    assert (decision.rule.key, decision.cost) == ("jzh_small", D("7.00"))
    reasons = {item.rule: item.reason.render() for item in decision.skipped}
    assert reasons["default"] == "Matched, at the same price (7.00) as rule 江浙沪 3 kg 以内中通, which comes first."


def test_cheapest_mode_still_honours_the_buyer(cheapest, place):
    decision = cheapest.route(shipment(place("浙江/杭州/西湖区"), "4", remark_tags=frozenset({"exclude_zto"})))
    assert (decision.rule.key, decision.carrier.key, decision.cost) == ("jzh_yd", "yd", D("9.00"))


# -- explanation ------------------------------------------------------------------------------------------


def test_the_explanation_is_json_ready_and_holds_rule_reasons_cost_and_alternatives(cheapest, place):
    data = cheapest.route(shipment(place("浙江/杭州/西湖区"), "4")).to_data()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert {key: data[key] for key in ("destination", "weight_kg", "routed", "rule", "rule_name", "carrier",
                                       "cost", "ship_date")} == {
        "destination": "浙江省/杭州市/西湖区", "weight_kg": "4", "routed": True, "rule": "default",
        "rule_name": "默认中通", "carrier": "zto", "cost": "8.00", "ship_date": "2026-11-23"}
    assert data["quote"] == {
        "carrier": "ZTO", "zone": "江浙沪", "actual_kg": "4", "volumetric_kg": "0", "chargeable_kg": "4",
        "first_price": "5.00", "additional_steps": 3, "additional_price": "1.00", "surcharge": "0.00",
        "total": "8.00"}
    assert data["alternatives"] == [
        {"carrier": "yd", "name": "韵达快递", "cost": "9.00"},
        {"carrier": "yto", "name": "圆通速递", "cost": "10.50"},
        {"carrier": "ems", "name": "中国邮政EMS", "cost": "30.00"},  # 15 + 3 × 5
        {"carrier": "sf", "name": "顺丰速运", "cost": "47.00"},  # 23 + 3 × 8
    ]
    first = data["skipped"][0]
    assert first == {"code": "route.remark", "source": routing.SKIP_REMARK_TAGS, "module": "shop_logistics",
                     "args": {"tags": "require_sf"}, "rule": "buyer_sf", "name": "指定顺丰"}
    assert first["source"] % first["args"] == "The buyer's remark has none of require_sf."
    assert data["reason"]["args"] == {"rule": "默认中通", "carrier": "中通快递"}


def test_route_many_and_shipments_from_deliveries(first_match, place):
    line = orders.OrderLine(11, "P1", D(2), D("59.80"), unit_weight_kg=D("0.6"), tags=frozenset({"fragile"}))
    order = orders.Order(key=1, name="SO1", shop="tmall", platform="taobao", buyer="b", receiver="张三",
                         mobile="13800138000", address=orders.Address("浙江省", "杭州市", "西湖区", "x"),
                         lines=(line,), remark_tags=frozenset({"require_sf"}))
    alloc = engines.allocation.Allocation(1, parts=[engines.allocation.AllocationPart("HZ", ((11, D(2)),))])
    (delivery,) = merge_split.split_order(order, alloc).deliveries
    parcel = routing.Shipment.from_delivery("WH/OUT/7", delivery, order, place("浙江/杭州/西湖区"), TODAY)
    assert (parcel.weight_kg, parcel.value, parcel.tags, parcel.remark_tags) == (
        D("1.2"), D("59.80"), frozenset({"fragile"}), frozenset({"require_sf"}))
    (decision,) = first_match.route_many([parcel])
    assert (decision.shipment.key, decision.rule.key, decision.cost) == ("WH/OUT/7", "buyer_sf", D("31.00"))


def test_reasons_that_depend_on_the_delivery_are_not_shared_between_decisions(first_match, cheapest, place):
    hong_kong = first_match.route(shipment(place("香港/九龙/油尖旺区"), "1")).to_data()
    macau = first_match.route(shipment(place("澳门/澳门半岛/花地玛堂区"), "1")).to_data()
    fallback = {item["rule"]: item for item in hong_kong["skipped"]}["fallback"]
    assert fallback["args"]["destination"] == "香港特别行政区/油尖旺区"
    assert {item["rule"]: item for item in macau["skipped"]}["fallback"]["args"]["destination"] == (
        "澳门特别行政区/花地玛堂区")
    light = {item["rule"]: item for item in cheapest.route(shipment(place("浙江/杭州/西湖区"), "4")).to_data()[
        "skipped"]}
    heavy = {item["rule"]: item for item in cheapest.route(shipment(place("浙江/杭州/西湖区"), "8")).to_data()[
        "skipped"]}
    assert (light["jzh_yd"]["args"]["cost"], heavy["jzh_yd"]["args"]["cost"]) == ("9.00", "15.00")  # 4.5 + 7 × 1.5
    assert light["buyer_sf"] == heavy["buyer_sf"]
