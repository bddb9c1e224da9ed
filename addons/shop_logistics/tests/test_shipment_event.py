from odoo.tests import tagged

from .common import LogisticsCase


@tagged("post_install", "-at_install")
class TestShipmentEvents(LogisticsCase):
    def _event(self, time, status, description, location="北京"):
        return {
            "waybill_number": "SF1234567890",
            "express_code": "SF",
            "picking_id": self.picking.id,
            "event_time": time,
            "status": status,
            "description": description,
            "location": location,
            "source": "push",
            "raw_payload": {"AcceptTime": time, "AcceptStation": description},
        }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.picking = cls._confirmed_delivery("EV-1")

    def test_duplicates_are_skipped_and_timeline_is_ordered(self):
        events = self.env["logistics.shipment.event"]
        collected = self._event("2026-11-11 08:00:00", "collected", "顺丰速运 已收取快件")
        transit = self._event("2026-11-11 20:00:00", "in_transit", "快件到达 北京顺义集散中心")
        first = events._record_events([collected, transit, dict(collected)])
        self.assertEqual(len(first), 2)
        # The same push again, plus a later event, arriving out of order.
        delivered = self._event("2026-11-12 10:30:00", "delivered", "已签收，签收人：本人", "上海")
        second = events._record_events([delivered, transit, collected])
        self.assertEqual(len(second), 1)
        timeline = events.search([("waybill_number", "=", "SF1234567890")])
        self.assertEqual(timeline.mapped("status"), ["delivered", "in_transit", "collected"])
        self.assertEqual(self.picking.last_track_event_id.status, "delivered")
        self.assertEqual(self.picking.shipment_event_ids, timeline)
        self.assertEqual(timeline[0].raw_payload["AcceptStation"], "已签收，签收人：本人")
        self.assertEqual(timeline.company_id, self.picking.company_id)

    def test_an_older_event_does_not_replace_the_last_one(self):
        events = self.env["logistics.shipment.event"]
        events._record_events([self._event("2026-11-12 10:00:00", "out_for_delivery", "派件中")])
        events._record_events([self._event("2026-11-11 10:00:00", "collected", "已揽收")])
        self.assertEqual(self.picking.last_track_event_id.status, "out_for_delivery")

    def test_empty_batch(self):
        self.assertFalse(self.env["logistics.shipment.event"]._record_events([]))
