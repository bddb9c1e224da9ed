from odoo import Command
from odoo.tests import TransactionCase, tagged


STREETS = {
    "杭州市": "西湖区文三路1号",
    "深圳市": "南山区科技园科苑路15号",
    "乌鲁木齐市": "天山区解放北路1号",
    "上海市": "浦东新区世纪大道100号",
    "成都市": "武侯区天府大道北段1700号",
    "广州市": "天河区花城大道85号",
    "沈阳市": "和平区南京北街206号",
}


@tagged("post_install", "-at_install")
class TestDemoRouting(TransactionCase):
    """The demo routing rules and rate cards give each demo order the carrier a seller would choose."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("carrier_kdn.routing_rule_require_sf", raise_if_not_found=False):
            self.skipTest("installed without demo data")
        self.env.company.logistics_routing_mode = "first_match"

    def _delivery(self, shop, city, state, product="product_thermos_cup", quantity=1, remark=False):
        buyer = self.env["res.partner"].create(
            {"name": "演示买家", "street": STREETS[city], "city": city, "state_id": self.env.ref(state).id,
             "country_id": self.env.ref("base.cn").id}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": buyer.id,
                "shop_id": self.env.ref(f"shop_logistics.{shop}").id,
                "buyer_remark": remark,
                "order_line": [Command.create({"product_id": self.env.ref(f"shop_logistics.{product}").id,
                                               "product_uom_qty": quantity})],
            }
        )
        order.action_logistics_approve()
        order.action_confirm()
        return order.picking_ids

    def _route(self, picking):
        data = picking._logistics_route(apply=False)[picking.id]
        self.assertTrue(data["routed"], data)
        return self.env["logistics.routing.rule"].browse(data["rule"]), float(data["cost"])

    def test_demo_order_1_was_routed_by_its_remark(self):
        picking = self.env.ref("shop_logistics.order_1").picking_ids
        self.assertEqual(picking.logistics_state, "routed")
        self.assertEqual(picking.routing_rule_id, self.env.ref("carrier_kdn.routing_rule_require_sf"))
        self.assertEqual(picking.carrier_id, self.env.ref("carrier_kdn.carrier_sf"))
        # 2 cups and a tea, 1.2 kg to 北京: zone 一区, 18 + 1 additional kg × 5
        self.assertEqual(picking.expected_freight_cost, 23.0)

    def test_each_rule_takes_its_parcels(self):
        cases = [
            # shop, city, province, product, quantity, remark -> rule, cost
            (("shop_taobao", "杭州市", "base.state_cn_ZJ"), {}, "routing_rule_jzh_zto", 4.0),
            (("shop_tmall", "深圳市", "base.state_cn_GD"), {}, "routing_rule_default_yd", 5.0),
            (("shop_douyin", "乌鲁木齐市", "base.state_cn_XJ"), {}, "routing_rule_remote_yto", 14.0),
            (("shop_jd", "上海市", "base.state_cn_SH"), {}, "routing_rule_jd_shop", 10.0),
            (("shop_douyin", "成都市", "base.state_cn_SC"), {"product": "product_toy_blocks", "quantity": 5},
             "routing_rule_heavy", 14.0 + 5 * 5),
            (("shop_taobao", "广州市", "base.state_cn_GD"), {"remark": "请指定顺丰"}, "routing_rule_require_sf", 12.0),
            (("shop_tmall", "沈阳市", "base.state_cn_LN"), {"product": "product_bt_earbuds", "quantity": 4},
             "routing_rule_high_value", 22.0),
        ]
        for (shop, city, state), extra, rule_xmlid, cost in cases:
            with self.subTest(city=city, rule=rule_xmlid):
                rule, price = self._route(self._delivery(shop, city, state, **extra))
                self.assertEqual(rule, self.env.ref(f"carrier_kdn.{rule_xmlid}"))
                self.assertEqual(price, cost)

    def test_no_yunda_remark_falls_through_to_the_fallback(self):
        picking = self._delivery("shop_tmall", "深圳市", "base.state_cn_GD", remark="不要发韵达")
        rule, price = self._route(picking)
        self.assertEqual(rule, self.env.ref("carrier_kdn.routing_rule_fallback_yto"))
        self.assertEqual(price, 6.0)
        skipped = picking._logistics_route(apply=False)[picking.id]["skipped"]
        yunda = self.env.ref("carrier_kdn.routing_rule_default_yd")
        self.assertIn(
            ("The buyer asked not to ship with %(express)s.", {"express": "YD"}),
            [(entry["source"], entry["args"]) for entry in skipped if entry["rule"] == yunda.id],
        )

    def test_cheapest_mode_prices_every_demo_carrier(self):
        self.env.company.logistics_routing_mode = "cheapest"
        picking = self._delivery("shop_tmall", "深圳市", "base.state_cn_GD")
        data = picking._logistics_route(apply=False)[picking.id]
        self.assertEqual(data["rule"], self.env.ref("carrier_kdn.routing_rule_default_yd").id)
        self.assertEqual(float(data["cost"]), 5.0, "Yunda is the cheapest to 深圳")
        costs = {alternative["name"]: float(alternative["cost"]) for alternative in data["alternatives"]}
        self.assertEqual(costs[self.env.ref("carrier_kdn.carrier_account_zto").name], 5.5)
        self.assertEqual(costs[self.env.ref("carrier_kdn.carrier_account_yto").name], 6.0)
        self.assertEqual(costs[self.env.ref("carrier_kdn.carrier_account_jd").name], 10.0)
        self.assertEqual(costs[self.env.ref("carrier_kdn.carrier_account_sf").name], 12.0, "深圳 at SF's 珠三角 price")
