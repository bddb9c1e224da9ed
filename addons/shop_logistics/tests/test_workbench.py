from odoo.tests import HttpCase, tagged

WORKBENCH_ACTIONS = (
    "shop_logistics.logistics_workbench_action",
    "shop_logistics.action_orders_to_audit",
    "shop_logistics.action_orders_on_hold",
    "shop_logistics.action_shop_orders",
    "shop_logistics.action_pickings_to_route",
    "shop_logistics.action_pickings_to_print",
    "shop_logistics.action_pickings_exception",
    "shop_logistics.action_pickings_all",
    "shop_logistics.action_pickings_analysis",
    "shop_logistics.action_logistics_shipment_events",
    "shop_logistics.action_logistics_shops",
    "shop_logistics.action_logistics_remark_tags",
    "shop_logistics.action_logistics_carrier_accounts",
)


@tagged("post_install", "-at_install")
class TestWorkbench(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"].search([("name", "=", "shop_logistics")])._update_translations(["zh_CN"])
        cls.shop = cls.env["logistics.shop"].create({"name": "Tour Shop", "platform": "douyin", "sync_enabled": True})
        partner = cls.env["res.partner"].create({"name": "Tour Buyer"})
        cls.held_order = cls.env["sale.order"].create(
            {"partner_id": partner.id, "shop_id": cls.shop.id, "platform_order_id": "TOUR-1", "buyer_remark": "加急"}
        )
        cls.held_order._logistics_hold("address", "TOUR street missing")
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "Tour Clerk",
                "login": "tour_clerk",
                "password": "tour_clerk",
                "lang": "zh_CN",
                "groups_id": [(6, 0, [cls.env.ref("base.group_user").id, cls.env.ref("shop_logistics.group_logistics_user").id])],
            }
        )

    def test_every_action_loads_its_views_and_data(self):
        for xmlid in WORKBENCH_ACTIONS:
            with self.subTest(action=xmlid):
                action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
                model = self.env[action["res_model"]]
                search_view = action.get("search_view_id")
                views = [*action["views"], (search_view and search_view[0], "search")]
                result = model.get_views(views, {"toolbar": True, "load_filters": True})
                self.assertEqual(set(result["views"]), {view_type for _id, view_type in views})
                domain = action.get("domain") or []
                if isinstance(domain, str):
                    domain = eval(domain)  # noqa: S307 - our own action domains, literal lists
                fields = list(result["models"][model._name]["fields"])
                model.web_search_read(domain, {name: {} for name in fields[:20]}, limit=80)

    def test_workbench_tour_admin(self):
        self.start_tour("/odoo", "shop_logistics_workbench_tour", login="admin")

    def test_workbench_tour_chinese_clerk(self):
        self.start_tour("/odoo", "shop_logistics_workbench_tour_zh", login="tour_clerk")
        self.assertEqual(self.held_order.audit_state, "approved")
