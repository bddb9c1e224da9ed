"""The KDNiao simulator behaves like KDNiao (facts: /work/shared/reference/kdniao-api.md), over real HTTP."""

import base64
import hashlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.simulators.kdniao import SANDBOX_GATEWAY_PATH, KdniaoSimulator, data_sign

ROOT = Path(__file__).resolve().parent.parent
EBUSINESS_ID = "test1234567"
API_KEY = "sandbox-kdniao-api-key"
# The placeholder account of the reference's worked examples (§1.3, §6.2): a production ID.
REFERENCE_ID = "1234567"
REFERENCE_KEY = "a1b2c3d4-e5f6-4a7b-8c9d-0123456789ab"
START = datetime(2026, 11, 11, 9, 0)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCEPT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

ACCOUNT_FIELDS = {
    "SF": {"MonthCode": "7551234567"},
    "ZTO": {"CustomerName": "testzto", "CustomerPwd": "testztopwd"},
    "YTO": {"CustomerName": "testyto", "MonthCode": "yto-key"},
    "YD": {"CustomerName": "testyd", "CustomerPwd": "testydpwd"},
    "STO": {"CustomerName": "teststo", "CustomerPwd": "teststopwd", "SendSite": "杭州余杭"},
    "JD": {"CustomerName": "010K123456", "WareHouseID": "BJ-WH-01"},
    "EMS": {},
    "JTSD": {"DeliveryMethod": 3},
}
_order_numbers = itertools.count(1)


def reference_sign(text, key):
    """The test's own DataSign, written from §1.3 and independent of the simulator."""
    return base64.b64encode(hashlib.md5((text + key).encode("utf-8")).hexdigest().encode("ascii")).decode("ascii")


@pytest.fixture
def sim():
    simulator = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY, REFERENCE_ID: REFERENCE_KEY}, start_time=START)
    simulator.start()
    yield simulator
    simulator.stop()


def post(url, body, timeout=5.0, content_type="application/x-www-form-urlencoded;charset=utf-8"):
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def form(request_type, request_data, ebusiness_id=EBUSINESS_ID, key=API_KEY, sign=None):
    return urllib.parse.urlencode(
        {
            "RequestData": request_data,
            "EBusinessID": ebusiness_id,
            "RequestType": request_type,
            "DataSign": sign if sign is not None else reference_sign(request_data, key),
            "DataType": "2",
        }
    )


def call(sim, request_type, payload, path="/api/dist", **form_args):
    request_data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    status, text = post(sim.base_url + path, form(request_type, request_data, **form_args))
    assert status == 200, text
    return json.loads(text)


def party(name, mobile, province, city, district, address, postcode=None):
    result = {"Name": name, "Mobile": mobile, "ProvinceName": province, "CityName": city, "ExpAreaName": district,
              "Address": address}
    if postcode:
        result["PostCode"] = postcode
    return result


def waybill_order(shipper="ZTO", receiver=None, **changes):
    postcodes = shipper in ("EMS", "YZPY", "YZBK")
    order = {
        "OrderCode": f"SO{next(_order_numbers):08d}",
        "ShipperCode": shipper,
        "PayType": 3,
        "ExpType": "1",
        "Sender": party("王强", "13800000001", "浙江省", "杭州市", "余杭区", "文一西路100号", "311100" if postcodes else None),
        "Receiver": receiver
        or party("李娜", "13900000002", "广东省", "深圳市", "南山区", "科技园南区1栋201", "518000" if postcodes else None),
        "Commodity": [{"GoodsName": "T恤", "Goodsquantity": 2, "GoodsWeight": 0.3}],
        "Weight": 0.6,
        "Quantity": 1,
        "IsReturnPrintTemplate": "1",
        **ACCOUNT_FIELDS.get(shipper, {}),
    }
    order.update(changes)
    return order


def issue(sim, shipper="ZTO", **changes):
    answer = call(sim, "1007", waybill_order(shipper, **changes), path="/api/EOrderService")
    assert answer["Success"] is True and answer["ResultCode"] == "100", answer
    return answer


def track(sim, number, request_type="8001", shipper="ZTO", **fields):
    return call(sim, request_type, {"OrderCode": "", "ShipperCode": shipper, "LogisticCode": number, **fields},
                path="/Ebusiness/EbusinessOrderHandle.aspx")


# ------------------------------------------------------------------------------------------ signing (§1.3)

REFERENCE_BODY = (
    "RequestData=%7B%22OrderCode%22%3A%22%22%2C%22ShipperCode%22%3A%22YTO%22%2C%22LogisticCode%22%3A%22"
    "YT1234567890123%22%7D"
    "&EBusinessID=1234567&RequestType=1002&DataSign=NWY2MmVmNTYyN2JjNzc3MjQ1YWNiZGEzZjcwY2M5Mjk%3D&DataType=2"
)
FIRST_ROW = '{"OrderCode":"","ShipperCode":"YTO","LogisticCode":"YT1234567890123"}'
PUSH_EXAMPLE = (
    '{"EBusinessID":"1234567","PushTime":"2024-05-02 10:15:00","Count":"1","Data":[{"EBusinessID":"1234567",'
    '"ShipperCode":"ZTO","LogisticCode":"78812345678901","Success":true,"State":"2","StateEx":"201","Location":"杭州市",'
    '"Traces":[{"AcceptTime":"2024-05-01 18:02:11","AcceptStation":"【上海市】快件已揽收","Location":"上海市","Action":"1"},'
    '{"AcceptTime":"2024-05-02 09:40:27","AcceptStation":"【杭州市】快件已到达杭州转运中心","Location":"杭州市","Action":"201"}]}]}'
)


@pytest.mark.parametrize(
    "request_data, md5_hex, sign",
    [
        (FIRST_ROW, "5f62ef5627bc777245acbda3f70cc929", "NWY2MmVmNTYyN2JjNzc3MjQ1YWNiZGEzZjcwY2M5Mjk="),
        ("{'OrderCode':'','ShipperCode':'YTO','LogisticCode':'YT1234567890123'}", "77788305a8d89b341e03101770ac062c",
         "Nzc3ODgzMDVhOGQ4OWIzNDFlMDMxMDE3NzBhYzA2MmM="),
        (FIRST_ROW + " ", "661a00c5436404749c717743b46cbc0c", "NjYxYTAwYzU0MzY0MDQ3NDljNzE3NzQzYjQ2Y2JjMGM="),
        ('{"ShipperCode":"SF","LogisticCode":"SF1234567890123","CustomerName":"5678"}',
         "f788e908d62bd57fc03dbd817d1f2cc7", "Zjc4OGU5MDhkNjJiZDU3ZmMwM2RiZDgxN2QxZjJjYzc="),
        (PUSH_EXAMPLE, "f2766f3fa326563c41c050a0cdcab253", "ZjI3NjZmM2ZhMzI2NTYzYzQxYzA1MGEwY2RjYWIyNTM="),
    ],
)
def test_data_sign_reproduces_the_reference_vectors(request_data, md5_hex, sign):
    assert hashlib.md5((request_data + REFERENCE_KEY).encode()).hexdigest() == md5_hex
    assert data_sign(request_data, REFERENCE_KEY) == sign


