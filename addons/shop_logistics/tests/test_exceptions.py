import itertools
from datetime import date, datetime, timedelta

from odoo import fields
from odoo.tests import BaseCase, tagged

from .. import exception_rules as er
from .common import LogisticsCase

SERIAL = itertools.count(1)


class ExceptionCase(LogisticsCase):
    """Shipments put in a given state with track events of a given age."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, queue_job__no_delay=True))
        cls.now = fields.Datetime.now()
        cls.carrier = cls._fixed_carrier("Test Express")

    @classmethod
    def _fixed_carrier(cls, name):
        product = cls.env["product.product"].create({"name": name, "type": "service"})
        return cls.env["delivery.carrier"].create({"name": name, "delivery_type": "fixed", "product_id": product.id})

    def _shipment(self, state, state_hours=1, label_hours=None, carrier=None):
        number = next(SERIAL)
        picking = self._confirmed_delivery(f"EXC-{number}")
        picking.write(
            {
                "logistics_state": state,
                "logistics_state_date": self.now - timedelta(hours=state_hours),
                "logistics_label_printed_at": label_hours is not None and self.now - timedelta(hours=label_hours),
                "waybill_number": f"YT{900000 + number}",
                "carrier_id": (carrier or self.carrier).id,
            }
        )
        return picking

    def _event(self, picking, hours, status="in_transit", description="【杭州市】快件运输中", **extra):
        values = {
            "waybill_number": picking.waybill_number,
            "picking_id": picking.id,
            "event_time": self.now - timedelta(hours=hours),
            "status": status,
            "description": description,
            "location": "杭州市",
            "source": "push",
            **extra,
        }
        return self.env["logistics.shipment.event"]._record_events([values])

    def _scan(self, pickings):
        pickings._logistics_check_exceptions()
        return pickings.logistics_ticket_ids

    def _kinds(self, picking):
        return set(picking.logistics_ticket_ids.filtered(lambda t: t.state in ("new", "in_progress")).mapped("kind"))


@tagged("post_install", "-at_install")
class TestExceptionRules(ExceptionCase):
    """Each rule fires past its threshold and stays quiet before it, through the model and its scan."""

    def test_not_picked_up_after_the_label_was_printed(self):
        late = self._shipment("printed", label_hours=25)
        early = self._shipment("printed", label_hours=23)
        collected = self._shipment("handed_over", label_hours=30)
        self._event(collected, 2, status="collected", description="已揽收")
        self._scan(late | early | collected)
        self.assertEqual(self._kinds(late), {"not_picked_up"})
        self.assertFalse(self._kinds(early))
        self.assertFalse(self._kinds(collected))

    def test_no_update_in_transit(self):
        silent = self._shipment("in_transit")
        self._event(silent, 49, description="快件已发出，下一站【北京】")
        moving = self._shipment("in_transit")
        self._event(moving, 47, description="快件已发出，下一站【北京】")
        self._scan(silent | moving)
        self.assertEqual(self._kinds(silent), {"no_update"})
        self.assertFalse(self._kinds(moving))

    def test_stuck_at_a_transfer_centre(self):
        stuck = self._shipment("in_transit")
        self._event(stuck, 25, description="快件已到达【杭州转运中心】")
        self.assertTrue(stuck.last_track_event_id.at_transfer_centre)
        passing = self._shipment("in_transit")
        self._event(passing, 23, description="快件已到达【杭州转运中心】")
        left = self._shipment("in_transit")
        self._event(left, 25, description="快件已从【杭州转运中心】发出，下一站【北京转运中心】")
        self.assertFalse(left.last_track_event_id.at_transfer_centre)
        self._scan(stuck | passing | left)
        self.assertEqual(self._kinds(stuck), {"stuck_at_hub"})
        self.assertFalse(self._kinds(passing))
        self.assertFalse(self._kinds(left), "25 h after leaving a hub is not yet 'no update'")

    def test_lost_wins_over_no_update(self):
        lost = self._shipment("in_transit")
        self._event(lost, 170, description="快件已发出")
        self._scan(lost)
        self.assertEqual(self._kinds(lost), {"lost"})

    def test_problems_the_carrier_reports(self):
        cases = {
            "delivery_failed": ("exception", "派送不成功，收件人不在", 1),
            "refused": ("returning", "收件人拒收", 1),
            "address_problem": ("exception", "收件地址不详细", 1),
            # Its threshold (24 h) runs from the event: the time the parcel went into the locker.
            "not_collected": ("at_pickup_point", "快递柜超时未取", 25),
        }
        for kind, (status, text, hours) in cases.items():
            with self.subTest(kind=kind):
                picking = self._shipment("out_for_delivery")
                self._event(picking, hours, status=status, description=text, problem_kind=kind)
                # Raised as soon as the event is recorded, without waiting for the scan.
                self.assertEqual(self._kinds(picking), {kind})
                self.assertTrue(picking.is_logistics_exception)
                self.assertEqual(picking.logistics_exception_kind, kind)
        normal = self._shipment("out_for_delivery")
        self._event(normal, 1, status="out_for_delivery", description="派件中")
        self.assertFalse(self._kinds(normal))
        self.assertFalse(normal.is_logistics_exception)

    def test_returned_parcels(self):
        returned = self._shipment("returned")
        self._scan(returned)
        self.assertEqual(self._kinds(returned), {"returned"})
        by_event = self._shipment("in_transit")
        self._event(by_event, 1, status="returning", description="退回件已发出")
        self.assertEqual(self._kinds(by_event), {"returned"}, "a returning scan is a return without carrier codes")

    def test_not_collected_from_a_locker(self):
        waiting = self._shipment("out_for_delivery")
        self._event(waiting, 25, status="at_pickup_point", description="已放入丰巢智能柜")
        fresh = self._shipment("out_for_delivery")
        self._event(fresh, 20, status="at_pickup_point", description="已放入丰巢智能柜")
        self._scan(waiting | fresh)
        self.assertEqual(self._kinds(waiting), {"not_collected"})
        self.assertFalse(self._kinds(fresh))

    def test_overdue_against_the_expected_date(self):
        late = self._shipment("in_transit")
        self._event(late, 2)
        on_time = self._shipment("in_transit")
        self._event(on_time, 2)
        today = fields.Date.context_today(late)
        expected = {late.id: today - timedelta(days=2), on_time.id: today + timedelta(days=1)}
        self.patch(type(late), "_logistics_expected_date", lambda picking: expected.get(picking.id, False))
        self._scan(late | on_time)
        self.assertEqual(self._kinds(late), {"overdue"})
        self.assertFalse(self._kinds(on_time))
        self.assertIn(str(expected[late.id]), late.logistics_ticket_ids.detail)

    def test_per_carrier_threshold_and_disabled_rules(self):
        slow = self._fixed_carrier("Slow Freight")
        self.env["logistics.exception.rule"].create({"kind": "no_update", "threshold_hours": 72, "carrier_id": slow.id})
        freight = self._shipment("in_transit", carrier=slow)
        self._event(freight, 50)
        express = self._shipment("in_transit")
        self._event(express, 50)
        self._scan(freight | express)
        self.assertFalse(self._kinds(freight), "72 h for this carrier")
        self.assertEqual(self._kinds(express), {"no_update"})
        self.env.ref("shop_logistics.exception_rule_not_picked_up").active = False
        label = self._shipment("printed", label_hours=40)
        self._scan(label)
        self.assertFalse(self._kinds(label), "an archived rule checks nothing")

    def test_rescan_raises_nothing_twice(self):
        silent = self._shipment("in_transit")
        self._event(silent, 60)
        self.assertEqual(len(silent.logistics_ticket_ids), 1)
        scan = self.env["stock.picking"]._logistics_scan_exceptions
        self.assertFalse(scan().filtered(lambda t: t.picking_id == silent), "an open ticket is not raised again")
        self.assertEqual(len(silent.logistics_ticket_ids), 1)
        ticket = silent.logistics_ticket_ids
        ticket.write({"resolution": "contact_buyer"})
        ticket.action_resolve()
        self.assertFalse(scan().filtered(lambda t: t.picking_id == silent), "the same silence, already handled")
        self._event(silent, 55, description="快件已到达【北京】")
        self.assertEqual(len(silent.logistics_ticket_ids), 2, "a later silence is a new occurrence")

    def test_exception_is_red_in_the_lists(self):
        picking = self._shipment("in_transit")
        self._event(picking, 60)
        self.assertTrue(picking.is_logistics_exception)
        self.assertEqual(picking.logistics_exception_kind, "no_update")
        self.assertIn("60", picking.logistics_exception_reason)
        queue = self.env["stock.picking"].search(self.env["stock.picking"]._logistics_domain("exception"))
        self.assertIn(picking, queue)
        self.assertGreaterEqual(self.shop.picking_exception_count, 1)
        # Ticket views and the shipment list colour rows by these fields.
        for model, field_name in (("stock.picking", "is_logistics_exception"), ("logistics.ticket", "sla_overdue")):
            self.assertIn(field_name, self.env[model].fields_get())

    def test_manual_exception_in_the_warehouse_is_not_a_silence(self):
        picking = self._shipment("exception", state_hours=100)
        self._scan(picking)
        self.assertFalse(self._kinds(picking))


class TestExceptionRulesWithoutOdoo(BaseCase):
    """The plain rules: thresholds, scopes and which problem wins."""

    now = datetime(2026, 11, 23, 12, 0)

    def _shipment(self, **values):
        base = dict.fromkeys(er.Shipment._fields)
        base.update(id=1, state="in_transit", state_since=self.now - timedelta(hours=100))
        base.update(values)
        return er.Shipment(**base)

    def test_scopes_most_specific_first(self):
        policy = er.Policy(
            [("no_update", 48, None, None), ("no_update", 24, None, 2), ("no_update", 96, 7, None)], self.now
        )
        self.assertEqual(policy.hours("no_update", carrier_id=7, company_id=2), 96)
        self.assertEqual(policy.hours("no_update", carrier_id=8, company_id=2), 24)
        self.assertEqual(policy.hours("no_update", carrier_id=8, company_id=3), 48)
        self.assertIsNone(policy.hours("lost"))

    def test_carrier_problem_silences_the_time_rules(self):
        policy = er.Policy.defaults(self.now)
        shipment = self._shipment(
            last_event_at=self.now - timedelta(hours=200), last_event_status="exception", carrier_problem="refused"
        )
        self.assertEqual([p.kind for p in er.detect(shipment, policy)], ["refused"])

    def test_overdue_is_measured_in_local_days(self):
        policy = er.Policy.defaults(datetime(2026, 11, 23, 15, 0), utc_offset=timedelta(hours=8))
        due_yesterday = self._shipment(
            last_event_at=datetime(2026, 11, 23, 10, 0), last_event_status="in_transit", expected_date=date(2026, 11, 23)
        )
        # 15:00 UTC is 23:00 in China: the expected day is not over yet.
        self.assertEqual(er.detect(due_yesterday, policy), [])
        policy = er.Policy.defaults(datetime(2026, 11, 23, 16, 0), utc_offset=timedelta(hours=8))
        self.assertEqual([p.kind for p in er.detect(due_yesterday, policy)], ["overdue"])

    def test_states_outside_the_scan(self):
        policy = er.Policy.defaults(self.now)
        for state in ("to_route", "routed", "waybill_issued", "delivered", "cancelled"):
            self.assertEqual(er.detect(self._shipment(state=state), policy), [], state)

    def test_transfer_centre_words(self):
        self.assertTrue(er.looks_like_transfer_centre("【上海市】快件已到达【上海转运中心】"))
        self.assertTrue(er.looks_like_transfer_centre("Arrived at Shanghai transfer centre"))
        self.assertFalse(er.looks_like_transfer_centre("快件已从【上海转运中心】发出"))
        self.assertFalse(er.looks_like_transfer_centre("派件中"))
