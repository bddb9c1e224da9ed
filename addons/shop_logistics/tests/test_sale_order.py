from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.translate import LazyTranslate

from .common import LogisticsCase

_lt = LazyTranslate(__name__)


@tagged("post_install", "-at_install")
class TestShopOrder(LogisticsCase):
    def test_platform_order_id_is_unique_per_shop(self):
        self._shop_order("TB-1001")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._shop_order("TB-1001")
        # The same number in another shop is another order.
        self._shop_order("TB-1001", shop=self.other_shop)
        # Orders without a platform id (typed in by hand) never collide.
        self._shop_order(False)
        self._shop_order(False)
        self.assertEqual(self.env["sale.order"].search_count([("platform_order_id", "=", "TB-1001")]), 2)

    def test_shop_orders_start_to_audit_and_others_do_not(self):
        self.assertEqual(self._shop_order("TB-2001").audit_state, "to_audit")
        manual = self.env["sale.order"].create({"partner_id": self.buyer.id})
        self.assertFalse(manual.audit_state)

    def test_warehouse_comes_from_the_shop(self):
        self.assertEqual(self._shop_order("TB-2002").warehouse_id, self.warehouse)

    def test_hold_detail_is_shown_in_each_readers_language(self):
        order = self._shop_order("TB-3101")
        # Written by a job running in English; read by a clerk in Chinese.
        order.with_context(lang="en_US")._logistics_hold("manual", _lt("Held by %s", "OdooBot"))
        hold = order.active_hold_ids
        self.assertEqual(hold.with_context(lang="en_US").detail, "Held by OdooBot")
        self.assertEqual(hold.with_context(lang="zh_CN").detail, "由 OdooBot 挂起")
        self.assertIn("由 OdooBot 挂起", order.with_context(lang="zh_CN").hold_summary)
        # A plain text stays as it was written.
        order._logistics_hold("remark", "客户要求换颜色")
        self.assertIn("客户要求换颜色", order.with_context(lang="en_US").hold_summary)

    def test_hold_and_release(self):
        order = self._shop_order("TB-3001")
        order._logistics_hold("phone", "手机号码位数不对 / phone has 7 digits")
        self.assertEqual(order.audit_state, "on_hold")
        self.assertEqual(order.active_hold_ids.reason, "phone")
        self.assertIn("phone has 7 digits", order.hold_summary)
        self.assertIn("Invalid Phone", order.hold_summary)

        order._logistics_hold("address", "缺少区县 / district missing")
        self.assertEqual(len(order.active_hold_ids), 2)

        order.action_logistics_release()
        self.assertEqual(order.audit_state, "approved")
        self.assertFalse(order.active_hold_ids)
        self.assertEqual(len(order.hold_ids), 2)
        self.assertTrue(all(order.hold_ids.mapped("resolved")))
        self.assertEqual(order.hold_ids.resolved_by_id, self.env.user)

    def test_bulk_release(self):
        orders = self._shop_order("TB-4001") | self._shop_order("TB-4002")
        orders._logistics_hold("stock")
        orders.action_logistics_release()
        self.assertEqual(set(orders.mapped("audit_state")), {"approved"})

    def test_illegal_audit_moves_are_refused(self):
        order = self._shop_order("TB-5001")
        with self.assertRaises(UserError):
            order.action_logistics_release()  # not on hold
        order.action_logistics_approve()
        with self.assertRaises(UserError) as caught:
            order.action_logistics_approve()
        self.assertIn("Approved", str(caught.exception))
        with self.assertRaises(UserError):
            order._logistics_hold("no_such_reason")
        self.assertEqual(order.audit_state, "approved")
        order.action_logistics_hold()
        self.assertEqual(order.audit_state, "on_hold")
        self.assertEqual(order.active_hold_ids.reason, "manual")

    def test_workbench_counts(self):
        self._shop_order("TB-6001")
        held = self._shop_order("TB-6002")
        held._logistics_hold("risk")
        picking = self._confirmed_delivery("TB-6003")
        picking._set_logistics_state("exception", "stalled")
        self.shop.invalidate_recordset()
        self.assertEqual(self.shop.order_to_audit_count, 2)  # TB-6001 and TB-6003 (confirmed, not audited)
        self.assertEqual(self.shop.order_on_hold_count, 1)
        self.assertEqual(self.shop.picking_exception_count, 1)
        self.assertEqual(self.other_shop.order_to_audit_count, 0)
        action = self.shop.with_context(workbench_queue="on_hold").action_open_workbench_list()
        self.assertEqual(self.env["sale.order"].search(action["domain"]), held)
        action = self.shop.with_context(workbench_queue="exception").action_open_workbench_list()
        self.assertEqual(self.env["stock.picking"].search(action["domain"]), picking)
