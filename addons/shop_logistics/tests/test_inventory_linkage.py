from odoo import Command
from odoo.tests import tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestInventoryLinkage(LogisticsCase):
    """Stock reserved at approval and deducted at hand-over, through Odoo's own moves and quants."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stock = cls.warehouse.lot_stock_id

    def _quants(self, product=None):
        quants = self.env["stock.quant"]._gather(product or self.product, self.stock)
        quants.invalidate_recordset()
        return sum(quants.mapped("quantity")), sum(quants.mapped("reserved_quantity"))

    def _approved_delivery(self, ref, quantity=2, product=None):
        order = self._shop_order(
            ref, order_line=[Command.create({"product_id": (product or self.product).id, "product_uom_qty": quantity})]
        )
        order.action_confirm()
        order.action_logistics_approve()
        return order.picking_ids

    def _to_carrier(self, pickings, state="handed_over"):
        for picking in pickings:
            picking._set_logistics_state("routed")
            picking.waybill_number = f"SF{picking.id:010d}"
            picking._set_logistics_state("waybill_issued")
        pickings._set_logistics_state(state)

    def test_confirmation_reserves_nothing_and_approval_reserves(self):
        order = self._shop_order("INV-1")
        order.action_confirm()
        delivery = order.picking_ids
        self.assertEqual(self._quants(), (100, 0))
        self.assertEqual(delivery.move_ids.state, "confirmed")
        self.assertEqual(delivery.logistics_audit_state, "to_audit")
        # nor does Check Availability (or the scheduler) while the order waits for its audit
        delivery.action_assign()
        self.assertEqual(self._quants(), (100, 0))

        order.action_logistics_approve()
        self.assertEqual(self._quants(), (100, 2))
        self.assertEqual(delivery.state, "assigned")
        self.assertEqual(delivery.move_ids.move_line_ids.location_id, self.stock)

    def test_approval_of_a_batch_reserves_every_order(self):
        orders = self._shop_order("INV-B1") | self._shop_order("INV-B2") | self._shop_order("INV-B3")
        orders.action_confirm()
        orders.action_logistics_approve()
        self.assertEqual(self._quants(), (100, 6))
        self.assertEqual(set(orders.picking_ids.mapped("state")), {"assigned"})

    def test_audit_approval_reserves(self):
        self.env["logistics.audit.rule"].search([]).active = False
        self.env["logistics.audit.rule"].create({"name": "stock", "kind": "stock"})
        order = self._shop_order("INV-A1", order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": 30})])
        order.action_confirm()
        order._logistics_audit()
        self.assertEqual(order.audit_state, "approved")
        self.assertEqual(self._quants(), (100, 30))

    def test_hold_gives_the_stock_back_until_released(self):
        delivery = self._approved_delivery("INV-H1")
        order = delivery.sale_id
        self.assertEqual(self._quants(), (100, 2))
        order.action_logistics_hold()
        self.assertEqual(self._quants(), (100, 0))
        self.assertEqual(delivery.state, "confirmed")
        order.action_logistics_release()
        self.assertEqual(self._quants(), (100, 2))

    def test_hold_keeps_the_stock_of_a_parcel_being_packed(self):
        delivery = self._approved_delivery("INV-H2")
        delivery._set_logistics_state("routed")
        delivery.waybill_number = "SF0000000001"
        delivery._set_logistics_state("waybill_issued")
        delivery.sale_id.action_logistics_hold()
        self.assertEqual(self._quants(), (100, 2))

    def test_hand_over_deducts_the_stock(self):
        delivery = self._approved_delivery("INV-D1")
        self._to_carrier(delivery)
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.move_ids.state, "done")
        self.assertEqual(delivery.move_ids.quantity, 2)
        self.assertEqual(delivery.logistics_state, "handed_over")
        self.assertFalse(delivery.handover_stock_state)
        self.assertEqual(self._quants(), (98, 0))
        self.assertEqual(delivery.sale_id.order_line.qty_delivered, 2)

    def test_first_scan_in_transit_deducts_the_stock(self):
        """The carrier's pickup was not reported: its first scans still take the stock."""
        delivery = self._approved_delivery("INV-D2", quantity=3)
        self._to_carrier(delivery, "in_transit")
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.logistics_state, "in_transit")
        self.assertEqual(self._quants(), (97, 0))
        # later states do nothing more
        delivery._set_logistics_state("delivered")
        self.assertEqual(self._quants(), (97, 0))

    def test_validated_by_the_clerk_is_not_validated_twice(self):
        delivery = self._approved_delivery("INV-D3")
        delivery._set_logistics_state("routed")
        delivery.waybill_number = "SF0000000003"
        delivery._set_logistics_state("waybill_issued")
        delivery.button_validate()
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.logistics_state, "handed_over")
        delivery._set_logistics_state("in_transit")
        self.assertEqual(self._quants(), (98, 0))

    def test_a_delivery_not_fully_available_stays_open(self):
        scarce = self.env["product.product"].create(
            {"name": "Scarce Mug", "default_code": "T-MUG", "type": "consu", "is_storable": True}
        )
        self.env["stock.quant"]._update_available_quantity(scarce, self.stock, 1)
        delivery = self._approved_delivery("INV-P1", quantity=2, product=scarce)
        self.assertEqual(delivery.move_ids.state, "partially_available")
        self.assertEqual(self._quants(scarce), (1, 1))

        self._to_carrier(delivery)  # does not raise
        self.assertEqual(delivery.logistics_state, "handed_over")
        self.assertNotEqual(delivery.state, "done")
        self.assertEqual(delivery.handover_stock_state, "short")
        self.assertEqual(self._quants(scarce), (1, 1))
        message = delivery.message_ids.filtered(lambda m: "no stock was deducted" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn("T-MUG", message.body)
        self.assertIn("1.0 of 2.0", message.body)
        warning = delivery.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
        )
        self.assertEqual(len(warning), 1)

        # another carrier scan: still short, no second message
        delivery._set_logistics_state("in_transit")
        self.assertEqual(len(delivery.message_ids.filtered(lambda m: "no stock was deducted" in (m.body or ""))), 1)

        # the stock arrives: the hourly retry validates it and the warning is done
        self.env["stock.quant"]._update_available_quantity(scarce, self.stock, 5)
        self.env["stock.picking"]._cron_logistics_deduct_collected_stock()
        self.assertEqual(delivery.state, "done")
        self.assertFalse(delivery.handover_stock_state)
        self.assertFalse(delivery.activity_ids)
        self.assertEqual(self._quants(scarce), (4, 0))

    def test_a_collected_delivery_of_an_order_never_approved_is_validated(self):
        """The carrier has the parcel: whatever the order's audit says, its stock leaves the warehouse."""
        order = self._shop_order("INV-N1")
        order.action_confirm()
        delivery = order.picking_ids
        self._to_carrier(delivery)
        self.assertEqual(order.audit_state, "to_audit")
        self.assertEqual(delivery.state, "done")
        self.assertEqual(self._quants(), (98, 0))

    def test_a_batch_defers_and_validates_all_at_once(self):
        deliveries = self.env["stock.picking"]
        for number in range(6):
            deliveries |= self._approved_delivery(f"INV-BATCH-{number}")
        deferred = deliveries.with_context(logistics_defer_stock_deduction=True)
        for picking in deferred:
            self._to_carrier(picking, "in_transit")
        self.assertEqual(set(deliveries.mapped("handover_stock_state")), {"pending"})
        self.assertEqual(set(deliveries.mapped("state")), {"assigned"})
        self.assertEqual(self._quants(), (100, 12))

        deliveries._logistics_deduct_pending_stock()
        self.assertEqual(set(deliveries.mapped("state")), {"done"})
        self.assertEqual(set(deliveries.mapped("handover_stock_state")), {False})
        self.assertEqual(self._quants(), (88, 0))

    def test_batch_validation_costs_less_than_one_by_one(self):
        def queries_to_validate(count, prefix, batch):
            pickings = self.env["stock.picking"]
            for number in range(count):
                pickings |= self._approved_delivery(f"{prefix}-{number}")
            for picking in pickings:
                picking._set_logistics_state("routed")
                picking.waybill_number = f"{prefix}{picking.id}"
                picking._set_logistics_state("waybill_issued")
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            if batch:
                pickings._set_logistics_state("handed_over")
            else:
                for picking in pickings:
                    picking._set_logistics_state("handed_over")
            self.env.flush_all()
            self.assertEqual(set(pickings.mapped("state")), {"done"})
            return self.env.cr.sql_log_count - before

        one_by_one = queries_to_validate(10, "Q1", batch=False)
        together = queries_to_validate(10, "Q2", batch=True)
        self.assertLess(together * 2, one_by_one, f"batch {together} queries, one by one {one_by_one}")

    def test_cancelled_short_delivery_is_no_longer_flagged(self):
        empty = self.env["product.product"].create({"name": "Empty", "type": "consu", "is_storable": True})
        delivery = self._approved_delivery("INV-C1", product=empty)
        self._to_carrier(delivery)
        self.assertEqual(delivery.handover_stock_state, "short")
        delivery.action_cancel()
        self.assertFalse(delivery.handover_stock_state)
