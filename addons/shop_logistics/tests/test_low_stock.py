from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestLowStock(LogisticsCase):
    """Thresholds per product and warehouse, the scheduled check, its alert and the reorder suggestion."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Threshold = cls.env["logistics.stock.threshold"]
        cls.stock = cls.warehouse.lot_stock_id
        cls.warning = cls.env.ref("mail.mail_activity_data_warning")
        cls.clerk = cls.env["res.users"].create(
            {"name": "Stock Clerk", "login": "low_stock_clerk",
             "groups_id": [Command.set([cls.env.ref("shop_logistics.group_logistics_user").id])]}
        )

    def _ship(self, ref, quantity, days_ago=0):
        """A delivered shop order of ``quantity`` cups, its move dated ``days_ago``."""
        order = self._shop_order(ref, order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": quantity})])
        order.action_confirm()
        order.action_logistics_approve()
        order.picking_ids.button_validate()
        self.assertEqual(order.picking_ids.state, "done")
        if days_ago:
            order.picking_ids.move_ids.write({"date": fields.Datetime.now() - timedelta(days=days_ago)})
        return order

    def _threshold(self, **values):
        return self.Threshold.create(
            {"product_id": self.product.id, "warehouse_id": self.warehouse.id, "user_id": self.clerk.id,
             "lead_time_days": 7, "history_days": 30, **values}
        )

    def _alerts(self, threshold):
        return threshold.activity_ids.filtered(lambda activity: activity.activity_type_id == self.warning)

    def test_no_alert_above_the_minimum(self):
        threshold = self._threshold(min_qty=50)
        self.Threshold._cron_logistics_check_low_stock()
        self.assertFalse(threshold.is_low)
        self.assertEqual(threshold.free_qty, 100)
        self.assertFalse(self._alerts(threshold))
        self.assertNotIn(threshold, self.Threshold.search([("is_low", "=", True)]))

    def test_alert_below_the_minimum_and_closed_when_back(self):
        threshold = self._threshold(min_qty=50)
        # 60 reserved by an approved order: on hand 100, free 40
        reserving = self._shop_order("LS-R", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 60})])
        reserving.action_confirm()
        reserving.action_logistics_approve()
        self.Threshold._cron_logistics_check_low_stock()
        self.assertTrue(threshold.is_low)
        self.assertEqual((threshold.on_hand_qty, threshold.reserved_qty, threshold.free_qty), (100, 60, 40))
        self.assertTrue(threshold.low_since)
        alert = self._alerts(threshold)
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.user_id, self.clerk)
        self.assertIn("T-CUP", alert.summary)
        self.assertIn(threshold, self.Threshold.search([("is_low", "=", True)]))
        # checked again while still low: no second activity
        self.Threshold._cron_logistics_check_low_stock()
        self.assertEqual(len(self._alerts(threshold)), 1)
        # the order is held: its stock goes back, the product is no longer low
        reserving.action_logistics_hold()
        self.Threshold._cron_logistics_check_low_stock()
        self.assertFalse(threshold.is_low)
        self.assertFalse(threshold.low_since)
        self.assertFalse(self._alerts(threshold))

    def test_other_warehouse_does_not_count(self):
        other = self.env["stock.warehouse"].create({"name": "Other WH", "code": "OWH"})
        self.env["stock.quant"]._update_available_quantity(self.product, other.lot_stock_id, 500)
        threshold = self._threshold(min_qty=120)
        self.assertTrue(threshold.is_low)
        self.assertEqual(threshold.free_qty, 100)

    def test_reorder_suggestion_covers_the_lead_time(self):
        # shipped in the last 30 days: 10 + 20 = 30 (1 a day); the 50 shipped 40 days ago do not count
        self._ship("LS-1", 10, days_ago=3)
        self._ship("LS-2", 20, days_ago=12)
        self._ship("LS-OLD", 50, days_ago=40)
        # on hand 100 − 80 = 20, 5 reserved by an approved order: free 15
        held = self._shop_order("LS-3", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 5})])
        held.action_confirm()
        held.action_logistics_approve()
        threshold = self._threshold(min_qty=25)
        self.assertEqual(threshold.free_qty, 15)
        self.assertAlmostEqual(threshold.avg_daily_out_qty, 1.0)
        # 1/day × 7 days + minimum 25 − free 15 = 17
        self.assertEqual(threshold.suggested_qty, 17)
        self.assertTrue(threshold.is_low)

        # 4 already on their way in: 13
        receipt = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.in_type_id.id,
            "location_id": self.env.ref("stock.stock_location_suppliers").id,
            "location_dest_id": self.stock.id,
            "move_ids": [Command.create({
                "name": "cups", "product_id": self.product.id, "product_uom_qty": 4,
                "location_id": self.env.ref("stock.stock_location_suppliers").id, "location_dest_id": self.stock.id,
            })],
        })
        receipt.action_confirm()
        threshold.action_logistics_check()
        self.assertEqual(threshold.incoming_qty, 4)
        self.assertEqual(threshold.suggested_qty, 13)

        # a longer history: (30 + 50) / 60 days = 1.333…/day × 7 = 9.33 + 25 − 15 − 4 = 15.33 → 16
        threshold.history_days = 60
        self.assertAlmostEqual(threshold.avg_daily_out_qty, 80 / 60, places=3)
        self.assertEqual(threshold.suggested_qty, 16)

        # up to a target instead: 60 − 15 − 4 = 41
        threshold.target_qty = 60
        self.assertEqual(threshold.suggested_qty, 41)

    def test_create_reorder_rule(self):
        self._ship("LS-O1", 30, days_ago=1)
        threshold = self._threshold(min_qty=80)
        # 1/day × 7 + 80 − 70 = 17
        self.assertEqual(threshold.suggested_qty, 17)
        action = threshold.action_logistics_create_orderpoint()
        orderpoint = threshold.orderpoint_id
        self.assertEqual(action["res_model"], "stock.warehouse.orderpoint")
        self.assertEqual(action["domain"], [("id", "in", orderpoint.ids)])
        self.assertEqual(orderpoint.product_id, self.product)
        self.assertEqual(orderpoint.location_id, self.stock)
        self.assertEqual(orderpoint.trigger, "manual")
        self.assertEqual(orderpoint.product_min_qty, 80)
        self.assertEqual(orderpoint.qty_to_order, 17)
        # again: the same rule, with the new suggestion
        threshold.min_qty = 90
        threshold.action_logistics_create_orderpoint()
        self.assertEqual(threshold.orderpoint_id, orderpoint)
        self.assertEqual(orderpoint.qty_to_order, 27)

    def test_bad_thresholds_are_refused(self):
        with self.assertRaises(ValidationError):
            self._threshold(min_qty=50, target_qty=40)
        service = self.env["product.product"].create({"name": "Gift wrap", "type": "service"})
        with self.assertRaises(ValidationError):
            self._threshold(min_qty=1, product_id=service.id)

    def test_clerk_can_check_but_not_change(self):
        threshold = self._threshold(min_qty=150)
        threshold.with_user(self.clerk).action_logistics_check()
        self.assertTrue(threshold.is_low)
        with self.assertRaises(AccessError):
            threshold.with_user(self.clerk).min_qty = 1
