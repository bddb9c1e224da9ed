"""The platform's risk flags reach the audit: a Pinduoduo order under risk control (``risk_control_status`` 1) is
held by the audit's risk rule, a plain one is approved, and the flag clearing on the platform clears it in Odoo."""

from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import start_simulator_shop

LINES = [{"sku_id": "9101", "merchant_code": "PR-CUP", "title": "保温杯 白色", "quantity": 1, "price": "59.00"}]
RECEIVER = {"name": "李雷", "mobile": "13900139000", "province": "北京市", "city": "北京市", "district": "朝阳区",
            "address": "建国路88号"}


@tagged("post_install", "-at_install")
class TestPlatformRiskFlags(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "PR-CUP", "type": "consu", "is_storable": True, "list_price": 59}
        )
        rules = cls.env["logistics.audit.rule"].search([])
        (rules - cls.env.ref("shop_logistics.audit_rule_risk")).active = False

    def setUp(self):
        super().setUp()
        self.sim, self.shop = start_simulator_shop(self, "pinduoduo", "RISK-PDD")

    def _pull(self):
        now = self.sim.now().replace(tzinfo=None) + timedelta(minutes=1)
        self.shop.sync_cursor = now - timedelta(hours=24)
        log = self.shop._platform_pull(now=now)
        self.assertEqual(log.state, "done", log.error_message)

    def _order(self, platform_order_id):
        return self.env["sale.order"].search(
            [("shop_id", "=", self.shop.id), ("platform_order_id", "=", str(platform_order_id))]
        )

    def test_risk_flag_holds_and_plain_order_is_approved(self):
        risky_id = self.sim.add_order(lines=LINES, receiver=RECEIVER, status="on_hold")["order_sn"]
        plain_id = self.sim.add_order(lines=LINES, receiver=RECEIVER)["order_sn"]
        self._pull()
        risky, plain = self._order(risky_id), self._order(plain_id)
        self.assertEqual(risky.platform_risk_flags, "risk_control,on_hold")
        self.assertEqual(risky._logistics_risk_flags(), frozenset({"risk_control", "on_hold"}))
        self.assertFalse(plain.platform_risk_flags)
        self.assertEqual(plain._logistics_risk_flags(), frozenset())

        (risky | plain)._logistics_audit()
        self.assertEqual(plain.audit_state, "approved")
        self.assertEqual(risky.audit_state, "on_hold")
        self.assertEqual(risky.active_hold_ids.mapped("reason"), ["risk"])
        self.assertIn("risk_control", risky.with_context(lang="en_US").hold_summary)

        # the platform lifts its risk control: the flags go, and the order passes its next audit
        self.sim.advance(5)
        self.sim.update_order(str(risky_id), risk_control_status=0)
        self._pull()
        self.assertFalse(risky.platform_risk_flags)
        risky.active_hold_ids._resolve()
        risky.action_logistics_reaudit()
        risky._logistics_audit()
        self.assertEqual(risky.audit_state, "approved")
