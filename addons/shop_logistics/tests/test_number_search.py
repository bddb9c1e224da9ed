from odoo.tests import tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestSearchByAnyNumber(LogisticsCase):
    """Staff find a delivery or an order from one box: order, platform order, delivery, waybill or phone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.picking = cls._confirmed_delivery("TB-NUM-20261111")
        cls.picking.waybill_number = "SF7700112233"
        cls.order = cls.picking.sale_id
        someone_else = cls.env["res.partner"].create({"name": "别人", "mobile": "13912345678"})
        other_order = cls._shop_order("TB-NUM-OTHER", partner_id=someone_else.id)
        other_order.action_confirm()
        cls.other = other_order.picking_ids

    def _pickings(self, number):
        return self.env["stock.picking"].search([("logistics_any_number", "ilike", number)])

    def _orders(self, number):
        return self.env["sale.order"].search([("logistics_any_number", "ilike", number)])

    def test_every_number_finds_the_delivery_and_the_order(self):
        numbers = (
            self.order.name,
            "TB-NUM-20261111",
            self.picking.name,
            "SF7700112233",
            "7700112233",
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "8000",
        )
        for number in numbers:
            with self.subTest(number=number):
                self.assertIn(self.picking, self._pickings(number))
                self.assertNotIn(self.other, self._pickings(number))
                self.assertIn(self.order, self._orders(number))
                self.assertNotIn(self.other.sale_id, self._orders(number))

    def test_unknown_number_finds_nothing(self):
        self.assertFalse(self._pickings("NO-SUCH-NUMBER"))
        self.assertFalse(self._orders("NO-SUCH-NUMBER"))

    def test_search_views_offer_the_box_first(self):
        for xmlid in ("shop_logistics.view_picking_logistics_search", "shop_logistics.view_order_logistics_search"):
            arch = self.env.ref(xmlid).arch
            self.assertLess(arch.index("logistics_any_number"), arch.index('name="name"'), xmlid)