def test_the_reference_body_is_accepted_byte_for_byte(sim):
    status, text = post(sim.base_url + "/Ebusiness/EbusinessOrderHandle.aspx", REFERENCE_BODY)
    answer = json.loads(text)
    assert status == 200
    assert answer["Success"] is True, answer
    assert (answer["State"], answer["Traces"], answer["Reason"]) == ("0", [], "暂无轨迹信息")
    assert sim.requests[-1]["data"] == {"OrderCode": "", "ShipperCode": "YTO", "LogisticCode": "YT1234567890123"}


@pytest.mark.parametrize(
    "wrong_sign",
    [
        "NUY2MkVGNTYyN0JDNzc3MjQ1QUNCREEzRjcwQ0M5Mjk=",  # Base64 of the uppercase hex
        "X2LvVie8d3JFrL2j9wzJKQ==",  # Base64 of the raw digest
        reference_sign(FIRST_ROW, "another-key"),
        reference_sign(FIRST_ROW + " ", REFERENCE_KEY),  # the sign of a different string
    ],
)
def test_wrong_sign_variants_are_rejected(sim, wrong_sign):
    answer = call(sim, "1002", FIRST_ROW, path="/Ebusiness/EbusinessOrderHandle.aspx",
                  ebusiness_id=REFERENCE_ID, sign=wrong_sign)
    assert answer["Success"] is False
    assert answer["ResultCode"] == "102"
    assert "DataSign" in answer["Reason"]


def test_pseudo_json_is_signed_and_parsed_as_sent(sim):
    single_quoted = "{'OrderCode':'','ShipperCode':'YTO','LogisticCode':'YT1234567890123'}"
    sign = "Nzc3ODgzMDVhOGQ4OWIzNDFlMDMxMDE3NzBhYzA2MmM="
    answer = call(sim, "1002", single_quoted, ebusiness_id=REFERENCE_ID, sign=sign)
    assert answer["Success"] is True and answer["LogisticCode"] == "YT1234567890123"
    trailing_comma = "{'ShipperCode': 'SF','LogisticCode': 'SF1415754706056',}"
    answer = call(sim, "1002", trailing_comma)
    assert answer["Success"] is True and answer["ShipperCode"] == "SF"
    sign = "NjYxYTAwYzU0MzY0MDQ3NDljNzE3NzQzYjQ2Y2JjMGM="
    answer = call(sim, "1002", FIRST_ROW + " ", ebusiness_id=REFERENCE_ID, sign=sign)
    assert answer["Success"] is True


def test_double_encoded_values_are_accepted(sim):
    sign = reference_sign(FIRST_ROW, REFERENCE_KEY)
    php_style = urllib.parse.urlencode(  # KDNiao's PHP demo: urlencode() then http_build_query()
        {"RequestData": urllib.parse.quote_plus(FIRST_ROW), "EBusinessID": REFERENCE_ID, "RequestType": "1002",
         "DataSign": urllib.parse.quote_plus(sign), "DataType": "2"}
    )
    assert "%257B" in php_style and "%253D" in php_style
    for body in (php_style, form("1002", FIRST_ROW, REFERENCE_ID, sign=urllib.parse.quote(sign))):
        status, text = post(sim.base_url + "/api/dist", body)
        assert json.loads(text)["Success"] is True, text
        assert sim.requests[-1]["data"]["LogisticCode"] == "YT1234567890123"


def test_transport_errors_are_kdniao_answers(sim):
    def refused(body, path="/api/dist"):
        status, text = post(sim.base_url + path, body)
        assert status == 200
        answer = json.loads(text)
        assert answer["Success"] is False, answer
        return answer

    assert refused(form("1002", FIRST_ROW, ebusiness_id="test0000000"))["ResultCode"] == "104"
    assert refused(form("1002", "this is not json"))["ResultCode"] == "103"
    assert refused(form("9999", FIRST_ROW))["ResultCode"] == "105"
    missing_sign = urllib.parse.urlencode(
        {"RequestData": FIRST_ROW, "EBusinessID": EBUSINESS_ID, "RequestType": "1002"}
    )
    assert "DataSign" in refused(missing_sign)["Reason"]
    assert refused(form("1002", FIRST_ROW).replace("DataType=2", "DataType=1"))["ResultCode"] == "103"
    # The sandbox gateway takes only sandbox IDs; the same body is fine on a production path.
    assert refused(REFERENCE_BODY, SANDBOX_GATEWAY_PATH)["ResultCode"] == "104"
    gateway = json.loads(post(sim.base_url + SANDBOX_GATEWAY_PATH, form("1002", FIRST_ROW))[1])
    assert gateway["Success"] is True
    sim.strict_environments = True
    assert refused(form("1002", FIRST_ROW), "/api/dist")["ResultCode"] == "104"


# ------------------------------------------------------------------------------------------ 1007 e-waybill (§3)


@pytest.mark.parametrize(
    "shipper, number_format",
    [
        ("SF", r"SF\d{13}"), ("ZTO", r"7\d{13}"), ("YTO", r"YT\d{13}"), ("JD", r"JDVA\d{11}"),
        ("YD", r"4\d{14}"), ("STO", r"77\d{10}"), ("EMS", r"1\d{12}"), ("JTSD", r"JT\d{13}"),
    ],
)
def test_waybill_numbers_and_routing_codes_per_carrier(sim, shipper, number_format):
    answer = issue(sim, shipper, Callback="shop-42")
    order = answer["Order"]
    assert re.fullmatch(number_format, order["LogisticCode"]), order["LogisticCode"]
    assert order["ShipperCode"] == shipper
    assert re.fullmatch(r"深圳南山 [A-H]\d{2}", order["MarkDestination"])
    assert re.fullmatch(r"\d{3}-[A-Z]\d{2} \d{2}", order["SortingCode"])
    assert (order["PackageName"], order["PackageCode"]) == ("深圳集包", "518" + order["PackageCode"][3])
    assert (order["OriginCode"], order["OriginName"]) == ("310000", "杭州转运中心")
    assert (order["DestinatioCode"], order["DestinatioName"]) == ("518000", "深圳南山网点")
    assert GUID.match(answer["UniquerRequestNumber"])
    assert answer["EstimatedDeliveryTime"] == "2026-11-14"  # Zhejiang to Guangdong: 72 h
    assert answer["Callback"] == "shop-42"
    assert answer["Reason"] == "成功"
    waybill = sim.waybills[order["LogisticCode"]]
    assert (waybill["order_code"], waybill["shipper_code"], waybill["state_ex"], waybill["cancelled"]) == (
        sim.requests[-1]["data"]["OrderCode"], shipper, "0", False
    )


