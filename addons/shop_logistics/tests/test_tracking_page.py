from datetime import datetime

from odoo.tests import HttpCase, tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestTrackingPage(HttpCase, LogisticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "顺丰速运 SF Express",
                "delivery_type": "fixed",
                "product_id": cls.env["product.product"].create({"name": "SF freight", "type": "service"}).id,
            }
        )
        cls.picking = cls._confirmed_delivery("TB-TRACK-1")
        cls.picking.write({"carrier_id": cls.carrier.id, "waybill_number": "SF1234567890123"})
        for state in ("routed", "waybill_issued", "handed_over", "in_transit"):
            cls.picking._set_logistics_state(state)
        cls.env["logistics.shipment.event"].create(
            [
                {
                    "picking_id": cls.picking.id,
                    "waybill_number": "SF1234567890123",
                    "event_time": datetime(2026, 11, 20, 9, 30),
                    "status": "collected",
                    "location": "北京顺义集散中心",
                    "description": "顺丰速运 已收取快件",
                    "source": "push",
                },
                {
                    "picking_id": cls.picking.id,
                    "waybill_number": "SF1234567890123",
                    "event_time": datetime(2026, 11, 21, 6, 5),
                    "status": "in_transit",
                    "location": "上海转运中心",
                    "description": "快件到达 上海转运中心",
                    "source": "query",
                },
            ]
        )

    def _lookup(self, number, digits, lang="en_US", ip_suffix=None):
        self.env.flush_all()
        response = self.url_open(
            "/track",
            data={"number": number, "phone_tail": digits, "lang": lang, "csrf_token": self._csrf_token()},
        )
        self.env.invalidate_all()
        return response

    def _csrf_token(self):
        page = self.url_open("/track").text
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        return page[start : page.index('"', start)]

    def test_parcel_found_by_waybill_or_order_number_shows_no_personal_data(self):
        for number in ("SF1234567890123", self.picking.sale_id.name, "TB-TRACK-1"):
            with self.subTest(number=number):
                response = self._lookup(number, "8000")
                self.assertEqual(response.status_code, 200)
                page = response.text
                self.assertIn("SF1234567890123", page)
                self.assertIn("顺丰速运 SF Express", page)
                self.assertIn("快件到达 上海转运中心", page)
                self.assertLess(page.index("上海转运中心"), page.index("北京顺义集散中心"), "newest event first")
                for secret in ("王小明", "13800138000", "建国路", "138****8000"):
                    self.assertNotIn(secret, page)

    def test_wrong_digits_and_unknown_numbers_look_the_same(self):
        wrong = self._lookup("SF1234567890123", "1234")
        unknown = self._lookup("SF0000000000000", "8000")
        self.assertEqual((wrong.status_code, unknown.status_code), (404, 404))
        self.assertIn("No parcel matches", wrong.text)
        self.assertNotIn("SF1234567890123</div>", wrong.text)

    def test_page_speaks_chinese(self):
        response = self._lookup("SF1234567890123", "8000", lang="zh_CN")
        self.assertIn("查询", response.text)
        self.assertIn("运输中", response.text)

    def test_guessing_is_rate_limited(self):
        for digits in range(10):
            self.assertEqual(self._lookup("SF1234567890123", f"{digits:04d}").status_code, 404)
        blocked = self._lookup("SF1234567890123", "8000")
        self.assertEqual(blocked.status_code, 429)
        self.assertIn("Too many attempts", blocked.text)
        self.assertNotIn("上海转运中心", blocked.text)

    def test_phone_tail_comes_from_plain_or_masked_phones_never_ciphertexts(self):
        partner = self.env["res.partner"].create({"name": "x"})
        picking = self.picking.copy({"partner_id": partner.id})
        for phone, tail in (("+86 139-1234-5678", "5678"), ("138****4321", "4321"), ("~AgAAAPyF5Qw9Y8m1~", False)):
            partner.mobile = phone
            self.assertEqual(picking.receiver_phone_tail, tail, phone)

    def test_tracking_page_in_a_real_browser(self):
        self.start_tour("/track?lang=zh_CN", "shop_logistics_tracking_page_tour", login=None)
