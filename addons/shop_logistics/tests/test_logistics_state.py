from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import logistics_state as ls
from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestLogisticsStateMachine(LogisticsCase):
    def test_table_covers_every_state(self):
        self.assertEqual(set(ls.TRANSITIONS), set(ls.STATES))
        for targets in ls.TRANSITIONS.values():
            self.assertLessEqual(targets, set(ls.STATES))
        self.assertFalse(ls.TRANSITIONS[ls.RETURNED], "a returned shipment is final")
        picking_states = {key for key, _label in self.env["stock.picking"]._fields["logistics_state"].selection}
        self.assertEqual(picking_states, set(ls.STATES))

    def test_new_delivery_is_to_route(self):
        picking = self._confirmed_delivery("SM-1")
        self.assertEqual(picking.picking_type_code, "outgoing")
        self.assertEqual(picking.logistics_state, ls.TO_ROUTE)
        self.assertEqual(picking.shop_id, self.shop)
        self.assertEqual(picking.logistics_warehouse_id, self.warehouse)

    def test_happy_path(self):
        picking = self._confirmed_delivery("SM-2")
        for state in (
            ls.ROUTED,
            ls.WAYBILL_ISSUED,
            ls.PRINTED,
            ls.HANDED_OVER,
            ls.IN_TRANSIT,
            ls.OUT_FOR_DELIVERY,
            ls.DELIVERED,
        ):
            picking._set_logistics_state(state)
            self.assertEqual(picking.logistics_state, state)
            self.assertTrue(picking.logistics_state_date)

    def test_illegal_transitions_are_refused_with_their_names(self):
        picking = self._confirmed_delivery("SM-3")
        with self.assertRaises(UserError) as caught:
            picking._set_logistics_state(ls.DELIVERED)
        self.assertIn("To Route", str(caught.exception))
        self.assertIn("Delivered", str(caught.exception))
        self.assertEqual(picking.logistics_state, ls.TO_ROUTE)

        picking._set_logistics_state(ls.ROUTED)
        picking._set_logistics_state(ls.WAYBILL_ISSUED)
        picking._set_logistics_state(ls.DELIVERED)  # carriers may report a jump forward
        with self.assertRaises(UserError):
            picking._set_logistics_state(ls.IN_TRANSIT)
        picking._set_logistics_state(ls.RETURNED)
        for target in ls.STATES:
            if target != ls.RETURNED:
                with self.assertRaises(UserError):
                    picking._set_logistics_state(target)

    def test_refusal_is_all_or_nothing_on_a_batch(self):
        first = self._confirmed_delivery("SM-4")
        second = self._confirmed_delivery("SM-5")
        first._set_logistics_state(ls.ROUTED)
        with self.assertRaises(UserError):
            (first | second)._set_logistics_state(ls.WAYBILL_ISSUED)
        self.assertEqual(first.logistics_state, ls.ROUTED)
        self.assertEqual(second.logistics_state, ls.TO_ROUTE)

    def test_exception_flag_follows_the_state(self):
        picking = self._confirmed_delivery("SM-6")
        picking._set_logistics_state(ls.EXCEPTION, "地址不详 address unclear")
        self.assertTrue(picking.is_logistics_exception)
        self.assertEqual(picking.logistics_exception_reason, "地址不详 address unclear")
        self.assertIn(picking, self.env["stock.picking"].search(self.env["stock.picking"]._logistics_domain("exception")))
        picking._set_logistics_state(ls.ROUTED)
        self.assertFalse(picking.is_logistics_exception)
        self.assertFalse(picking.logistics_exception_reason)

    def test_validation_hands_over_a_printed_delivery(self):
        picking = self._confirmed_delivery("SM-7")
        for state in (ls.ROUTED, ls.WAYBILL_ISSUED, ls.PRINTED):
            picking._set_logistics_state(state)
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_state, ls.HANDED_OVER)

    def test_cancelling_the_delivery_cancels_the_shipment(self):
        picking = self._confirmed_delivery("SM-8")
        picking.action_cancel()
        self.assertEqual(picking.logistics_state, ls.CANCELLED)

    def test_incoming_pickings_have_no_logistics_state(self):
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.warehouse.lot_stock_id.id,
            }
        )
        self.assertFalse(receipt.logistics_state)

    def test_install_hook_enters_open_deliveries_only(self):
        from .. import _enter_open_deliveries_in_the_flow

        open_delivery = self._confirmed_delivery("SM-9")
        done_delivery = self._confirmed_delivery("SM-10")
        done_delivery.move_ids.quantity = 2
        done_delivery.move_ids.picked = True
        done_delivery.button_validate()
        (open_delivery | done_delivery).write({"logistics_state": False})
        _enter_open_deliveries_in_the_flow(self.env)
        self.assertEqual(open_delivery.logistics_state, ls.TO_ROUTE)
        self.assertFalse(done_delivery.logistics_state)