def test_numbers_follow_a_deterministic_sequence():
    numbers = []
    for _run in range(2):
        simulator = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY}, start_time=START).start()
        try:
            numbers.append([issue(simulator, shipper)["Order"]["LogisticCode"] for shipper in ("SF", "ZTO", "SF")])
        finally:
            simulator.stop()
    assert numbers[0] == numbers[1]
    assert len(set(numbers[0])) == 3


def test_mark_destination_of_a_municipality(sim):
    receiver = party("赵敏", "13700000003", "北京", "北京市", "朝阳区", "建国路88号")
    order = issue(sim, "SF", receiver=receiver)["Order"]
    assert order["MarkDestination"] == "京-朝阳"
    assert order["PackageName"] == "北京集包"


def test_print_template_is_a_label_of_the_waybill(sim):
    answer = issue(sim, "ZTO")
    template = answer["PrintTemplate"]
    assert template.startswith("<!DOCTYPE html><html") and template.endswith("</html>")
    for text in (answer["Order"]["LogisticCode"], "李娜", "科技园南区1栋201", answer["Order"]["MarkDestination"],
                 answer["Order"]["SortingCode"], "深圳集包"):
        assert text in template
    assert "PrintTemplate" not in issue(sim, "ZTO", IsReturnPrintTemplate="0")


@pytest.mark.parametrize(("template_size", "width_mm", "height_mm"), [("", 100, 150), ("130", 76, 130), ("180", 100, 180)])
def test_print_template_barcode_scans_as_the_waybill_on_its_paper_size(sim, template_size, width_mm, height_mm,
                                                                        tmp_path):
    changes = {"TemplateSize": template_size} if template_size else {}
    answer = issue(sim, "SF", **changes)
    number = answer["Order"]["LogisticCode"]
    assert f"width:{width_mm}mm;height:{height_mm}mm" in answer["PrintTemplate"]
    page = tmp_path / "label.html"
    page.write_text(answer["PrintTemplate"], encoding="utf-8")
    subprocess.run(["wkhtmltopdf", "-q", "--page-width", f"{width_mm}mm", "--page-height", f"{height_mm}mm",
                    str(page), str(tmp_path / "label.pdf")], capture_output=True, check=False)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(tmp_path / "label.pdf"),
                    str(tmp_path / "label")], check=True)
    scanned = subprocess.run(["zbarimg", "-q", str(tmp_path / "label.png")], capture_output=True, text=True,
                             check=False).stdout
    assert scanned.split() == [f"CODE-128:{number}"]


@pytest.mark.parametrize(
    "remove, named",
    [
        (("OrderCode",), "OrderCode"), (("PayType",), "PayType"), (("Commodity",), "Commodity"),
        (("Receiver", "Mobile"), "Receiver.Mobile/Tel"), (("Sender", "ProvinceName"), "Sender.ProvinceName"),
        (("Receiver", "ExpAreaName"), "Receiver.ExpAreaName"),
    ],
)
def test_missing_field_is_101_naming_it(sim, remove, named):
    order = waybill_order("ZTO")
    target = order
    for key in remove[:-1]:
        target = target[key]
    del target[remove[-1]]
    answer = call(sim, "1007", order)
    assert (answer["Success"], answer["ResultCode"]) == (False, "101")
    assert named in answer["Reason"]
    assert not sim.waybills


def test_telephone_instead_of_mobile_is_enough(sim):
    receiver = party("李娜", "", "广东省", "深圳市", "南山区", "科技园南区1栋201")
    receiver["Tel"] = "0755-26000000"
    assert issue(sim, "ZTO", receiver=receiver)["Order"]["LogisticCode"]


@pytest.mark.parametrize(
    "shipper, missing",
    [("ZTO", "CustomerPwd"), ("YD", "CustomerName"), ("YTO", "MonthCode"), ("STO", "SendSite"),
     ("JD", "WareHouseID"), ("SF", "MonthCode"), ("JTSD", "DeliveryMethod")],
)
def test_carrier_account_fields_are_required(sim, shipper, missing):
    order = waybill_order(shipper)
    del order[missing]
    answer = call(sim, "1007", order)
    assert (answer["Success"], answer["ResultCode"]) == (False, "101")
    assert missing in answer["Reason"]


def test_sf_needs_the_month_code_only_for_monthly_payment(sim):
    order = waybill_order("SF", PayType=1)
    del order["MonthCode"]
    assert call(sim, "1007", order)["ResultCode"] == "100"


def test_postal_carriers_need_postcodes(sim):
    order = waybill_order("EMS")
    del order["Receiver"]["PostCode"]
    answer = call(sim, "1007", order)
    assert (answer["Success"], answer["ResultCode"]) == (False, "101")
    assert "Receiver.PostCode" in answer["Reason"]


def test_unknown_carrier_is_refused(sim):
    answer = call(sim, "1007", waybill_order("NOSUCH"))
    assert (answer["Success"], answer["ResultCode"]) == (False, "102")
    assert "NOSUCH" in answer["Reason"]


def test_numbers_as_strings_are_accepted(sim):
    assert issue(sim, "ZTO", PayType="3", Quantity="1")["ResultCode"] == "100"


def test_forbidden_characters_are_a_format_error(sim):
    receiver = party("李娜", "13900000002", "广东省", "深圳市", "南山区", "科技园3#楼")
    answer = call(sim, "1007", waybill_order("ZTO", receiver=receiver))
    assert (answer["Success"], answer["ResultCode"]) == (False, "103")
    assert "Receiver.Address" in answer["Reason"]
    sim.forbidden_characters_check = False
    assert issue(sim, "ZTO", receiver=receiver)["ResultCode"] == "100"


