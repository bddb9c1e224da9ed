from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .common import LogisticsCase


class AuditRoutingCase(LogisticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.beijing = cls.env.ref("base.state_cn_BJ")
        cls.buyer.write({"state_id": cls.beijing.id, "mobile": "13800138000"})
        cls.Rule = cls.env["logistics.audit.rule"]
        cls.Rule.search([]).active = False

    @classmethod
    def _audit_rule(cls, kind, **values):
        return cls.Rule.create({"name": kind, "kind": kind, **values})

    def _order(self, ref, **values):
        values = {"buyer_nick": "xiaoming", "paid_at": fields.Datetime.now(), **values}
        return self._shop_order(ref, **values)

    def assertHeld(self, order, reason, text=None):
        self.assertEqual(order.audit_state, "on_hold")
        self.assertIn(reason, order.active_hold_ids.mapped("reason"))
        if text:
            self.assertIn(text, order.with_context(lang="en_US").hold_summary)


@tagged("post_install", "-at_install")
class TestAudit(AuditRoutingCase):
    def test_default_rules_are_data(self):
        rules = self.Rule.with_context(active_test=False).search([("company_id", "=", self.env.company.id)])
        self.assertEqual(
            set(rules.mapped("kind")),
            {"address", "phone", "duplicate", "stock", "threshold", "blacklist", "remark", "risk"},
        )

    def test_address(self):
        self._audit_rule("address")
        good = self._order("A-1")
        good._logistics_audit()
        self.assertEqual(good.audit_state, "approved")
        self.assertEqual(good.logistics_area, "北京市/北京市/朝阳区")
        self.assertEqual(good.logistics_area_code, "110105")
        nowhere = self.buyer.copy({"street": "不存在区某路1号", "city": "北京市"})
        bad = self._order("A-2", partner_id=nowhere.id)
        bad._logistics_audit()
        self.assertHeld(bad, "address", "The district is missing.")
        no_state = self.buyer.copy({"state_id": False})
        self._order("A-3", partner_id=no_state.id)._logistics_audit()
        self.assertHeld(self.env["sale.order"].search([("platform_order_id", "=", "A-3")]), "address",
                        "The province is missing.")

    def test_phone(self):
        self._audit_rule("phone")
        good = self._order("P-1")
        good._logistics_audit()
        self.assertEqual(good.audit_state, "approved")
        wrong = self.buyer.copy({"mobile": "12345", "phone": False})
        bad = self._order("P-2", partner_id=wrong.id)
        bad._logistics_audit()
        self.assertHeld(bad, "phone", "12345 is not a valid mobile number.")

    def test_duplicate(self):
        self._audit_rule("duplicate", duplicate_window_hours=2)
        now = fields.Datetime.now()
        first = self._shop_order("D-1", buyer_nick="xiaoming", paid_at=now - timedelta(minutes=30))
        first._logistics_audit()
        self.assertEqual(first.audit_state, "approved")
        second = self._shop_order("D-2", buyer_nick="xiaoming", paid_at=now)
        second._logistics_audit()
        self.assertHeld(second, "duplicate", "Same buyer, address and items as %s" % first.name)
        # another buyer: no duplicate
        late = self._shop_order("D-3", buyer_nick="other", paid_at=now)
        late._logistics_audit()
        self.assertEqual(late.audit_state, "approved")

    def test_stock_in_one_batch(self):
        self._audit_rule("stock")
        big = self._order("S-1", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 60})])
        big.paid_at = fields.Datetime.now() - timedelta(minutes=5)
        second = self._order("S-2", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 60})])
        (big | second)._logistics_audit()
        self.assertEqual(big.audit_state, "approved")
        # the first paid took 60 of the 100
        self.assertHeld(second, "stock", "T-CUP ×60 (40)")

    def test_threshold(self):
        self._audit_rule("threshold", max_quantity=5)
        small = self._order("T-1")
        big = self._order("T-2", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 6})])
        (small | big)._logistics_audit()
        self.assertEqual(small.audit_state, "approved")
        self.assertHeld(big, "threshold", "6 items are above the limit of 5.")

    def test_blacklist(self):
        self._audit_rule("blacklist", blacklist_buyers="badguy | 恶意退款\n", blacklist_mobiles="139 0000 0000")
        good = self._order("B-1")
        bad = self._shop_order("B-2", buyer_nick="badguy")
        (good | bad)._logistics_audit()
        self.assertEqual(good.audit_state, "approved")
        self.assertHeld(bad, "blacklist", "Buyer badguy is on the blacklist: 恶意退款")

    def test_remark(self):
        self._audit_rule("remark")
        good = self._order("R-1", buyer_remark="指定顺丰")
        bad = self._order("R-2", buyer_remark="麻烦改地址到公司")
        (good | bad)._logistics_audit()
        self.assertEqual(good.audit_state, "approved")
        self.assertHeld(bad, "remark", "The buyer's remark needs a person (attention)")

    def test_risk(self):
        self._audit_rule("risk", risk_flags="fraud")
        good = self._order("K-1")
        bad = self._order("K-2")
        flags = {bad.id: frozenset({"fraud"})}
        with patch.object(type(self.env["sale.order"]), "_logistics_risk_flags",
                          lambda order: flags.get(order.id, frozenset())):
            (good | bad)._logistics_audit()
        self.assertEqual(good.audit_state, "approved")
        self.assertHeld(bad, "risk", "The platform flagged the order: fraud.")

    def test_every_reason_is_kept_and_translated_for_the_reader(self):
        self._audit_rule("phone", sequence=1)
        self._audit_rule("threshold", sequence=2, max_amount=1)
        wrong = self.buyer.copy({"mobile": "12345", "phone": False})
        order = self._order("M-1", partner_id=wrong.id)
        order.action_logistics_audit()
        self.assertEqual(sorted(order.active_hold_ids.mapped("reason")), ["phone", "threshold"])
        hold = order.active_hold_ids.filtered(lambda h: h.reason == "phone")
        self.assertEqual(hold.detail_data["source"], "%(phone)s is not a valid mobile number.")
        self.env["res.lang"]._activate_lang("zh_CN")
        chinese = hold.with_context(lang="zh_CN").detail
        self.assertIn("12345", chinese)
        self.assertNotEqual(chinese, hold.with_context(lang="en_US").detail)
        # stop: the rules after a holding rule do not run
        self.Rule.search([("kind", "=", "phone")]).stop = True
        order.action_logistics_reaudit()
        order.active_hold_ids._resolve()
        order._logistics_audit()
        self.assertEqual(order.active_hold_ids.mapped("reason"), ["phone"])
        # release from the list
        order.action_logistics_release()
        self.assertEqual(order.audit_state, "approved")

    def test_cron_audits_orders_to_audit(self):
        self._audit_rule("phone")
        orders = self._order("C-1") | self._order("C-2", buyer_nick="other")
        self.env["sale.order"]._cron_logistics_audit(batch_size=500)
        self.assertEqual(orders.mapped("audit_state"), ["approved", "approved"])


