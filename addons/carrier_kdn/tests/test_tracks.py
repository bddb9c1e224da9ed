import json

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from odoo.addons.queue_job.job import Job

from .common import EBUSINESS_ID, KdniaoCase


@tagged("post_install", "-at_install")
class TestKdniaoTracks(KdniaoCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim.push_urls[EBUSINESS_ID] = f"http://127.0.0.1:{config['http_port']}/kdniao/push"

    def setUp(self):
        super().setUp()
        self.sim.push_now()  # parcels of earlier tests keep moving: deliver their pushes before this test starts

    def _shipped(self, carrier=None, scenario=None):
        picking = self._delivery(carrier=carrier)
        picking.action_kdniao_issue_waybill()
        if scenario:
            self.sim.set_scenario(picking.waybill_number, scenario)
        picking._set_logistics_state("handed_over")
        return picking

    def _push_now(self):
        """Deliver the simulator's queued pushes to this Odoo; the requests write through the test cursor."""
        self.env.flush_all()
        results = self.sim.push_now()
        self.env.invalidate_all()
        return results

    def _events(self, picking):
        return self.env["logistics.shipment.event"].search([("waybill_number", "=", picking.waybill_number)])

    def test_query_moves_the_shipment_to_delivered(self):
        picking = self._shipped(carrier=self.zto)
        self.sim.advance(30)
        picking.action_kdniao_refresh_tracks()
        self.assertIn(picking.logistics_state, ("in_transit", "out_for_delivery"))
        self.assertTrue(self._events(picking))
        self.assertEqual(set(self._events(picking).mapped("source")), {"query"})
        self.sim.advance(24 * 5)
        picking.action_kdniao_refresh_tracks()
        self.assertEqual(picking.logistics_state, "delivered")
        self.assertEqual(picking.last_track_event_id.status, "delivered")
        events = self._events(picking)
        picking.action_kdniao_refresh_tracks()
        self.assertEqual(self._events(picking), events, "a second query adds no duplicate")

    def test_sf_query_sends_the_phone_digits(self):
        picking = self._shipped()
        self.sim.advance(30)
        picking.action_kdniao_refresh_tracks()
        self.assertEqual(self._requests("8001")[-1]["data"]["CustomerName"], "0002")
        self.assertTrue(self._events(picking))

    def test_push_stores_events_and_answers_success(self):
        picking = self._shipped(carrier=self.zto)
        self.sim.advance(30)
        results = self._push_now()
        self.assertTrue(results and all(result["accepted"] for result in results), self.sim.push_log)
        self.assertIn(picking.logistics_state, ("in_transit", "out_for_delivery"))
        self.assertEqual(set(self._events(picking).mapped("source")), {"push"})
        reply = json.loads(self.sim.push_log[-1]["reply"])
        self.assertEqual(set(reply), {"EBusinessID", "UpdateTime", "Success", "Reason"})
        self.assertIs(reply["Success"], True)

    def test_duplicate_pushes_store_each_event_once(self):
        picking = self._shipped(carrier=self.zto)
        self.sim.duplicate_pushes = True
        self.addCleanup(setattr, self.sim, "duplicate_pushes", False)
        self.sim.advance(30)
        self._push_now()
        events = self._events(picking)
        self.assertEqual(len(events), len(set(events.mapped("event_key"))))
        traces = self.sim.waybills[picking.waybill_number]["traces"]
        self.assertEqual(len(events), len(traces))

    def test_forged_push_is_refused_and_writes_nothing(self):
        picking = self._shipped(carrier=self.zto)
        self.sim.advance(30)
        self.sim.tamper_next_push = True
        with mute_logger("odoo.addons.carrier_kdn.controllers.main"):
            results = self._push_now()
        mine = [entry for entry in self.sim.push_log if picking.waybill_number in entry["request_data"]]
        self.assertEqual(len(mine), 1)
        self.assertFalse(mine[0]["accepted"])
        self.assertIs(json.loads(mine[0]["reply"])["Success"], False)
        self.assertFalse(any(result["accepted"] for result in results if result["count"]))
        self.assertFalse(self._events(picking))
        self.assertEqual(picking.logistics_state, "handed_over")

    def test_malformed_push_gets_kdniao_failure_answer(self):
        before = self.env["logistics.shipment.event"].search_count([])
        for form in ({"RequestData": "{not json", "DataSign": "x", "RequestType": "102"}, {"foo": "bar"}):
            with mute_logger("odoo.addons.carrier_kdn.controllers.main"):
                response = self.url_open("/kdniao/push", data=form)
            self.assertEqual(response.status_code, 200)
            answer = response.json()
            self.assertIs(answer["Success"], False)
            self.assertTrue(answer["Reason"])
        self.assertEqual(self.env["logistics.shipment.event"].search_count([]), before)

    def test_problem_parcels_raise_exceptions(self):
        stalled = self._shipped(carrier=self.zto, scenario="stalled")
        rejected = self._shipped(carrier=self.zto, scenario="rejected")
        self.sim.advance(24 * 7)
        (stalled | rejected).action_kdniao_refresh_tracks()
        self.assertEqual(stalled.logistics_state, "exception")
        self.assertTrue(stalled.is_logistics_exception)
        self.assertEqual(stalled.kdniao_state_ex, "403")
        self.assertIn(rejected.logistics_state, ("exception", "returned"))
        self.sim.advance(24 * 10)
        rejected.action_kdniao_refresh_tracks()
        self.assertEqual(rejected.logistics_state, "returned")

    def test_scheduled_refresh_queues_stale_shipments(self):
        picking = self._shipped(carrier=self.zto)
        self.sim.advance(30)
        queued = self.env["stock.picking"]._cron_kdniao_refresh_tracks()
        self.assertIn(picking, queued)
        job_record = self.env["queue.job"].search([("method_name", "=", "_kdniao_query_tracks_job")]).filtered(
            lambda job: picking in job.records
        )
        self.assertEqual(len(job_record), 1)
        self.assertEqual(job_record.channel, "root.tracking")
        Job.load(self.env, job_record.uuid).perform()
        self.assertTrue(self._events(picking))
        self.assertNotIn(picking, self.env["stock.picking"]._cron_kdniao_refresh_tracks())

    def test_recognise_and_link_a_waybill_shipped_outside_odoo(self):
        picking = self._delivery(carrier=self.zto)
        wizard = self.env["kdniao.recognize.wizard"].create(
            {"waybill_number": "78812345678901", "picking_id": picking.id, "kdniao_account_id": self.kdniao.id}
        )
        wizard.action_recognise()
        self.assertEqual(wizard.candidate_ids[0].express_code, "ZTO")
        self.assertTrue(wizard.candidate_ids[0].carrier_account_id)
        wizard.candidate_ids[0].action_link()
        self.assertEqual(picking.waybill_number, "78812345678901")
        self.assertEqual(picking.carrier_account_id.express_code, "ZTO")
        self.assertEqual(picking.logistics_state, "waybill_issued")
        self.assertTrue(picking.kdniao_subscribed)

    def test_pickup_booking_cancel_and_push(self):
        picking = self._delivery(carrier=self.zto)
        picking.action_kdniao_issue_waybill()
        picking.action_kdniao_book_pickup()
        self.assertEqual(picking.kdniao_pickup_state, "booked")
        self.assertEqual(self._requests("1801")[-1]["data"]["OrderCode"], picking.kdniao_pickup_code)
        picking.action_kdniao_cancel_pickup()
        self.assertEqual(picking.kdniao_pickup_state, "cancelled")
        picking.action_kdniao_book_pickup()
        self.assertEqual(picking.kdniao_pickup_state, "booked")
        self.sim.advance(12)
        self._push_now()
        self.assertEqual(picking.kdniao_pickup_state, "picked_up")
        # Collected: the pickup push hands it over, the track push of the same collection moves it on.
        self.assertIn(picking.logistics_state, ("handed_over", "in_transit"))
        with self.assertRaises(UserError):
            picking._kdniao_cancel_pickup()

    def test_validated_delivery_to_delivered_by_push(self):
        picking = self._delivery(carrier=self.zto)
        picking.picking_type_id.print_label = True
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertTrue(picking.waybill_number)
        self.assertIn(picking.waybill_number.encode(), picking.label_attachment_id.raw)
        self.assertEqual(picking.logistics_state, "handed_over")
        self.sim.advance(24 * 6)
        self._push_now()
        self.assertEqual(picking.logistics_state, "delivered")
        statuses = self._events(picking).mapped("status")
        self.assertIn("collected", statuses)
        self.assertIn("delivered", statuses)
        self.assertEqual(set(self._events(picking).mapped("source")), {"push"})
