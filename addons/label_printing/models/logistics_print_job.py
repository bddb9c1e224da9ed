from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.shop_logistics import logistics_state as ls

from .. import printer_transport

# Seconds to wait after each failed attempt while the printer is offline; the last one repeats.
RETRY_DELAYS = (30, 60, 120, 300, 600)
# A job the printer has not taken within this time fails and waits for a person (Retry).
RETRY_WINDOW = timedelta(hours=2)
# A queued job whose next attempt is this late lost its queue job (crash, purge): the cron queues it again.
STUCK_AFTER = timedelta(minutes=10)
LIVE_QUEUE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")
FILE_TYPES = {
    "pdf": ("pdf", "application/pdf"),
    "tspl": ("tspl", "application/octet-stream"),
    "zpl": ("zpl", "application/octet-stream"),
    "escpos": ("bin", "application/octet-stream"),
}


# Jobs that carry shipping labels (documents such as packing slips do not make a delivery "printed").
LABEL_KINDS = ("label", "reprint")


class LogisticsPrintJob(models.Model):
    _name = "logistics.print.job"
    _description = "Label Print Job"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    printer_id = fields.Many2one(
        "logistics.printer",
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        help="Empty when the labels were downloaded as a PDF.",
    )
    picking_ids = fields.Many2many(
        "stock.picking",
        "logistics_print_job_stock_picking_rel",
        "job_id",
        "picking_id",
        string="Deliveries",
        readonly=True,
    )
    picking_count = fields.Integer(string="Deliveries Count", compute="_compute_picking_count")
    label_count = fields.Integer(string="Labels", readonly=True)
    kind = fields.Selection(
        [("label", "Label"), ("reprint", "Reprint"), ("document", "Document")],
        required=True,
        default="label",
        readonly=True
    )
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        required=True,
        default="queued",
        readonly=True,
        index=True,
    )
    data_format = fields.Selection(
        [("escpos", "ESC/POS"), ("tspl", "TSPL"), ("zpl", "ZPL"), ("pdf", "PDF")],
        string="Command Language",
        required=True,
        readonly=True,
    )
    attachment_id = fields.Many2one("ir.attachment", string="Job File", readonly=True)
    size = fields.Integer(string="Size (bytes)", readonly=True)
    attempts = fields.Integer(readonly=True)
    last_error = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Printed By", default=lambda self: self.env.user, readonly=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, readonly=True)
    queued_date = fields.Datetime(string="Queued At", default=fields.Datetime.now, readonly=True)
    last_attempt_date = fields.Datetime(string="Last Attempt", readonly=True)
    next_attempt_date = fields.Datetime(string="Next Attempt", readonly=True)
    sent_date = fields.Datetime(string="Sent At", readonly=True)
    queue_job_uuid = fields.Char(string="Queue Job UUID", readonly=True, copy=False)
    batch_id = fields.Many2one(
        "logistics.print.batch", string="Print Batch", readonly=True, index="btree_not_null", ondelete="set null"
    )

    @api.depends("picking_ids")
    def _compute_picking_count(self):
        for job in self:
            job.picking_count = len(job.picking_ids)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("logistics.print.job") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------ creation

    @api.model
    def _create_job(self, printer, pickings, data, data_format, label_count, kind="label", batch=None):
        """A job holding ``data``: queued for ``printer``, or, without a printer, sent at once as a download."""
        job = self.create(
            {
                "printer_id": printer.id,
                "batch_id": batch.id if batch else False,
                "picking_ids": [fields.Command.set(pickings.ids)],
                "label_count": label_count,
                "kind": kind,
                "data_format": data_format,
                "size": len(data),
                "next_attempt_date": fields.Datetime.now(),
            }
        )
        job._attach(data)
        if printer:
            job._delay_send()
        else:
            job._mark_sent()
        return job

    def _attach(self, data):
        extension, mimetype = FILE_TYPES[self.data_format]
        self.attachment_id = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}.{extension}",
                "raw": data,
                "mimetype": mimetype,
                "res_model": self._name,
                "res_id": self.id,
            }
        )

    # ------------------------------------------------------------------ queue

    def _delay_send(self, eta=None):
        self.ensure_one()
        queued = self.with_delay(
            channel="root.print",
            eta=eta,
            description=self.env._("Print %s", self.name),
            identity_key=f"logistics-print-job-{self.id}-{self.attempts}",
        )._send_job()
        self.queue_job_uuid = queued.uuid

    def _queue_job(self):
        if not self.queue_job_uuid:
            return self.env["queue.job"]
        return self.env["queue.job"].sudo().search([("uuid", "=", self.queue_job_uuid)], limit=1)

    def _requeue(self):
        """Send again as soon as possible, unless a queue job is already on it."""
        for job in self:
            live = job._queue_job().filtered(lambda queue_job: queue_job.state in LIVE_QUEUE_JOB_STATES)
            if live.state == "pending":
                live.eta = False
            elif not live:
                job.with_user(job.user_id if job.user_id.active else job.env.user)._delay_send()

    def _send_job(self):
        """Queue job body: an offline printer puts the job back in the queue, to be tried later."""
        self.ensure_one()
        # A second worker on the same job waits here, then fails to serialize and is retried: never sent twice.
        self.env.cr.execute("SELECT id FROM logistics_print_job WHERE id = %s FOR UPDATE", (self.id,))
        self.invalidate_recordset(["state"])
        if self.state == "queued":
            self._send()
        return self.state

    def _send(self):
        self.ensure_one()
        self.write({"attempts": self.attempts + 1, "last_attempt_date": fields.Datetime.now()})
        try:
            self.printer_id._send_bytes(self.attachment_id.raw)
        except printer_transport.PrinterError as error:
            self._attempt_failed(self.printer_id._error_message(error), error.retryable)
        else:
            self._mark_sent()

    def _attempt_failed(self, message, retryable):
        now = fields.Datetime.now()
        if not retryable or now - self.queued_date >= RETRY_WINDOW:
            self._give_up(message)
            return
        eta = now + timedelta(seconds=RETRY_DELAYS[min(self.attempts, len(RETRY_DELAYS)) - 1])
        self.write({"last_error": message, "next_attempt_date": eta})
        self._delay_send(eta=eta)

    def _give_up(self, message):
        self.write({"state": "failed", "last_error": message, "next_attempt_date": False})

    def _mark_sent(self):
        now = fields.Datetime.now()
        self.write({"state": "sent", "sent_date": now, "last_error": False, "next_attempt_date": False})
        self.filtered(lambda job: job.kind in LABEL_KINDS).picking_ids._advance_logistics_state(ls.PRINTED)

    @api.model
    def _cron_requeue_stuck_jobs(self):
        """Queued jobs whose queue job was lost are queued again; those waiting too long fail."""
        now = fields.Datetime.now()
        stuck = self.search(
            [("state", "=", "queued"), ("printer_id", "!=", False), ("next_attempt_date", "<", now - STUCK_AFTER)]
        )
        expired = stuck.filtered(lambda job: now - job.queued_date >= RETRY_WINDOW)
        for job in expired:
            job._give_up(job.last_error or self.env._("The printer did not take the job in time."))
        (stuck - expired)._requeue()
        return stuck

    # ------------------------------------------------------------------ buttons

    def action_retry(self):
        jobs = self.filtered(lambda job: job.state in ("queued", "failed") and job.printer_id)
        now = fields.Datetime.now()
        jobs.write({"state": "queued", "queued_date": now, "next_attempt_date": now})
        jobs._requeue()
        return self._notification(
            self.env._("Print jobs queued again"),
            self.env._("%s job(s) will be sent to their printer in a moment.", len(jobs)),
        )

    def action_reprint(self):
        """Send the same labels again, as a new job; the deliveries' chatter records who reprinted what."""
        self.ensure_one()
        reprint = self._create_job(
            self.printer_id, self.picking_ids, self.attachment_id.raw, self.data_format, self.label_count, "reprint"
        )
        self.picking_ids._log_label_reprint(reprint)
        if not reprint.printer_id:
            return reprint._download_action()
        return self._notification(
            self.env._("Labels reprinted"),
            self.env._("%(job)s: %(count)s label(s) queued for %(printer)s.",
                       job=reprint.name, count=reprint.label_count, printer=reprint.printer_id.display_name),
        )

    def action_view_pickings(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_logistics.action_pickings_all")
        action["domain"] = [("id", "in", self.picking_ids.ids)]
        action["context"] = {}
        return action

    def _download_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }

    def _notification(self, title, message, warning=False, next_action=None):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "warning" if warning else "success",
                "sticky": warning,
                "className": "text-prewrap",
                "next": next_action or {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
