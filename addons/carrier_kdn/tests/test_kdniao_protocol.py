"""The plain-Python protocol layer: signatures (reference test vectors), addresses, state codes."""

import json
import urllib.parse

from odoo.tests import TransactionCase, tagged

from .. import cn_address, kdniao_request, kdniao_states

KEY = "a1b2c3d4-e5f6-4a7b-8c9d-0123456789ab"
VECTORS = [
    (
        '{"OrderCode":"","ShipperCode":"YTO","LogisticCode":"YT1234567890123"}',
        "NWY2MmVmNTYyN2JjNzc3MjQ1YWNiZGEzZjcwY2M5Mjk=",
    ),
    (
        "{'OrderCode':'','ShipperCode':'YTO','LogisticCode':'YT1234567890123'}",
        "Nzc3ODgzMDVhOGQ4OWIzNDFlMDMxMDE3NzBhYzA2MmM=",
    ),
    (
        '{"OrderCode":"","ShipperCode":"YTO","LogisticCode":"YT1234567890123"} ',
        "NjYxYTAwYzU0MzY0MDQ3NDljNzE3NzQzYjQ2Y2JjMGM=",
    ),
    (
        '{"ShipperCode":"SF","LogisticCode":"SF1234567890123","CustomerName":"5678"}',
        "Zjc4OGU5MDhkNjJiZDU3ZmMwM2RiZDgxN2QxZjJjYzc=",
    ),
]
PUSH_DATA = (
    '{"EBusinessID":"1234567","PushTime":"2024-05-02 10:15:00","Count":"1","Data":[{"EBusinessID":"1234567",'
    '"ShipperCode":"ZTO","LogisticCode":"78812345678901","Success":true,"State":"2","StateEx":"201",'
    '"Location":"杭州市","Traces":[{"AcceptTime":"2024-05-01 18:02:11","AcceptStation":"【上海市】快件已揽收",'
    '"Location":"上海市","Action":"1"},{"AcceptTime":"2024-05-02 09:40:27","AcceptStation":'
    '"【杭州市】快件已到达杭州转运中心","Location":"杭州市","Action":"201"}]}]}'
)
PUSH_SIGN = "ZjI3NjZmM2ZhMzI2NTYzYzQxYzA1MGEwY2RjYWIyNTM="


@tagged("post_install", "-at_install")
class TestDataSign(TransactionCase):
    def test_reference_vectors(self):
        for request_data, sign in VECTORS:
            self.assertEqual(kdniao_request.data_sign(request_data, KEY), sign)
            self.assertTrue(kdniao_request.verify_sign(request_data, KEY, sign))
        self.assertEqual(kdniao_request.data_sign(PUSH_DATA, KEY), PUSH_SIGN)

    def test_classic_client_bugs_do_not_verify(self):
        request_data = VECTORS[0][0]
        for wrong in ("NUY2MkVGNTYyN0JDNzc3MjQ1QUNCREEzRjcwQ0M5Mjk=", "X2LvVie8d3JFrL2j9wzJKQ=="):
            self.assertFalse(kdniao_request.verify_sign(request_data, KEY, wrong))
        self.assertFalse(kdniao_request.verify_sign(request_data, "another-key", VECTORS[0][1]))
        self.assertFalse(kdniao_request.verify_sign("", KEY, VECTORS[0][1]))

    def test_double_encoded_values_verify(self):
        request_data, sign = VECTORS[0]
        self.assertTrue(
            kdniao_request.verify_sign(urllib.parse.quote(request_data), KEY, urllib.parse.quote(urllib.parse.quote(sign)))
        )

    def test_push_parsing(self):
        keys = {"1234567": KEY}
        form = {"RequestData": PUSH_DATA, "RequestType": "102", "DataSign": PUSH_SIGN, "EBusinessID": "1234567"}
        ebusiness_id, request_type, data = kdniao_request.parse_push(form, keys.get)
        self.assertEqual((ebusiness_id, request_type, data["Count"]), ("1234567", "102", "1"))
        refusals = [
            dict(form, DataSign=VECTORS[0][1]),  # forged
            dict(form, RequestData=PUSH_DATA.replace("78812345678901", "78812345678902")),  # tampered
            dict(form, EBusinessID="999", RequestData=PUSH_DATA.replace('"1234567"', '"999"')),  # unknown account
            dict(form, RequestData="not json", DataSign=kdniao_request.data_sign("not json", KEY)),
            dict(form, RequestData='{"Data": 1}', DataSign=kdniao_request.data_sign('{"Data": 1}', KEY)),
            dict(form, RequestType="107"),  # COD money push: not ours
            {"RequestType": "102"},
        ]
        for bad_form in refusals:
            with self.assertRaises(kdniao_request.KdniaoPushError):
                kdniao_request.parse_push(bad_form, keys.get)

    def test_push_answer_shape(self):
        answer = kdniao_request.push_answer("1234567", False, "DataSign mismatch")
        self.assertEqual(set(answer), {"EBusinessID", "UpdateTime", "Success", "Reason"})
        self.assertIs(answer["Success"], False)
        json.dumps(answer)

    def test_secrets_are_redacted_and_values_sanitised(self):
        payload = {"CustomerPwd": "pwd", "MonthCode": "123", "Sender": {"Address": "3#楼 A&B+C"}, "CustomerName": "me"}
        self.assertEqual(kdniao_request.redact(payload)["CustomerPwd"], "***")
        self.assertEqual(kdniao_request.redact(payload)["MonthCode"], "***")
        self.assertEqual(kdniao_request.redact(payload)["CustomerName"], "me")
        clean = kdniao_request.sanitize(payload)
        self.assertEqual(clean["Sender"]["Address"], "3号楼 A B C")
        self.assertFalse(kdniao_request.forbidden_characters(clean))
        self.assertEqual(kdniao_request.forbidden_characters(payload), ["Sender.Address"])

    def test_times(self):
        self.assertEqual(str(kdniao_request.parse_time("2014/06/25 08:05:37")), "2014-06-25 08:05:37")
        self.assertEqual(str(kdniao_request.parse_time("2024-05-01 18:02:11")), "2024-05-01 18:02:11")
        with self.assertRaises(ValueError):
            kdniao_request.parse_time("yesterday")


