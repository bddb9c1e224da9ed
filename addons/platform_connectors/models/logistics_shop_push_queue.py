"""Webhook pushes: kept at once, made into sale orders in batches, confirmed in batches.

A push is answered as soon as its payload is committed in the inbox, so nothing a platform sends is lost if Odoo
stops right after. Then two queue jobs per company take over:

1. the inbox job turns every pending payload into a sale order, a batch per short transaction, so that an order is
   visible as soon as its batch is committed and pushes that arrive meanwhile join the next batch;
2. the confirmation job confirms those orders (deliveries, reservations: the costly part) in batches, beside the
   inbox job, and alone: two confirmations never reserve the same stock at once. While pushes keep coming it
   pauses after each batch twice as long as the batch took: during a flood, orders become visible first and are
   confirmed at a third of the speed, then at full speed once the flood is over.

Each job holds a PostgreSQL advisory lock while it runs. A second job of the same kind (queued by a push that arrived
meanwhile) finds the lock taken and is retried a second later, by which time the first job has taken that push or
has ended: no payload is left behind. The batches run on cursors opened after the lock is held, so each batch sees
every payload committed before it (the job's own transaction began earlier). A job ends when nothing has come for
a moment, or after a minute, leaving its successor queued so that the workers are shared with other jobs.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.queue_job.exception import RetryableJobError

from .. import order_files

_logger = logging.getLogger(__name__)

INBOX_LOCK = 0x5C01  # advisory lock class: the inbox job of a company (object: company id)
CONFIRM_LOCK = 0x5C02  # the confirmation job of a company
INBOX_BATCH = 200
CONFIRM_BATCH = 10
FLOOD_SECONDS = 2  # payloads received this recently mean a flood: the confirmation job gives way
FLOOD_PAUSE_FACTOR = 2  # its pause after a batch during a flood, in batch durations
IDLE_SECONDS = 0.5  # how long a job waits for more work before it ends
POLL_SECONDS = 0.05
RUN_SECONDS = 60  # then the job ends and queues its successor
STALE_MINUTES = 2  # pending work older than this is queued again by the scheduler


@contextmanager
def advisory_lock(registry, lock_class, key):
    """Hold a session advisory lock on a cursor of its own while the block runs; yields whether it was taken."""
    cr = registry.cursor()
    try:
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock_class, key))
        locked = cr.fetchone()[0]
        # The lock outlives the transaction: ending it now keeps this cursor out of the batches' way.
        cr.commit()
        try:
            yield locked
        finally:
            if locked:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", (lock_class, key))
                cr.commit()
    finally:
        cr.close()


class LogisticsShop(models.Model):
    _inherit = "logistics.shop"

    # ------------------------------------------------------------------ push → inbox

    def _platform_queue_pushed(self, canonical_orders):
        """Keep pushed orders in the inbox as pending and queue the company's inbox job; returns the messages."""
        self.ensure_one()
        messages = self.env["logistics.platform.inbox"].create(
            [
                {"shop_id": self.id, "platform_order_id": order.platform_order_id, "source": "push", "payload": order.raw}
                for order in canonical_orders
            ]
        )
        if messages:
            self.company_id._platform_queue_job("_platform_process_inbox_job")
        return messages

    # ------------------------------------------------------------------ inbox job

    @api.model
    def _platform_process_inbox_job(self):
        processed = self._platform_run_locked(INBOX_LOCK, "_platform_process_inbox_batch", "_platform_process_inbox_job")
        return self.env._("%s pushed orders processed.", processed)

    @api.model
    def _platform_process_inbox_batch(self):
        """Turn the company's oldest pending pushed payloads into sale orders, shop by shop; returns how many, and
        no pause."""
        inbox = self.env["logistics.platform.inbox"]
        self.env.cr.execute(
            """
            SELECT id FROM logistics_platform_inbox
             WHERE state = 'pending' AND source = 'push' AND company_id = %s
             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            """,
            (self.env.company.id, INBOX_BATCH),
        )
        messages = inbox.browse([row[0] for row in self.env.cr.fetchall()])
        for shop in messages.shop_id:
            own = messages.filtered(lambda message: message.shop_id == shop)
            shop.with_context(platform_defer_confirm=True)._platform_process_pending(own)
        if messages:
            self.env.company._platform_queue_job("_platform_confirm_pushed_job")
        return len(messages), 0

    def _platform_process_pending(self, messages):
        """Parse pending payloads (a payload that cannot be read stays in error) and process the readable ones."""
        self.ensure_one()
        readable, canonical_orders = messages.browse(), []
        client = self._platform_client()
        for message in messages:
            try:
                if order_files.is_file_payload(message.payload):
                    canonical = order_files.order_from_payload(message.payload)
                else:
                    canonical = client.parse_order(message.payload)
            except Exception as error:  # noqa: BLE001 - whatever the payload holds, it stays with its error
                message.write({"state": "error", "error": f"{type(error).__name__}: {error}"})
                continue
            readable |= message
            canonical_orders.append(canonical)
        return self._platform_process_payloads(readable, canonical_orders)

    # ------------------------------------------------------------------ confirmation job

    @api.model
    def _platform_confirm_pushed_job(self):
        confirmed = self._platform_run_locked(
            CONFIRM_LOCK, "_platform_confirm_pushed_batch", "_platform_confirm_pushed_job"
        )
        return self.env._("%s pushed orders confirmed.", confirmed)

    @api.model
    def _platform_confirm_pushed_batch(self):
        """Confirm the company's oldest orders waiting for confirmation; returns how many were handled, and the
        pause to make before the next batch (none unless pushes wait in the inbox)."""
        self.env.cr.execute(
            """
            SELECT id FROM sale_order WHERE platform_confirm_pending AND company_id = %s
             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            """,
            (self.env.company.id, CONFIRM_BATCH),
        )
        orders = self.env["sale.order"].browse([row[0] for row in self.env.cr.fetchall()])
        started = time.monotonic()
        orders._platform_confirm_deferred()
        self.env.flush_all()
        pause = FLOOD_PAUSE_FACTOR * (time.monotonic() - started) if orders and self._platform_flooded() else 0
        return len(orders), pause

    @api.model
    def _platform_flooded(self):
        """Whether payloads are still arriving (the newest one came within the last FLOOD_SECONDS)."""
        self.env.cr.execute(
            "SELECT received_at > (now() AT TIME ZONE 'UTC') - make_interval(secs => %s) "
            "FROM logistics_platform_inbox ORDER BY id DESC LIMIT 1",
            (FLOOD_SECONDS,),
        )
        row = self.env.cr.fetchone()
        return bool(row and row[0])

    # ------------------------------------------------------------------ the locked loop

    @api.model
    def _platform_run_locked(self, lock_class, batch_method, job_method):
        """Run ``batch_method`` batch after batch, each in its own committed transaction, under the company's
        advisory lock; returns the number of records the batches handled."""
        company = self.env.company
        registry = self.env.registry
        with advisory_lock(registry, lock_class, company.id) as locked:
            if not locked:
                raise RetryableJobError(
                    self.env._("Another job is processing this company's pushes."), seconds=1, ignore_retry=True
                )
            total, started, idle_since = 0, time.monotonic(), None
            while time.monotonic() - started < RUN_SECONDS:
                with registry.cursor() as cr:
                    env = api.Environment(cr, self.env.uid, dict(self.env.context, allowed_company_ids=[company.id]))
                    handled, pause = getattr(env[self._name], batch_method)()
                if handled:
                    total, idle_since = total + handled, None
                    time.sleep(pause)  # outside the transaction: nothing stays locked meanwhile
                    continue
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= IDLE_SECONDS:
                    return total
                time.sleep(POLL_SECONDS)
        # A minute of work: let other jobs have the worker, the successor carries on.
        company._platform_queue_job(job_method)
        return total

    # ------------------------------------------------------------------ safety net

    @api.model
    def _platform_requeue_stale_pushes(self):
        """Queue the jobs again for pushed payloads or confirmations left waiting (a job lost with its worker)."""
        since = fields.Datetime.now() - timedelta(minutes=STALE_MINUTES)
        stale_inbox = self.env["logistics.platform.inbox"].search(
            [("state", "=", "pending"), ("source", "=", "push"), ("received_at", "<", since)]
        )
        for company in stale_inbox.company_id:
            company._platform_queue_job("_platform_process_inbox_job")
        stale_orders = self.env["sale.order"].search(
            [("platform_confirm_pending", "=", True), ("create_date", "<", since)]
        )
        for company in stale_orders.company_id:
            company._platform_queue_job("_platform_confirm_pushed_job")


class ResCompany(models.Model):
    _inherit = "res.company"

    def _platform_queue_job(self, method):
        """Queue a push job of this company unless one is already waiting to run."""
        self.ensure_one()
        descriptions = {
            "_platform_process_inbox_job": self.env._("Orders pushed by the shops of %s", self.name),
            "_platform_confirm_pushed_job": self.env._("Confirm the orders pushed by the shops of %s", self.name),
        }
        delayed = self.env["logistics.shop"].with_company(self).with_delay(
            channel="root.shop_push",
            identity_key=f"platform-{method}-{self.id}",
            description=descriptions[method],
            max_retries=0,
        )
        return getattr(delayed, method)()
