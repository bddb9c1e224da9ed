from datetime import timedelta

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .. import logistics_state as ls
from .test_exceptions import SERIAL, ExceptionCase


@tagged("post_install", "-at_install")
class TestExceptionTickets(ExceptionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = "base.group_user,shop_logistics.group_logistics_user"
        cls.alice = new_test_user(cls.env, login="tk_alice", groups=group)
        cls.bob = new_test_user(cls.env, login="tk_bob", groups=group)
        cls.carol = new_test_user(cls.env, login="tk_carol", groups=group)
        cls.aftersales = cls.env["logistics.ticket.team"].create(
            {"name": "After-sales", "member_ids": [(6, 0, (cls.alice | cls.bob).ids)]}
        )
        cls.vip = cls.env["logistics.ticket.team"].create({"name": "VIP", "leader_id": cls.carol.id})
        Assignment = cls.env["logistics.ticket.assignment"]
        Assignment.create({"sequence": 1, "shop_id": cls.other_shop.id, "team_id": cls.vip.id, "user_id": cls.carol.id})
        Assignment.create({"sequence": 2, "kind": "address_problem", "team_id": cls.vip.id})
        Assignment.create({"sequence": 9, "team_id": cls.aftersales.id})

    def _stalled(self, hours=60):
        picking = self._shipment("in_transit")
        self._event(picking, hours)
        return picking.logistics_ticket_ids

    def test_ticket_is_assigned_by_rule_with_an_sla_and_an_activity(self):
        ticket = self._stalled()
        self.assertEqual(ticket.kind, "no_update")
        self.assertEqual(ticket.state, "new")
        self.assertEqual(ticket.team_id, self.aftersales)
        self.assertIn(ticket.user_id, self.alice | self.bob)
        rule = self.env.ref("shop_logistics.exception_rule_no_update")
        self.assertEqual(ticket.rule_id, rule)
        self.assertAlmostEqual(
            (ticket.sla_deadline - ticket.create_date).total_seconds(), rule.sla_hours * 3600, delta=120
        )
        self.assertTrue(ticket.name.startswith("EXC"))
        activity = ticket.activity_ids
        self.assertEqual(activity.user_id, ticket.user_id)
        self.assertEqual(ticket.detail, ticket.picking_id.logistics_exception_reason)
        # The next one goes to the other member: the one with fewer open tickets.
        second = self._stalled()
        self.assertEqual(second.user_id, (self.alice | self.bob) - ticket.user_id)

    def test_first_matching_assignment_wins(self):
        number = next(SERIAL)
        order = self._shop_order(f"TK-OTHER-{number}", shop=self.other_shop)
        order.action_confirm()
        picking = order.picking_ids
        picking.write({"logistics_state": "in_transit", "waybill_number": f"ZT{number}", "carrier_id": self.carrier.id})
        self._event(picking, 60)
        self.assertEqual(picking.logistics_ticket_ids.user_id, self.carol)
        address = self._shipment("out_for_delivery")
        self._event(address, 1, status="exception", description="地址不详", problem_kind="address_problem")
        ticket = address.logistics_ticket_ids
        self.assertEqual(ticket.team_id, self.vip)
        self.assertEqual(ticket.user_id, self.carol, "no owner on the rule: the team's leader when it has no members")
        self.assertEqual(ticket.priority, "2")

    def test_life_cycle(self):
        ticket = self._stalled()
        picking = ticket.picking_id
        ticket.with_user(ticket.user_id).action_start()
        self.assertEqual(ticket.state, "in_progress")
        with self.assertRaises(UserError):
            ticket.action_resolve()
        ticket.write({"resolution": "redeliver", "resolution_note": "快递员确认明天重新派送"})
        ticket.with_user(ticket.user_id).action_resolve()
        self.assertEqual(ticket.state, "done")
        self.assertTrue(ticket.closed_at)
        self.assertGreaterEqual(ticket.resolution_hours, 0)
        self.assertFalse(ticket.activity_ids, "the owner's to-do is done")
        self.assertFalse(picking.is_logistics_exception, "no open ticket left: the delivery is no longer red")
        self.assertFalse(picking.logistics_exception_kind)
        ticket.action_reopen()
        self.assertEqual(ticket.state, "in_progress")
        self.assertFalse(ticket.resolution)
        self.assertTrue(picking.is_logistics_exception)
        ticket.action_cancel()
        self.assertEqual(ticket.state, "cancelled")
        self.assertEqual(ticket._fields["state"].tracking, True, "state changes are tracked in the chatter")

    def test_closed_automatically_when_delivered(self):
        ticket = self._stalled()
        picking = ticket.picking_id
        self._event(picking, 0, status="out_for_delivery", description="派件中")
        picking._set_logistics_state(ls.OUT_FOR_DELIVERY)
        self.assertEqual(ticket.state, "new", "moving on does not close it: someone checks")
        self.assertTrue(picking.is_logistics_exception, "the delivery stays red while its ticket is open")
        picking._set_logistics_state(ls.DELIVERED)
        self.assertEqual(ticket.state, "done")
        self.assertEqual(ticket.resolution, "delivered")
        self.assertTrue(ticket.auto_closed)
        self.assertFalse(picking.is_logistics_exception)
        self.assertIn("delivered", ticket.message_ids[0].body)

    def test_one_open_ticket_per_delivery_and_cause(self):
        ticket = self._stalled()
        with self.assertRaises(UserError):
            self.env["logistics.ticket"].browse(ticket.copy({"state": "done"}).id).action_reopen()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            ticket.copy()

    def test_sla_overdue(self):
        ticket = self._stalled()
        self.assertFalse(ticket.sla_overdue)
        ticket.sla_deadline = self.now - timedelta(hours=1)
        self.assertTrue(ticket.sla_overdue)
        overdue = self.env["logistics.ticket"].search([("sla_overdue", "=", True)])
        self.assertIn(ticket, overdue)
        self.assertNotIn(ticket, self.env["logistics.ticket"].search([("sla_overdue", "=", False)]))
        ticket.write({"resolution": "compensate"})
        ticket.action_resolve()
        self.assertFalse(ticket.sla_overdue, "a closed ticket is never overdue")

    def test_statistics_of_causes(self):
        self._stalled()
        self._stalled(hours=200)
        groups = self.env["logistics.ticket"]._read_group([], ["kind"], ["__count", "resolution_hours:avg"])
        counts = {kind: count for kind, count, _avg in groups}
        self.assertGreaterEqual(counts.get("no_update", 0), 1)
        self.assertGreaterEqual(counts.get("lost", 0), 1)

    def test_sale_order_shows_the_timeline_and_tickets(self):
        ticket = self._stalled()
        order = ticket.sale_id
        self.assertTrue(order)
        self.assertEqual(order.shipment_event_ids, ticket.picking_id.shipment_event_ids)
        self.assertEqual(order.logistics_ticket_ids, ticket)
        self.assertEqual(order.logistics_open_ticket_count, 1)
        self.assertEqual(order.action_logistics_open_tickets()["domain"], [("sale_id", "in", order.ids)])

    def test_views_and_rights(self):
        views = self.env["logistics.ticket"].get_views(
            [(False, mode) for mode in ("list", "kanban", "form", "pivot", "graph", "activity", "search")]
        )
        self.assertEqual(len(views["views"]), 7)
        for xmlid in (
            "shop_logistics.action_logistics_tickets",
            "shop_logistics.action_logistics_ticket_analysis",
            "shop_logistics.action_logistics_exception_rules",
            "shop_logistics.action_logistics_ticket_teams",
            "shop_logistics.action_logistics_ticket_assignments",
            "shop_logistics.action_logistics_notifications",
        ):
            action = self.env.ref(xmlid)
            self.env[action.res_model].with_user(self.alice).search_count([])
        with self.assertRaises(AccessError):
            self.env["logistics.exception.rule"].with_user(self.alice).create({"kind": "lost", "threshold_hours": 1})
        with self.assertRaises(AccessError):
            self.env["logistics.notification"].with_user(self.alice).create(
                {"picking_id": self._shipment("printed").id, "event": "shipped", "channel": "email"}
            )
