from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestLogisticsSecurity(LogisticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop.sudo().write({"app_key": "key-123", "app_secret": "secret-456", "access_token": "token-789"})
        cls.clerk = new_test_user(cls.env, login="sl_clerk", groups="base.group_user,shop_logistics.group_logistics_user")
        cls.finance = new_test_user(cls.env, login="sl_finance", groups="base.group_user,shop_logistics.group_freight_finance")
        cls.manager = new_test_user(
            cls.env, login="sl_manager", groups="base.group_user,shop_logistics.group_logistics_manager"
        )

    def test_user_cannot_read_credentials(self):
        for user in (self.clerk, self.finance):
            shop = self.shop.with_user(user)
            self.assertEqual(shop.name, "Test Tmall")
            for field_name in ("app_key", "app_secret", "access_token", "refresh_token", "webhook_secret"):
                with self.assertRaises(AccessError, msg=f"{user.login} read {field_name}"):
                    shop.read([field_name])
            # The field is not even offered to the web client.
            self.assertNotIn("app_secret", shop.fields_get())
            self.assertTrue(shop.has_credentials)

    def test_manager_reads_credentials(self):
        shop = self.shop.with_user(self.manager)
        self.assertEqual(shop.read(["app_secret"])[0]["app_secret"], "secret-456")

    def test_user_cannot_change_shops(self):
        with self.assertRaises(AccessError):
            self.shop.with_user(self.clerk).write({"name": "hacked"})
        with self.assertRaises(AccessError):
            self.env["logistics.shop"].with_user(self.clerk).create({"name": "x", "platform": "jd"})

    def test_user_works_the_audit_queue(self):
        order = self._shop_order("SEC-1").with_user(self.clerk)
        order._logistics_hold("remark", "buyer asks for another colour")
        order.action_logistics_release()
        self.assertEqual(order.audit_state, "approved")

    def test_shops_of_another_company_are_invisible(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["logistics.shop"].create(
            {"name": "Foreign", "platform": "shopify", "company_id": other_company.id}
        )
        visible = self.env["logistics.shop"].with_user(self.manager).search([])
        self.assertIn(self.shop, visible)
        self.assertNotIn(foreign, visible)
