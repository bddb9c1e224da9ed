"""Webhook pushes go through the inbox and two queue jobs: answered at once, made into orders in batches,
confirmed in batches; a second job waits for the first; nothing pushed is left behind."""

from datetime import timedelta

import psycopg2

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..models.logistics_shop_push_queue import INBOX_LOCK
from .common import PUSH_JOBS, run_push_jobs, start_simulator_shop

LINES = [{"sku_id": "9001", "merchant_code": "PQ-CUP", "title": "保温杯 黑色", "quantity": 1, "price": "89.00"}]
RECEIVER = {"name": "王小明", "mobile": "13800138000", "province": "北京市", "city": "北京市", "district": "朝阳区",
            "address": "建国路88号"}


@tagged("post_install", "-at_install")
class TestPushQueue(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "PQ-CUP", "type": "consu", "is_storable": True, "list_price": 89}
        )

    def setUp(self):
        super().setUp()
        self.sim, self.shop = start_simulator_shop(self, "shopify", "PQ-SHOPIFY")
        self.shop.auto_confirm = True

    def _push_new_orders(self, count):
        ids = []
        for _index in range(count):
            self.sim.add_order(lines=LINES, receiver=RECEIVER)
            order_id = list(self.sim.orders)[-1]
            status, body = self.sim.push(order_id, "paid")
            self.assertTrue(self.sim.push_accepted(status, body), body)
            ids.append(order_id)
        self.env.invalidate_all()
        return ids

    def _orders(self, ids):
        return self.env["sale.order"].search([("shop_id", "=", self.shop.id), ("platform_order_id", "in", ids)])

    def _pending_jobs(self, method):
        return self.env["queue.job"].search([("method_name", "=", method), ("state", "=", "pending")])

    def test_pushes_become_orders_in_one_batch_then_confirmed(self):
        ids = self._push_new_orders(5)
        self.assertEqual(len(self._pending_jobs(PUSH_JOBS[0])), 1, "one inbox job for all the pushes")
        self.assertFalse(self._orders(ids))
        Job.load(self.env, self._pending_jobs(PUSH_JOBS[0]).uuid).perform()
        self.env.invalidate_all()
        orders = self._orders(ids)
        self.assertEqual(len(orders), 5)
        self.assertEqual(set(orders.mapped("state")), {"draft"}, "visible first, confirmed by the next job")
        self.assertTrue(all(orders.mapped("platform_confirm_pending")))
        self.assertEqual(len(self._pending_jobs(PUSH_JOBS[1])), 1)
        run_push_jobs(self)
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertFalse(any(orders.mapped("platform_confirm_pending")))
        self.assertEqual(len(orders.picking_ids), 5)

    def test_a_second_job_waits_for_the_first(self):
        self._push_new_orders(1)
        job = Job.load(self.env, self._pending_jobs(PUSH_JOBS[0]).uuid)
        # Another worker holds the company's inbox lock (a session of its own).
        other = psycopg2.connect(dbname=self.env.cr.dbname, host=config["db_host"] or None,
                                 port=config["db_port"] or None, user=config["db_user"] or None)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", (INBOX_LOCK, self.env.company.id))
            with self.assertRaises(RetryableJobError) as caught:
                job.perform()
            self.assertEqual(caught.exception.seconds, 1)
            self.assertTrue(caught.exception.ignore_retry, "waiting for the lock is not a failure")
        finally:
            other.close()
        job.perform()
        self.env.invalidate_all()
        self.assertEqual(self.env["logistics.platform.inbox"].search([("shop_id", "=", self.shop.id)]).state, "done")

    def test_unreadable_payload_is_kept_in_error_and_the_others_go_on(self):
        ids = self._push_new_orders(2)
        broken = self.env["logistics.platform.inbox"].search([("platform_order_id", "=", ids[0])])
        original = broken.payload
        broken.payload = ["not", "an", "order"]
        run_push_jobs(self)
        self.assertEqual(broken.state, "error")
        self.assertTrue(broken.error)
        self.assertEqual(self._orders(ids).mapped("platform_order_id"), [ids[1]])
        broken.payload = original  # fixed by hand
        broken.action_retry()
        self.assertEqual(len(self._orders(ids)), 2)

    def test_pushes_left_waiting_are_queued_again_by_the_scheduler(self):
        ids = self._push_new_orders(1)
        self._pending_jobs(PUSH_JOBS[0]).unlink()  # the job was lost with its worker
        self.env["logistics.shop"]._platform_requeue_stale_pushes()
        self.assertFalse(self._pending_jobs(PUSH_JOBS[0]), "a push of a moment ago still has its job coming")
        message = self.env["logistics.platform.inbox"].search([("platform_order_id", "=", ids[0])])
        message.received_at = fields.Datetime.now() - timedelta(minutes=5)
        self.env["logistics.shop"]._cron_platform_sync()
        self.assertEqual(len(self._pending_jobs(PUSH_JOBS[0])), 1)
        run_push_jobs(self)
        self.assertEqual(self._orders(ids).state, "sale")