def test_same_order_code_gives_the_same_waybill_with_106(sim):
    order = waybill_order("SF")
    first = call(sim, "1007", order)
    again = call(sim, "1007", order)
    assert (again["Success"], again["ResultCode"], again["Reason"]) == (True, "106", "该订单号已下单成功")
    assert again["Order"] == first["Order"]
    assert again["PrintTemplate"] == first["PrintTemplate"]
    assert again["UniquerRequestNumber"] != first["UniquerRequestNumber"]
    assert len(sim.waybills) == 1


def test_legacy_duplicate_mode_answers_105(sim):
    sim.legacy_duplicate_mode = True
    order = waybill_order("ZTO")
    call(sim, "1007", order)
    again = call(sim, "1007", order)
    assert (again["Success"], again["ResultCode"]) == (False, "105")
    assert "Order" not in again
    assert len(sim.waybills) == 1


def test_quantity_three_gives_two_sub_waybills(sim):
    answer = issue(sim, "ZTO", Quantity=3)
    parent = answer["Order"]["LogisticCode"]
    children = answer["SubOrders"].split(",")
    assert answer["SubCount"] == 2
    assert len(children) == 2 and parent not in children and len(set(children)) == 2
    assert all(re.fullmatch(r"7\d{13}", child) for child in children)
    assert all(child in answer["SubPrintTemplates"] for child in children)
    assert "（1/3）" in answer["PrintTemplate"]
    assert sim.waybills[parent]["sub_orders"] == children