@tagged("post_install", "-at_install")
class TestChineseAddress(TransactionCase):
    def test_split(self):
        self.assertEqual(
            cn_address.split_address("北京市", "北京市", "朝阳区建国路88号SOHO现代城A座1801"),
            {"ProvinceName": "北京", "CityName": "北京市", "ExpAreaName": "朝阳区", "Address": "建国路88号SOHO现代城A座1801"},
        )
        self.assertEqual(
            cn_address.split_address("广东省", "深圳市", "广东省深圳市南山区科技园科苑路15号")["ExpAreaName"], "南山区"
        )
        self.assertEqual(cn_address.split_address("上海市", "", "浦东新区世纪大道100号")["ExpAreaName"], "浦东新区")
        self.assertEqual(cn_address.split_address("江苏省", "苏州市", "昆山市玉山镇1号")["ExpAreaName"], "昆山市")

    def test_missing_parts_are_named(self):
        for args, part in (
            (("", "北京市", "朝阳区建国路88号"), "province"),
            (("浙江省", "", "西湖区文三路1号"), "city"),
            (("浙江省", "杭州市", "文三路1号"), "district"),
            (("浙江省", "杭州市", "西湖区"), "street"),
        ):
            with self.assertRaises(cn_address.AddressError) as caught:
                cn_address.split_address(*args)
            self.assertEqual(caught.exception.part, part)

    def test_phones(self):
        self.assertEqual(cn_address.phone_fields("+86 138-0013-8000"), {"Mobile": "13800138000"})
        self.assertEqual(cn_address.phone_fields("", "010-64001234"), {"Tel": "010-64001234"})
        self.assertEqual(cn_address.phone_fields("1361234"), {})


@tagged("post_install", "-at_install")
class TestStateCodes(TransactionCase):
    def test_every_code_maps_to_known_states(self):
        statuses = {key for key, _label in self.env["logistics.shipment.event"]._fields["status"].selection}
        states = {key for key, _label in self.env["stock.picking"]._fields["logistics_state"].selection}
        for code, (status, state) in kdniao_states.STATE_EX.items():
            self.assertIn(status, statuses, code)
            self.assertTrue(state is None or state in states, code)

    def test_normalisation(self):
        self.assertEqual(kdniao_states.normalise_code("202", "2"), "202")
        self.assertEqual(kdniao_states.normalise_code(None, "3"), "3")
        self.assertEqual(kdniao_states.normalise_code("499", "4"), "4")  # unknown detail: its group
        self.assertEqual(kdniao_states.normalise_code(None, None), "0")
        self.assertEqual(kdniao_states.target_state("406"), "returned")
        self.assertEqual(kdniao_states.target_state("404"), "exception")
        self.assertEqual(kdniao_states.event_status("211"), "at_pickup_point")
        self.assertIsNone(kdniao_states.target_state("10"))