@tagged("post_install", "-at_install")
class TestRouting(AuditRoutingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["logistics.routing.rule"].search([]).active = False
        # The demo's carrier accounts have rate cards: they would be priced as alternatives too.
        cls.env["logistics.carrier.account"].search([]).active = False
        cls.env.company.logistics_routing_mode = "first_match"
        service = cls.env["product.product"].create({"name": "Freight", "type": "service"})
        cls.accounts = {}
        for code in ("SF", "ZTO", "YD"):
            method = cls.env["delivery.carrier"].create(
                {"name": f"Test {code}", "product_id": service.id, "delivery_type": "fixed"}
            )
            cls.accounts[code] = cls.env["logistics.carrier.account"].create(
                {"name": f"{code} account", "express_code": code, "carrier_id": method.id}
            )
        cls.jzh = cls.env.ref("shop_logistics.region_set_jzh")
        cls.remote = cls.env.ref("shop_logistics.region_set_remote")
        cls.hangzhou = cls.buyer.copy(
            {"state_id": cls.env.ref("base.state_cn_ZJ").id, "city": "杭州市", "street": "西湖区文三路1号"}
        )

    def _rule(self, name, code, sequence, **values):
        return self.env["logistics.routing.rule"].create(
            {"name": name, "carrier_account_id": self.accounts[code].id, "sequence": sequence, **values}
        )

    def _delivery(self, ref, quantity=2, partner=None, **values):
        order = self._shop_order(
            ref, partner_id=(partner or self.buyer).id,
            order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": quantity})], **values,
        )
        order.action_confirm()
        self.assertEqual(order.picking_ids.logistics_state, "to_route")
        return order.picking_ids

    def test_default_region_sets(self):
        self.assertEqual(self.jzh.name, "江浙沪")
        self.assertEqual(self.remote.name, "偏远地区")
        self.assertIn("新疆", self.remote.members)

    def test_priority_and_region_sets(self):
        zto = self._rule("江浙沪 ZTO", "ZTO", 10, region_set_ids=[Command.set(self.jzh.ids)])
        yd = self._rule("Everywhere YD", "YD", 20)
        beijing = self._delivery("RT-1")
        hangzhou = self._delivery("RT-2", partner=self.hangzhou)
        (beijing | hangzhou).action_logistics_route()
        self.assertEqual(hangzhou.routing_rule_id, zto)
        self.assertEqual(hangzhou.carrier_account_id, self.accounts["ZTO"])
        self.assertEqual(hangzhou.carrier_id, self.accounts["ZTO"].carrier_id)
        self.assertEqual(hangzhou.logistics_state, "routed")
        self.assertEqual(beijing.routing_rule_id, yd)
        self.assertEqual(beijing.logistics_state, "routed")
        # the explanation: the rule matched, the rule skipped and why
        self.assertEqual(beijing.routing_data["skipped"][0]["rule"], zto.id)
        self.assertEqual(beijing.routing_data["skipped"][0]["source"], "Destination not in %(regions)s.")
        html = str(beijing.with_context(lang="en_US").routing_explanation)
        self.assertIn("Rule Everywhere YD matched: YD account.", html)
        self.assertIn("Destination not in 江浙沪.", html)
        # higher priority wins when both match
        zto.sequence = 30
        again = self._delivery("RT-3", partner=self.hangzhou)
        again.action_logistics_route()
        self.assertEqual(again.routing_rule_id, yd)

    def test_provinces_and_weight_bands(self):
        light = self._rule("Light", "ZTO", 10, max_weight=1, state_ids=[Command.set(self.env.ref("base.state_cn_BJ").ids)])
        heavy = self._rule("Heavy", "SF", 20, min_weight=1)
        one_kg = self._delivery("W-1", quantity=2)  # 2 × 0.5 kg
        three_kg = self._delivery("W-2", quantity=6)
        (one_kg | three_kg).action_logistics_route()
        self.assertEqual(one_kg.routing_rule_id, light)
        self.assertEqual(three_kg.routing_rule_id, heavy)
        self.assertIn("Weight above 1 kg.", str(three_kg.with_context(lang="en_US").routing_explanation))
        elsewhere = self._delivery("W-3", quantity=2, partner=self.hangzhou)
        elsewhere.action_logistics_route()
        self.assertFalse(elsewhere.routing_rule_id)
        self.assertTrue(elsewhere.routing_failed)
        self.assertEqual(elsewhere.logistics_state, "to_route")
        self.assertIn("No routing rule matched", str(elsewhere.with_context(lang="en_US").routing_explanation))

    def test_remark_require_sf(self):
        self._rule("ZTO first", "ZTO", 10)
        sf = self._rule("SF", "SF", 20)
        plain = self._delivery("SF-1")
        wants_sf = self._delivery("SF-2", buyer_remark="请指定顺丰，谢谢")
        (plain | wants_sf).action_logistics_route()
        self.assertEqual(plain.carrier_account_id, self.accounts["ZTO"])
        self.assertEqual(wants_sf.routing_rule_id, sf)
        self.assertEqual(wants_sf.carrier_account_id, self.accounts["SF"])
        self.assertIn("The buyer asked for SF.", str(wants_sf.with_context(lang="en_US").routing_explanation))
        # a rule on the remark tag itself
        tag = self.env["logistics.remark.tag"].search([("code", "=", "require_sf")])
        self.assertTrue(tag)
        sf_rule = self._rule("SF on request", "SF", 5, remark_tag_ids=[Command.set(tag.ids)], service_type="顺丰标快")
        third = self._delivery("SF-3", buyer_remark="指定顺丰")
        third.action_logistics_route()
        self.assertEqual(third.routing_rule_id, sf_rule)
        self.assertEqual(third.routing_service_type, "顺丰标快")

    def test_cheapest_with_rate_cards(self):
        self.env.company.logistics_routing_mode = "cheapest"
        beijing = self.env.ref("base.state_cn_BJ")
        for code, first, additional in (("SF", 12, 3), ("ZTO", 8, 2)):
            self.accounts[code].write({
                "rate_first_weight": 1, "rate_step_weight": 1, "rate_volumetric_divisor": 8000,
                "rate_zone_ids": [Command.create({"name": "华北", "state_ids": [Command.set(beijing.ids)],
                                                  "first_price": first, "additional_price": additional})],
            })
        self._rule("SF", "SF", 10)
        zto = self._rule("ZTO", "ZTO", 20)
        # 3 × 0.5 kg = 1.5 kg actual; 3 × 10 000 cm³ / 8000 = 3.75 kg volumetric, charged:
        # first kg + 3 started kg → ZTO 8 + 3 × 2 = 14.00, SF 12 + 3 × 3 = 21.00
        self.product.volume = 0.01
        delivery = self._delivery("CH-1", quantity=3)
        delivery.action_logistics_route()
        self.assertEqual(delivery.routing_rule_id, zto)
        self.assertEqual(delivery.expected_freight_cost, 14.0)
        self.assertEqual(delivery.routing_data["quote"]["chargeable_kg"], "3.75")
        self.assertEqual(delivery.routing_data["alternatives"], [
            {"carrier": self.accounts["SF"].id, "name": "SF account", "cost": "21.00"}])
        html = str(delivery.with_context(lang="en_US").routing_explanation)
        self.assertIn("Matched, but SF account costs 21.00, more than 14.00 with ZTO account.", html)
        self.assertIn("SF account: 21.00", html)

    def test_simulate_changes_nothing(self):
        self._rule("Everywhere YD", "YD", 10)
        delivery = self._delivery("SIM-1")
        wizard = self.env["logistics.routing.simulation"].with_context(
            active_model="stock.picking", active_ids=delivery.ids
        ).create({})
        wizard.action_simulate()
        self.assertEqual(wizard.line_ids.carrier_account_id, self.accounts["YD"])
        self.assertTrue(wizard.line_ids.routed)
        self.assertIn("Everywhere YD", str(wizard.line_ids.with_context(lang="en_US").explanation))
        self.assertEqual(delivery.logistics_state, "to_route")
        self.assertFalse(delivery.carrier_account_id)
        self.assertFalse(delivery.routing_data)
        self.assertFalse(delivery.routing_rule_id)