def test_concurrent_orders_get_distinct_numbers_and_one_waybill_per_order_code(sim):
    sim.rate_limits = {}
    same = waybill_order("ZTO")
    answers = []

    def order(payload):
        answers.append(call(sim, "1007", payload))

    threads = [threading.Thread(target=order, args=(waybill_order("ZTO"),)) for _ in range(16)]
    threads += [threading.Thread(target=order, args=(same,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 24
    assert len({answer["Order"]["LogisticCode"] for answer in answers}) == 17
    same_answers = [answer for answer in answers if answer["Order"]["OrderCode"] == same["OrderCode"]]
    assert sorted(answer["ResultCode"] for answer in same_answers) == ["100"] + ["106"] * 7
    assert len(sim.waybills) == 17


# ------------------------------------------------------------------------------------------ 1147 cancel (§3.9)


def _cancel(sim, answer, shipper="ZTO"):
    order = answer["Order"]
    return call(sim, "1147", {"ShipperCode": shipper, "OrderCode": order["OrderCode"], "ExpNo": order["LogisticCode"],
                              **ACCOUNT_FIELDS.get(shipper, {})}, path="/api/EOrderService")


def test_cancel_before_collection_and_the_order_code_stays_used(sim):
    answer = issue(sim, "ZTO")
    number = answer["Order"]["LogisticCode"]
    assert _cancel(sim, answer) == {"EBusinessID": EBUSINESS_ID, "Success": True, "ResultCode": "100", "Reason": "成功"}
    assert sim.waybills[number]["cancelled"] is True
    twice = _cancel(sim, answer)
    assert twice["Success"] is False and "取消" in twice["Reason"]
    reordered = call(sim, "1007", waybill_order("ZTO", OrderCode=answer["Order"]["OrderCode"]))
    assert (reordered["Success"], reordered["ResultCode"]) == (False, "105")
    sim.advance(100)
    assert sim.waybills[number]["traces"] == []
    assert track(sim, number)["State"] == "0"


def test_cancel_after_collection_or_of_an_unknown_waybill_is_refused(sim):
    answer = issue(sim, "ZTO")
    sim.advance(3)
    refused = _cancel(sim, answer)
    assert refused["Success"] is False and "揽收" in refused["Reason"]
    assert sim.waybills[answer["Order"]["LogisticCode"]]["cancelled"] is False
    other = issue(sim, "ZTO")
    other_code = other["Order"]["OrderCode"]
    wrong_number = call(sim, "1147", {"ShipperCode": "ZTO", "OrderCode": other_code, "ExpNo": "70000000000000"})
    assert wrong_number["Success"] is False
    missing = call(sim, "1147", {"ShipperCode": "ZTO", "OrderCode": other_code})
    assert (missing["ResultCode"], "ExpNo" in missing["Reason"]) == ("101", True)


# ------------------------------------------------------------------------------------------ tracks (§4)


def test_free_and_paid_tier_fields(sim):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    sim.advance(67.7)  # out for delivery
    paid = track(sim, number, "8001", Callback="cb-1")
    free = track(sim, number, "1002")
    assert (paid["State"], paid["StateEx"], paid["Location"]) == ("2", "202", "深圳市")
    assert paid["Callback"] == "cb-1"
    assert paid["Station"] == "深圳南山网点" and paid["StationTel"].startswith("0755-") and paid["StationAdd"]
    assert paid["DeliveryMan"].endswith("师傅") and re.fullmatch(r"1\d{10}", paid["DeliveryManTel"])
    assert [trace["Action"] for trace in paid["Traces"]] == ["1", "206", "204", "2", "201", "205", "202"]
    assert set(paid["Traces"][0]) == {"AcceptTime", "AcceptStation", "Location", "Action", "Remark"}
    assert free["State"] == "2"
    paid_only = ("StateEx", "Location", "Station", "StationTel", "StationAdd", "DeliveryMan", "DeliveryManTel",
                 "Callback")
    assert not set(paid_only) & set(free)
    assert set(free["Traces"][0]) == {"AcceptTime", "AcceptStation", "Remark"}
    assert [t["AcceptStation"] for t in free["Traces"]] == [t["AcceptStation"] for t in paid["Traces"]]
    times = [trace["AcceptTime"] for trace in paid["Traces"]]
    assert all(ACCEPT_TIME.match(value) for value in times) and times == sorted(times)
    assert paid["Traces"][0]["AcceptStation"].startswith("【杭州市】") and "已揽收" in paid["Traces"][0]["AcceptStation"]
    assert paid["Traces"][-1]["AcceptStation"].startswith("【深圳市】") and "派件" in paid["Traces"][-1]["AcceptStation"]
    descending = track(sim, number, "8001", Sort=1)
    assert [t["AcceptTime"] for t in descending["Traces"]] == times[::-1]


def test_in_transit_answer_names_the_next_city(sim):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    sim.advance(10)
    answer = track(sim, number)
    assert (answer["StateEx"], answer["Location"], answer["NextCity"]) == ("2", "杭州市", "深圳市")
    assert "DeliveryMan" not in answer


def test_sf_tracks_need_the_last_four_phone_digits(sim):
    number = issue(sim, "SF")["Order"]["LogisticCode"]
    sim.advance(30)
    for digits in ("0002", "0001"):  # receiver 13900000002, sender 13800000001
        assert len(track(sim, number, shipper="SF", CustomerName=digits)["Traces"]) == 4
    for wrong in ({"CustomerName": "9999"}, {}):
        answer = track(sim, number, shipper="SF", **wrong)
        assert (answer["Success"], answer["State"], answer["Traces"], answer["Reason"]) == (True, "0", [], "暂无轨迹信息")


def test_unknown_or_not_yet_collected_numbers_have_no_traces(sim):
    unknown = track(sim, "70000000000000")
    assert (unknown["Success"], unknown["State"], unknown["Traces"], unknown["Reason"]) == (True, "0", [], "暂无轨迹信息")
    fresh = issue(sim, "ZTO")["Order"]["LogisticCode"]
    assert track(sim, fresh)["Traces"] == []
    sim.no_trace_success = False
    assert track(sim, "70000000000000")["Success"] is False


def test_8002_recognises_the_carrier(sim):
    number = issue(sim, "YTO")["Order"]["LogisticCode"]
    sim.advance(30)
    answer = call(sim, "8002", {"LogisticCode": number})
    assert (answer["ShipperCode"], answer["StateEx"], len(answer["Traces"])) == ("YTO", "2", 4)


def _at(sim, waybill_hours):
    """Advance to ``waybill_hours`` after START (the waybills of these tests are made at START)."""
    sim.advance((START + timedelta(hours=waybill_hours) - sim.now).total_seconds() / 3600)


# Zhejiang to Guangdong takes 72 h; each step happens up to 40 minutes after its nominal hour.
SCENARIO_TIMELINES = {
    "normal": [(1, "0"), (2.7, "1"), (4.7, "206"), (7.7, "204"), (8.7, "2"), (58.7, "201"), (64.7, "205"),
               (67.7, "202"), (71.7, "301"), (400, "301")],
    "no_pickup": [(200, "0")],
    "stalled": [(7.7, "204"), (126.9, "204"), (128, "403")],
    "lost": [(8.7, "2"), (127.9, "2"), (129, "403")],
    "failed_delivery": [(67.7, "202"), (70.7, "405"), (89.9, "405"), (90.7, "202"), (94.7, "302"), (300, "302")],
    "rejected": [(67.7, "202"), (70.7, "404"), (78.7, "404"), (141.9, "404"), (142.7, "406"), (400, "406")],
    "locker": [(64.7, "205"), (67.7, "211"), (84.9, "211"), (85.8, "412"), (102.7, "311"), (300, "311")],
    "address_problem": [(64.7, "205"), (66.7, "420"), (400, "420")],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_TIMELINES))
def test_scenario_timelines(sim, scenario):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    sim.set_scenario(number, scenario)
    for hours, state_ex in SCENARIO_TIMELINES[scenario]:
        _at(sim, hours)
        assert sim.waybills[number]["state_ex"] == state_ex, (scenario, hours, sim.waybills[number]["traces"])
        answer = track(sim, number)
        assert answer.get("StateEx", "0") == state_ex
        assert answer["State"] == state_ex[0]
    assert sim.waybills[number]["scenario"] == scenario


def test_default_scenario_applies_to_new_waybills(sim):
    sim.default_scenario = "rejected"
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    assert sim.waybills[number]["scenario"] == "rejected"
    with pytest.raises(ValueError):
        sim.set_scenario(number, "teleported")


def test_out_for_delivery_too_long_becomes_402(sim):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    _at(sim, 67.7)
    sim.set_scenario(number, "no_pickup")  # nothing more happens to this parcel
    _at(sim, 103)
    assert sim.waybills[number]["state_ex"] == "202"
    _at(sim, 104.8)
    assert track(sim, number)["StateEx"] == "402"


# ------------------------------------------------------------------------------------------ push (§5, §6)


class PushReceiver:
    """A merchant's push URL: checks DataSign with its key and answers KDNiao's JSON, or a scripted reply."""

    def __init__(self, key=API_KEY, replies=()):
        self.key = key
        self.replies = list(replies)
        self.forms = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                fields = {key: values[0] for key, values in urllib.parse.parse_qs(body).items()}
                status, payload = receiver.reply(fields)
                data = payload.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kdniao/push"

    def reply(self, fields):
        self.forms.append(fields)
        genuine = reference_sign(fields.get("RequestData", ""), self.key) == fields.get("DataSign")
        if self.replies:
            status, answer = self.replies.pop(0)
        else:
            status, answer = 200, {"Success": genuine, "Reason": "" if genuine else "DataSign mismatch"}
        answer = dict(answer, EBusinessID=fields.get("EBusinessID", ""), UpdateTime="2026-11-11 10:00:00")
        return status, json.dumps(answer)

    @property
    def payloads(self):
        return [json.loads(fields["RequestData"]) for fields in self.forms]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(sim):
    merchant = PushReceiver()
    sim.push_urls[EBUSINESS_ID] = merchant.url
    yield merchant
    merchant.stop()


def test_push_carries_the_full_signed_history(sim, receiver):
    number = issue(sim, "ZTO", Callback="shop-7")["Order"]["LogisticCode"]
    sim.advance(30)
    results = sim.push_now()
    assert [(r["accepted"], r["status"], r["attempt"], r["request_type"]) for r in results] == [(True, 200, 1, "102")]
    fields = receiver.forms[0]
    assert (fields["RequestType"], fields["EBusinessID"], fields["DataType"]) == ("102", EBUSINESS_ID, "2")
    assert fields["DataSign"] == reference_sign(fields["RequestData"], API_KEY)
    assert sim.push_log[0]["request_data"] == fields["RequestData"]
    payload = receiver.payloads[0]
    assert (payload["EBusinessID"], payload["Count"], payload["PushTime"]) == (EBUSINESS_ID, "1", "2026-11-12 15:00:00")
    item = payload["Data"][0]
    assert (item["LogisticCode"], item["ShipperCode"], item["OrderCode"], item["CallBack"]) == (
        number, "ZTO", sim.waybills[number]["order_code"], "shop-7"
    )
    assert (item["Success"], item["State"], item["StateEx"], item["Location"], item["EstimatedDeliveryTime"]) == (
        True, "2", "2", "杭州市", "2026-11-14"
    )
    assert [trace["Action"] for trace in item["Traces"]] == ["1", "206", "204", "2"]
    assert sim.push_now() == []  # nothing changed
    sim.advance(30)  # 201 arrived in the destination city
    sim.push_now()
    history = receiver.payloads[-1]["Data"][0]["Traces"]
    assert [trace["Action"] for trace in history] == ["1", "206", "204", "2", "201"]
    assert history == sim.waybills[number]["traces"]


def test_one_push_carries_at_most_ten_waybills(sim, receiver):
    for _ in range(12):
        issue(sim, "ZTO")
    sim.advance(3)
    results = sim.push_now()
    assert sorted(result["count"] for result in results) == [2, 10]
    assert sorted(payload["Count"] for payload in receiver.payloads) == ["10", "2"]
    assert sorted(len(payload["Data"]) for payload in receiver.payloads) == [2, 10]


def test_push_is_retried_until_the_merchant_says_success(sim, receiver):
    receiver.replies = [(200, {"Success": False, "Reason": "busy"}), (500, {"Success": True})]
    issue(sim, "ZTO")
    sim.advance(3)
    assert [(r["accepted"], r["attempt"]) for r in sim.push_now()] == [(False, 1)]
    assert [(r["accepted"], r["status"], r["attempt"]) for r in sim.push_now()] == [(False, 500, 2)]
    assert [(r["accepted"], r["attempt"]) for r in sim.push_now()] == [(True, 3)]
    assert sim.push_now() == []
    assert len({fields["RequestData"] for fields in receiver.forms}) == 1  # the same snapshot each time
    assert [entry["accepted"] for entry in sim.push_log] == [False, False, True]


def test_retries_end_after_the_schedule(sim, receiver):
    receiver.replies = [(200, {"Success": False})] * 5
    sim.push_retry_delays = [1]
    issue(sim, "ZTO")
    sim.advance(3)
    assert [r["attempt"] for r in sim.push_now() + sim.push_now()] == [1, 2]
    assert sim.push_now() == []


def test_background_thread_delivers_and_retries(sim, receiver):
    receiver.replies = [(200, {"Success": False})]
    sim.push_retry_delays = [0.1]
    sim.auto_push = True
    issue(sim, "ZTO")
    sim.advance(3)
    deadline = time.monotonic() + 5
    while len(sim.push_log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(entry["attempt"], entry["accepted"]) for entry in sim.push_log] == [(1, False), (2, True)]


def test_tampered_push_is_refused_by_the_merchant_then_resent_genuine(sim, receiver):
    issue(sim, "ZTO")
    sim.advance(3)
    sim.tamper_next_push = True
    assert [r["accepted"] for r in sim.push_now()] == [False]
    first = receiver.forms[0]
    assert first["DataSign"] != reference_sign(first["RequestData"], API_KEY)
    assert json.loads(sim.push_log[0]["reply"])["Success"] is False
    assert sim.tamper_next_push is False
    assert [r["accepted"] for r in sim.push_now()] == [True]
    assert receiver.forms[1]["DataSign"] == reference_sign(receiver.forms[1]["RequestData"], API_KEY)


def test_duplicate_switch_sends_every_push_twice(sim, receiver):
    sim.duplicate_pushes = True
    issue(sim, "ZTO")
    sim.advance(3)
    assert len(sim.push_now()) == 2
    assert len(receiver.forms) == 2 and receiver.forms[0] == receiver.forms[1]


def test_pushes_stop_once_a_terminal_state_was_accepted(sim, receiver):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    sim.advance(80)
    sim.push_now()
    assert receiver.payloads[-1]["Data"][0]["StateEx"] == "301"
    sim.set_scenario(number, "failed_delivery")  # its later steps would add traces after the signature
    sim.advance(48)
    assert len(sim.waybills[number]["traces"]) > 8
    assert sim.push_now() == []


def test_subscriptions_choose_the_push_tier(sim, receiver):
    free = issue(sim, "YTO", IsSubscribe="0")["Order"]["LogisticCode"]
    paid = issue(sim, "ZTO", IsSubscribe="0")["Order"]["LogisticCode"]
    answer = call(sim, "1008", {"ShipperCode": "YTO", "LogisticCode": free, "OrderCode": "F1", "Callback": "free-cb"})
    assert (answer["Success"], answer["UpdateTime"]) == (True, "2026-11-11 09:00:00")
    answer = call(sim, "8008", {"ShipperCode": "ZTO", "LogisticCode": paid, "OrderCode": "P1"})
    assert (answer["Success"], answer["ShipperCode"], answer["LogisticCode"]) == (True, "ZTO", paid)
    assert call(sim, "8008", {"ShipperCode": "NOSUCH", "LogisticCode": "anything"})["Success"] is True
    assert call(sim, "8008", {"ShipperCode": "ZTO"})["ResultCode"] == "101"
    sim.advance(30)
    sim.push_now()
    by_type = {fields["RequestType"]: json.loads(fields["RequestData"])["Data"][0] for fields in receiver.forms}
    assert set(by_type) == {"101", "102"}
    free_item = by_type["101"]
    assert (free_item["LogisticCode"], free_item["OrderCode"], free_item["CallBack"]) == (free, "F1", "free-cb")
    assert by_type["101"]["State"] == "2"
    assert "StateEx" not in by_type["101"] and "Location" not in by_type["101"]
    assert set(by_type["101"]["Traces"][0]) == {"AcceptTime", "AcceptStation", "Remark"}
    assert (by_type["102"]["LogisticCode"], by_type["102"]["StateEx"]) == (paid, "2")
    assert "Action" in by_type["102"]["Traces"][0]


def test_sf_subscription_pushes_only_with_the_right_phone_digits(sim, receiver):
    wrong = issue(sim, "SF", IsSubscribe="0")["Order"]["LogisticCode"]
    right = issue(sim, "SF", IsSubscribe="0")["Order"]["LogisticCode"]
    call(sim, "8008", {"ShipperCode": "SF", "LogisticCode": wrong, "CustomerName": "1234"})
    call(sim, "8008", {"ShipperCode": "SF", "LogisticCode": right, "CustomerName": "0002"})
    issued = issue(sim, "SF")["Order"]["LogisticCode"]  # KDNiao knows the phones of the waybills it issued
    call(sim, "8008", {"ShipperCode": "SF", "LogisticCode": issued})
    sim.advance(30)
    sim.push_now()
    pushed = [item["LogisticCode"] for payload in receiver.payloads for item in payload["Data"]]
    assert sorted(pushed) == sorted([right, issued])


# ------------------------------------------------------------------------------------------ 2002 (§8)


@pytest.mark.parametrize(
    "number, codes",
    [
        ("SF1234567890123", ["SF"]), ("YT1234567890123", ["YTO"]), ("78812345678901", ["ZTO"]),
        ("3967950525457", ["YD"]), ("431000000000001", ["YD"]), ("773012345678", ["STO"]),
        ("JDVA12345678901", ["JD"]), ("JT1234567890123", ["JTSD"]), ("1100000000001", ["EMS", "YZPY", "YZBK"]),
        ("not-a-number", []),
    ],
)
def test_recognition(sim, number, codes):
    answer = call(sim, "2002", {"LogisticCode": number}, path="/Ebusiness/EbusinessOrderHandle.aspx")
    assert answer["Success"] is True
    assert answer["LogisticCode"] == number
    assert [shipper["ShipperCode"] for shipper in answer["Shippers"]] == codes
    if codes:
        assert answer["Shippers"][0]["ShipperName"] in ("顺丰速运", "圆通速递", "中通快递", "韵达速递", "申通快递", "京东快递", "极兔速递", "EMS")


def test_recognition_of_issued_numbers(sim):
    for shipper in ("SF", "ZTO", "YTO", "YD", "STO", "JD", "EMS", "JTSD"):
        number = issue(sim, shipper)["Order"]["LogisticCode"]
        assert call(sim, "2002", {"LogisticCode": number})["Shippers"][0]["ShipperCode"] == shipper


# ------------------------------------------------------------------------------------------ pickup (§7)


def _pickup(order_code, **changes):
    order = waybill_order("ZTO", OrderCode=order_code, StartDate="2026-11-11 10:00:00", EndDate="2026-11-11 12:00:00")
    for account_field in ACCOUNT_FIELDS["ZTO"]:
        del order[account_field]
    order.update(changes)
    return order


def test_pickup_booking_cancel_and_status_pushes(sim, receiver):
    booked = call(sim, "1801", _pickup("PU1"), path="/api/OOrderService")
    assert (booked["Success"], booked["ResultCode"], booked["Order"]["OrderCode"]) == (True, "100", "PU1")
    assert booked["Order"]["KDNOrderCode"]
    again = call(sim, "1801", _pickup("PU1"))
    assert (again["Success"], again["ResultCode"]) == (False, "105")
    call(sim, "1801", _pickup("PU2"))
    cancelled = call(sim, "1802", {"OrderCode": "PU2", "CancelType": "11", "CancelMsg": "不寄了"})
    assert (cancelled["Success"], cancelled["ResultCode"]) == (True, "100")
    assert call(sim, "1802", {"OrderCode": "PU2", "CancelType": "11", "CancelMsg": "x"})["Success"] is False
    assert call(sim, "1801", _pickup("PU2"))["ResultCode"] == "105"  # the OrderCode stays used
    assert call(sim, "1802", {"OrderCode": "NOPE"})["Success"] is False
    sim.advance(12)
    sim.push_now()
    assert {fields["RequestType"] for fields in receiver.forms} == {"103"}
    for fields in receiver.forms:
        assert fields["DataSign"] == reference_sign(fields["RequestData"], API_KEY)
    items = [item for payload in receiver.payloads for item in payload["Data"]]
    assert [(item["OrderCode"], item["State"]) for item in items] == [("PU1", "104"), ("PU1", "301")]
    assert items[0]["PickerInfo"]["PersonName"] and items[0]["PickerInfo"]["PersonTel"]
    assert receiver.payloads[0]["Count"] == "2"
    refused = call(sim, "1802", {"OrderCode": "PU1", "CancelType": "11", "CancelMsg": "x"})
    assert refused["Success"] is False and "取件" in refused["Reason"]
    sim.advance(12)
    assert sim.push_now() == []


def test_pickup_order_is_validated(sim):
    order = _pickup("PU9")
    del order["Commodity"]
    answer = call(sim, "1801", order)
    assert (answer["Success"], answer["ResultCode"]) == (False, "101")
    answer = call(sim, "1801", _pickup("PU9", Remark="1/F"))
    assert (answer["Success"], answer["ResultCode"]) == (False, "103")


# ------------------------------------------------------------------------------------------ 6004 / 6006 (§9)


def _prediction_request(send_province, receive_province, **extra):
    return {
        "ShipperCode": "ZTO", "SendProvince": send_province, "SendCity": "杭州市", "SendArea": "余杭区",
        "ReceiveProvince": receive_province, "ReceiveCity": "深圳市", "ReceiveArea": "南山区", **extra,
    }


@pytest.mark.parametrize(
    "send, receive, hours",
    [("浙江省", "浙江省", 24), ("浙江省", "江苏省", 48), ("浙江省", "广东省", 72), ("浙江省", "新疆维吾尔自治区", 96),
     ("西藏自治区", "四川省", 96), ("北京", "河北省", 48)],
)
def test_prediction_hours_follow_the_province_distance(sim, send, receive, hours):
    answer = call(sim, "6004", _prediction_request(send, receive))
    assert answer["Success"] is True
    assert answer["Data"]["Hour"] == f"{hours}h"
    arrival = START + timedelta(hours=hours)
    assert answer["Data"]["DeliveryDate"] == arrival.strftime("%Y-%m-%d")


def test_prediction_texts(sim):
    morning = call(sim, "6004", _prediction_request("浙江省", "江苏省", CatchTime="2026-05-02 09:00:00"))["Data"]
    assert (morning["DeliveryDate"], morning["DeliveryTime"]) == ("2026-05-04", "05月04日上午可达")
    afternoon = call(sim, "6004", _prediction_request("浙江省", "广东省", CatchTime="2026-05-01 15:00:00"))["Data"]
    assert (afternoon["DeliveryDate"], afternoon["DeliveryTime"]) == ("2026-05-04", "05月04日下午可达")
    assert afternoon["PredictPath"] == "杭州转运中心->深圳转运中心->深圳南山网点"
    assert afternoon["ShipperCode"] == "ZTO" and afternoon["ReceiveCity"] == "深圳市"
    missing = call(sim, "6004", {"ShipperCode": "ZTO", "SendProvince": "浙江省"})
    assert (missing["Success"], missing["ResultCode"]) == (False, "101")


def test_prediction_after_shipping_uses_the_parcel(sim):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    sim.advance(30)
    data = call(sim, "6006", _prediction_request("浙江省", "广东省", LogisticCode=number))["Data"]
    assert data["Hour"] == "42h"
    assert data["DeliveryDate"] == "2026-11-14"
    assert data["LatestCity"] == "杭州市" and data["LatestStation"]
    assert call(sim, "6006", _prediction_request("浙江省", "广东省"))["ResultCode"] == "101"


# ------------------------------------------------------------------------------------------ faults


def test_http_error_faults_hit_only_the_chosen_request_type(sim):
    sim.inject("http500", request_type="1007")
    assert call(sim, "2002", {"LogisticCode": "SF1234567890123"})["Success"] is True
    status, text = post(sim.base_url + "/api/EOrderService", form("1007", json.dumps(waybill_order("ZTO"))))
    assert status == 500
    assert not sim.waybills
    sim.inject("http502", count=2)
    statuses = [post(sim.base_url + "/api/dist", form("2002", '{"LogisticCode":"1"}'))[0] for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert issue(sim, "ZTO")["ResultCode"] == "100"


def test_timeout_loses_the_answer_but_the_waybill_exists(sim):
    sim.inject("timeout", request_type="1007", seconds=1.0)
    order = waybill_order("ZTO")
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        post(sim.base_url + "/api/EOrderService", form("1007", json.dumps(order, ensure_ascii=False)), timeout=0.3)
    assert len(sim.waybills) == 1
    again = call(sim, "1007", order)
    assert (again["ResultCode"], again["Order"]["LogisticCode"]) == ("106", next(iter(sim.waybills)))


def test_latency_delays_a_normal_answer(sim):
    sim.inject("latency", seconds=0.3)
    started = time.monotonic()
    assert call(sim, "2002", {"LogisticCode": "SF1234567890123"})["Success"] is True
    assert time.monotonic() - started >= 0.3


def test_rate_limit_fault_and_built_in_limits(sim):
    sim.inject("rate_limit", request_type="1007")
    answer = call(sim, "1007", waybill_order("ZTO"))
    assert (answer["Success"], answer["ResultCode"]) == (False, "105")
    assert "频繁" in answer["Reason"] and "rate limit" in answer["Reason"]
    assert not sim.waybills
    assert issue(sim, "ZTO")["ResultCode"] == "100"
    sim.rate_limits = {"2002": 2}
    answers = [call(sim, "2002", {"LogisticCode": "SF1234567890123"}) for _ in range(3)]
    assert [a["Success"] for a in answers] == [True, True, False]
    assert "频繁" in answers[2]["Reason"]


def test_garbage_fault_is_not_json(sim):
    sim.inject("garbage")
    status, text = post(sim.base_url + "/api/dist", form("2002", '{"LogisticCode":"1"}'))
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(text)
    assert sim.requests[-1]["response"] == {"fault": "garbage", "http_status": 200}


def test_unknown_fault_is_an_error(sim):
    with pytest.raises(ValueError):
        sim.inject("meteor")


# ------------------------------------------------------------------------------------------ requests and controls


def test_requests_are_recorded(sim):
    answer = issue(sim, "SF")
    record = sim.requests[-1]
    assert (record["request_type"], record["ebusiness_id"]) == ("1007", EBUSINESS_ID)
    assert record["path"] == "/api/EOrderService"
    assert record["data"]["ShipperCode"] == "SF"
    assert record["response"]["UniquerRequestNumber"] == answer["UniquerRequestNumber"]
    post(sim.base_url + "/api/dist", form("1002", "not json"))
    assert sim.requests[-1]["data"] is None


def _control(sim, name, payload=None):
    if payload is None and name in ("requests", "waybills", "pickups", "push_log", "now"):
        with urllib.request.urlopen(f"{sim.base_url}/__sim__/{name}", timeout=5) as response:
            return response.status, json.loads(response.read())
    status, text = post(f"{sim.base_url}/__sim__/{name}", json.dumps(payload or {}), content_type="application/json")
    return status, json.loads(text)


def test_http_controls(sim, receiver):
    number = issue(sim, "ZTO")["Order"]["LogisticCode"]
    assert _control(sim, "scenario", {"logistic_code": number, "scenario": "stalled"}) == (200, {"ok": True})
    assert _control(sim, "advance", {"hours": 200}) == (200, {"now": "2026-11-19 17:00:00"})
    status, waybills = _control(sim, "waybills")
    assert status == 200 and waybills[number]["state_ex"] == "403" and waybills[number]["scenario"] == "stalled"
    status, answer = _control(sim, "push_now")
    assert status == 200 and [r["accepted"] for r in answer["results"]] == [True]
    fault = {"fault": "http500", "request_type": "2002", "count": 1, "seconds": 0}
    assert _control(sim, "fault", fault) == (200, {"ok": True})
    assert post(sim.base_url + "/api/dist", form("2002", '{"LogisticCode":"1"}'))[0] == 500
    status, requests = _control(sim, "requests")
    assert [r["request_type"] for r in requests] == ["1007", "2002"]
    assert requests[0]["response"]["Order"]["LogisticCode"] == number
    assert _control(sim, "settings", {"legacy_duplicate_mode": True})[1]["legacy_duplicate_mode"] is True
    assert sim.legacy_duplicate_mode is True
    assert _control(sim, "scenario", {"logistic_code": "nope", "scenario": "normal"})[0] == 404
    assert _control(sim, "scenario", {"logistic_code": number, "scenario": "teleported"})[0] == 400
    assert _control(sim, "fault", {"fault": "meteor"})[0] == 400


# ------------------------------------------------------------------------------------------ clock and launcher


def test_clock_runs_on_its_own(sim):
    sim.start_clock(6000, tick_seconds=0.02)  # 100 simulated hours per real second
    deadline = time.monotonic() + 5
    while sim.now < START + timedelta(hours=1) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.now >= START + timedelta(hours=1)


def test_launcher_serves_kdniao_and_reports_it(tmp_path):
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.simulators", "--state-file", str(state), "--spool-dir", str(tmp_path / "spool"),
         "--printer-ports", "0", "--kdniao-port", "0", "--kdniao-speed", "0",
         "--kdniao-push-url", "http://127.0.0.1:9/push"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        deadline = time.monotonic() + 10
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        kdniao = json.loads(state.read_text())["kdniao"]
        assert kdniao["port"] and kdniao["url"] == f"http://127.0.0.1:{kdniao['port']}"
        assert kdniao["push_url"] == "http://127.0.0.1:9/push"
        request_data = json.dumps(waybill_order("YTO"), ensure_ascii=False)
        demo_form = form("1007", request_data, "test1234567", "sandbox-kdniao-api-key")
        status, text = post(kdniao["url"] + "/api/EOrderService", demo_form)
        number = json.loads(text)["Order"]["LogisticCode"]
        assert re.fullmatch(r"YT\d{13}", number)
        post(kdniao["url"] + "/__sim__/advance", json.dumps({"hours": 30}), content_type="application/json")
        with urllib.request.urlopen(kdniao["url"] + "/__sim__/waybills", timeout=5) as response:
            assert json.loads(response.read())[number]["state_ex"] == "2"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert not state.exists()
