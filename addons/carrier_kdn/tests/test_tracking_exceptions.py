from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from odoo.addons.queue_job.job import Job

from .. import kdniao_states
from .common import EBUSINESS_ID, KdniaoCase


@tagged("post_install", "-at_install")
class TestScheduledRefresh(KdniaoCase, HttpCase):
    """The scheduled refresh against the simulator: due shipments only, in batches, through queue_job; pushed and
    queried events in one timeline per waybill."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim.push_urls[EBUSINESS_ID] = f"http://127.0.0.1:{config['http_port']}/kdniao/push"
        cls.sim.rate_limits = {}  # these tests query many tracks in a row

    def setUp(self):
        super().setUp()
        self.sim.push_now()

    def _shipped(self, carrier=None, scenario=None):
        picking = self._delivery(carrier=carrier or self.zto)
        picking.action_kdniao_issue_waybill()
        if scenario:
            self.sim.set_scenario(picking.waybill_number, scenario)
        picking._set_logistics_state("handed_over")
        return picking

    def _push_now(self):
        self.env.flush_all()
        results = self.sim.push_now()
        self.env.invalidate_all()
        return results

    def _refresh_jobs(self, pickings):
        jobs = self.env["queue.job"].search([("method_name", "=", "_kdniao_query_tracks_job")])
        return jobs.filtered(lambda job: job.records & pickings)

    def _events(self, picking):
        return self.env["logistics.shipment.event"].search([("waybill_number", "=", picking.waybill_number)])

    def test_due_shipments_are_queried_in_batches(self):
        pickings = self.env["stock.picking"].concat(*(self._shipped() for _i in range(5)))
        self.sim.advance(30)
        now = fields.Datetime.now()
        pushed_recently, *stale = pickings
        pushed_recently.kdniao_tracked_at = now - timedelta(minutes=10)
        self.env["stock.picking"].concat(*stale).kdniao_tracked_at = now - timedelta(minutes=31)
        queued = self.env["stock.picking"]._cron_kdniao_refresh_tracks(batch_size=2)
        self.assertEqual(queued & pickings, self.env["stock.picking"].concat(*stale))
        jobs = self._refresh_jobs(pickings)
        self.assertEqual(len(jobs), 2, "4 due shipments, 2 per job")
        self.assertEqual(set(jobs.mapped("channel")), {"root.tracking"})
        self.assertTrue(all(len(job.records) <= 2 for job in jobs))
        self.assertNotIn(pushed_recently, self.env["stock.picking"].concat(*(job.records for job in jobs)))
        before = len(self._requests("8001"))
        for job in jobs:
            Job.load(self.env, job.uuid).perform()
        self.assertEqual(len(self._requests("8001")) - before, 4)
        for picking in stale:
            self.assertTrue(self._events(picking))
            self.assertEqual(picking.logistics_state, "in_transit")
        self.assertFalse(self.env["stock.picking"]._cron_kdniao_refresh_tracks() & pickings, "nothing due any more")

    def test_interval_is_set_per_account(self):
        picking = self._shipped()
        self.assertEqual(self.kdniao.track_refresh_minutes, 30, "the default interval")
        self.kdniao.track_refresh_minutes = 60
        picking.kdniao_tracked_at = fields.Datetime.now() - timedelta(minutes=45)
        self.assertNotIn(picking, self.env["stock.picking"]._cron_kdniao_refresh_tracks())
        picking.kdniao_tracked_at = fields.Datetime.now() - timedelta(minutes=61)
        self.assertIn(picking, self.env["stock.picking"]._cron_kdniao_refresh_tracks())
        self.assertNotIn(picking, self.env["stock.picking"]._cron_kdniao_refresh_tracks(), "already queued")

    def test_delivered_shipments_are_not_refreshed(self):
        picking = self._shipped()
        self.sim.advance(24 * 5)
        picking.action_kdniao_refresh_tracks()
        self.assertEqual(picking.logistics_state, "delivered")
        picking.kdniao_tracked_at = fields.Datetime.now() - timedelta(days=1)
        self.assertNotIn(picking, self.env["stock.picking"]._cron_kdniao_refresh_tracks())

    def test_pushed_and_queried_events_share_one_timeline(self):
        picking = self._shipped()
        self.sim.advance(12)
        self._push_now()
        pushed = self._events(picking)
        self.assertTrue(pushed)
        self.assertEqual(set(pushed.mapped("source")), {"push"})
        self.sim.advance(50)  # new scans at the destination city's hub and outlet
        picking.kdniao_tracked_at = fields.Datetime.now() - timedelta(hours=1)
        self.env["stock.picking"]._cron_kdniao_refresh_tracks()
        for job in self._refresh_jobs(picking):
            Job.load(self.env, job.uuid).perform()
        self._push_now()  # the same traces pushed again after the query
        timeline = self._events(picking)
        traces = self.sim.waybills[picking.waybill_number]["traces"]
        self.assertEqual(len(timeline), len(traces), "each trace once, whichever way it came")
        self.assertEqual(len(set(timeline.mapped("event_key"))), len(timeline))
        self.assertEqual(set(timeline.mapped("source")), {"push", "query"})
        self.assertEqual(picking.shipment_event_ids, timeline)
        self.assertEqual(picking.sale_id.shipment_event_ids, timeline)

    def test_a_kdniao_outage_retries_the_whole_batch(self):
        from odoo.addons.queue_job.exception import RetryableJobError

        pickings = self._shipped() | self._shipped()
        self.sim.inject("http502", request_type="8001", count=2)
        with self.assertRaises(RetryableJobError):
            pickings._kdniao_query_tracks_job()


@tagged("post_install", "-at_install")
class TestKdniaoExceptions(KdniaoCase):
    """KDNiao's StateEx and Action codes raise the right exception tickets.

    The simulator's clock starts at Odoo's now and runs ahead of it: tracks are fetched at Odoo's real time (their
    events lie in its future, so nothing is due yet) and the exception scan runs at the simulator's time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim.rate_limits = {}  # time runs fast here: many track queries per real second
        cls.sim.advance((fields.Datetime.now() - cls.sim.now).total_seconds() / 3600)

    def _shipped(self, scenario, buyer=None):
        picking = self._delivery(carrier=self.zto, buyer=buyer)
        picking.action_kdniao_issue_waybill()
        self.sim.set_scenario(picking.waybill_number, scenario)
        picking._set_logistics_state("handed_over")
        return picking

    def _follow(self, pickings, hours, step=6):
        """Let time pass, refreshing the tracks and scanning like the scheduled jobs do."""
        for _step in range(int(hours // step)):
            self.sim.advance(step)
            pickings.filtered(lambda p: p.logistics_state not in ("delivered", "returned")).action_kdniao_refresh_tracks()
            with freeze_time(self.sim.now):
                self.env["stock.picking"]._logistics_scan_exceptions()

    def _kinds(self, picking):
        return {ticket.kind: ticket for ticket in picking.logistics_ticket_ids}

    def test_codes_map_to_problem_kinds(self):
        expected = {
            "404": "refused",
            "405": "delivery_failed",
            "406": "returned",
            "412": "not_collected",
            "416": "delivery_failed",
            "420": "address_problem",
            "421": "address_problem",
            "414": "carrier_problem",
            "499": "carrier_problem",
        }
        for code, kind in expected.items():
            self.assertEqual(kdniao_states.problem_kind(code), kind, code)
        for code in ("1", "2", "201", "202", "211", "3", "301", "419", None, ""):
            self.assertFalse(kdniao_states.problem_kind(code), code)

    def test_delivery_problems_from_the_simulator(self):
        failed = self._shipped("failed_delivery")
        address = self._shipped("address_problem")
        rejected = self._shipped("rejected")
        # Within the province (24 h door to door): no gap between scans reaches the 48 h of "no update".
        nearby = self._buyer("张三", "13900000003", "浙江省宁波市鄞州区天童南路1号", "宁波市", "base.state_cn_ZJ")
        normal = self._shipped("normal", buyer=nearby)
        self._follow(failed | address | rejected | normal, 24 * 8)

        ticket = self._kinds(failed)["delivery_failed"]
        self.assertIn("不成功", ticket.detail)
        self.assertEqual(failed.logistics_state, "delivered")
        self.assertEqual((ticket.state, ticket.resolution, ticket.auto_closed), ("done", "delivered", True))
        self.assertFalse(failed.is_logistics_exception)

        self.assertIn("address_problem", self._kinds(address))
        self.assertTrue(address.is_logistics_exception)
        self.assertEqual(address.logistics_exception_kind, self._kinds(address)["address_problem"].kind)

        self.assertEqual(rejected.logistics_state, "returned")
        self.assertLessEqual({"refused", "returned"}, set(self._kinds(rejected)))

        self.assertEqual(normal.logistics_state, "delivered")
        self.assertFalse(normal.logistics_ticket_ids)

    def test_silent_parcels(self):
        stalled = self._shipped("stalled")
        lost = self._shipped("lost")
        locker = self._shipped("locker")
        not_picked = self._shipped("no_pickup")
        self._follow(stalled | lost | locker | not_picked, 24 * 3)
        self.assertIn("stuck_at_hub", self._kinds(stalled))
        self.assertIn("no_update", self._kinds(lost))
        self.assertIn("not_picked_up", self._kinds(not_picked))
        self._follow(stalled | lost | locker, 24 * 6)
        self.assertIn("lost", self._kinds(lost))
        self.assertIn("not_collected", self._kinds(locker))
        self.assertEqual(len(self._kinds(stalled)), len(stalled.logistics_ticket_ids), "one ticket per cause")

    def test_expected_date_comes_from_kdniao(self):
        picking = self._shipped("normal")
        expected = (self.sim.now + timedelta(days=1)).date()
        picking.kdniao_expected_date = expected
        self.assertEqual(picking._logistics_expected_date(), expected)
        self.assertEqual(picking._logistics_expected_dates(), {picking.id: expected})
        self.assertEqual(picking._logistics_public_view()["expected_date"], expected)
        self.assertEqual(picking.logistics_expected_date, expected)
        self.sim.advance(12)
        picking.action_kdniao_refresh_tracks()
        self.assertEqual(picking.logistics_state, "in_transit")
        with freeze_time(self.sim.now + timedelta(hours=12)):
            picking._logistics_check_exceptions()
        self.assertNotIn("overdue", self._kinds(picking))
        with freeze_time(self.sim.now + timedelta(days=3)):
            picking._logistics_check_exceptions()
        self.assertIn("overdue", self._kinds(picking))
        self.assertIn(str(expected), self._kinds(picking)["overdue"].detail)
