from odoo.tests import tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestLogisticsSettings(LogisticsCase):
    """Settings › Logistics: routing mode, automatic audit and automatic routing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer.write({"state_id": cls.env.ref("base.state_cn_BJ").id, "mobile": "13800138000"})
        cls.env["logistics.audit.rule"].search([]).active = False
        cls.env["logistics.audit.rule"].create({"name": "phone", "kind": "phone"})
        cls.env["logistics.routing.rule"].search([]).active = False
        service = cls.env["product.product"].create({"name": "Freight", "type": "service"})
        method = cls.env["delivery.carrier"].create({"name": "Test YD", "product_id": service.id, "delivery_type": "fixed"})
        cls.account = cls.env["logistics.carrier.account"].create(
            {"name": "YD account", "express_code": "YD", "carrier_id": method.id}
        )
        cls.env["logistics.routing.rule"].create(
            {"name": "Everywhere YD", "carrier_account_id": cls.account.id, "sequence": 10}
        )

    def test_settings_write_the_company(self):
        settings = self.env["res.config.settings"].create(
            {"logistics_routing_mode": "cheapest", "logistics_auto_audit": False, "logistics_auto_route": True,
             "logistics_stock_lead_days": 3, "logistics_stock_history_days": 14}
        )
        settings.execute()
        company = self.env.company
        self.assertEqual(company.logistics_routing_mode, "cheapest")
        self.assertFalse(company.logistics_auto_audit)
        self.assertTrue(company.logistics_auto_route)
        threshold = self.env["logistics.stock.threshold"].create(
            {"product_id": self.product.id, "warehouse_id": self.warehouse.id, "min_qty": 5}
        )
        self.assertEqual((threshold.lead_time_days, threshold.history_days), (3, 14))

    def test_automatic_audit_switch(self):
        order = self._shop_order("SET-A1", paid_at="2020-01-01 00:00:00")
        self.env.company.logistics_auto_audit = False
        self.env["sale.order"]._cron_logistics_audit(batch_size=500)
        self.assertEqual(order.audit_state, "to_audit")
        self.env.company.logistics_auto_audit = True
        self.env["sale.order"]._cron_logistics_audit(batch_size=500)
        self.assertEqual(order.audit_state, "approved")

    def test_automatic_routing_switch(self):
        approved = self._shop_order("SET-R1")
        waiting = self._shop_order("SET-R2")
        (approved | waiting).action_confirm()
        approved.action_logistics_approve()
        Picking = self.env["stock.picking"]
        self.env.company.logistics_auto_route = False
        Picking._cron_logistics_auto_route()
        self.assertEqual(approved.picking_ids.logistics_state, "to_route")
        self.env.company.logistics_auto_route = True
        Picking._cron_logistics_auto_route()
        self.assertEqual(approved.picking_ids.logistics_state, "routed")
        self.assertEqual(approved.picking_ids.carrier_account_id, self.account)
        # the order still to audit waits
        self.assertEqual(waiting.picking_ids.logistics_state, "to_route")
