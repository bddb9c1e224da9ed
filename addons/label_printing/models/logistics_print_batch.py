import logging
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import label_render

_logger = logging.getLogger(__name__)

# Selections of more deliveries than this are prepared in the background (system parameter to change it).
DEFAULT_ASYNC_THRESHOLD = 50
# Deliveries per queue job: each job issues their waybills and renders their labels, then reports progress.
DEFAULT_CHUNK_SIZE = 25
# A batch that has not moved for this long lost a queue job (crash, purge): the cron queues its chunks again.
STALLED_AFTER = timedelta(minutes=15)
# Below the print jobs' default 10: a label sent from another desk does not wait for a whole batch to be prepared.
BATCH_PRIORITY = 20
ACTIVE_STATES = ("queued", "running")
BUS_NOTIFICATION = "label_printing/print_batch"


class LogisticsPrintBatch(models.Model):
    """Labels of many deliveries prepared in the background: waybills issued and labels rendered chunk by chunk
    (queue channel root.print), then sent as one job per printer, in the order the clerk's click fixed."""

    _name = "logistics.print.batch"
    _description = "Label Print Batch"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    state = fields.Selection(
        [("queued", "Queued"), ("running", "Preparing"), ("done", "Done"), ("cancelled", "Cancelled")],
        required=True,
        default="queued",
        readonly=True,
        index=True,
    )
    reprint = fields.Boolean(readonly=True, help="Labels already printed are printed again.")
    user_id = fields.Many2one("res.users", string="Printed By", default=lambda self: self.env.user, readonly=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, readonly=True)
    picking_batch_ids = fields.Many2many(
        "stock.picking.batch", string="Picking Batches", readonly=True, help="The picking batches printed."
    )
    line_ids = fields.One2many("logistics.print.batch.line", "batch_id", string="Deliveries", readonly=True)
    problem_line_ids = fields.One2many(
        "logistics.print.batch.line",
        "batch_id",
        string="Not Printed",
        domain=[("state", "in", ("failed", "skipped", "cancelled"))],
        readonly=True,
    )
    part_ids = fields.One2many("logistics.print.batch.part", "batch_id", readonly=True)
    job_ids = fields.One2many("logistics.print.job", "batch_id", string="Print Jobs", readonly=True)
    delivery_count = fields.Integer(string="Deliveries Count", compute="_compute_counts", store=True)
    pending_count = fields.Integer(string="To Prepare", compute="_compute_counts", store=True)
    done_count = fields.Integer(string="Printed", compute="_compute_counts", store=True)
    failed_count = fields.Integer(string="Failed", compute="_compute_counts", store=True)
    skipped_count = fields.Integer(string="Skipped", compute="_compute_counts", store=True)
    progress = fields.Float(compute="_compute_counts", store=True, aggregator="avg")
    job_count = fields.Integer(string="Print Jobs Count", compute="_compute_job_count")
    label_count = fields.Integer(string="Labels", compute="_compute_job_count")
    download_job_id = fields.Many2one("logistics.print.job", compute="_compute_job_count")
    date_done = fields.Datetime(string="Finished At", readonly=True)

    @api.depends("line_ids.state")
    def _compute_counts(self):
        for batch in self:
            states = batch.line_ids.mapped("state")
            batch.delivery_count = len(states)
            batch.pending_count = states.count("pending")
            batch.done_count = states.count("done")
            batch.failed_count = states.count("failed") + states.count("cancelled")
            batch.skipped_count = states.count("skipped")
            processed = len(states) - batch.pending_count
            batch.progress = 100.0 * processed / len(states) if states else 100.0

    @api.depends("job_ids")
    def _compute_job_count(self):
        for batch in self:
            batch.job_count = len(batch.job_ids)
            batch.label_count = sum(batch.job_ids.mapped("label_count"))
            batch.download_job_id = batch.job_ids.filtered(lambda job: not job.printer_id)[:1]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("logistics.print.batch") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------ start

    @api.model
    def _async_threshold(self):
        return self._int_parameter("label_printing.async_threshold", DEFAULT_ASYNC_THRESHOLD)

    @api.model
    def _chunk_size(self):
        return max(1, self._int_parameter("label_printing.batch_chunk_size", DEFAULT_CHUNK_SIZE))

    @api.model
    def _int_parameter(self, key, default):
        value = self.env["ir.config_parameter"].sudo().get_param(key, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            _logger.warning("System parameter %s is not a number (%r): %s is used", key, value, default)
            return default

    @api.model
    def _start(self, pickings, skipped, failures, reprint=False, picking_batches=None):
        """A batch printing ``pickings`` in their order, with the deliveries ``skipped`` (already printed) and
        ``failures`` ({picking: reason}) listed; its chunks are queued at once."""
        chunk_size = self._chunk_size()
        lines = []
        for index, (printer, picking) in enumerate(pickings._label_printer_of_each()):
            lines.append(
                {"sequence": index, "picking_id": picking.id, "printer_id": printer.id, "chunk": index // chunk_size}
            )
        lines += [{"sequence": len(lines), "picking_id": picking.id, "state": "skipped",
                   "reason": self.env._("already printed or queued (use Reprint Labels)")} for picking in skipped]
        lines += [{"sequence": len(lines), "picking_id": picking.id, "state": "failed", "reason": reason}
                  for picking, reason in failures.items()]
        batch = self.create(
            {
                "reprint": reprint,
                "picking_batch_ids": [fields.Command.set((picking_batches or self.env["stock.picking.batch"]).ids)],
                "line_ids": [fields.Command.create(values) for values in lines],
            }
        )
        batch._enqueue_chunks()
        return batch

    def _enqueue_chunks(self):
        """A queue job per chunk that still has deliveries to prepare; a chunk already waiting is not queued
        twice (identity key)."""
        for batch in self:
            chunks = sorted(set(batch.line_ids.filtered(lambda line: line.state == "pending").mapped("chunk")))
            # As the clerk who printed, in their language (the cron resumes batches as the superuser).
            user = batch.user_id if batch.user_id.active else self.env.user
            as_clerk = batch.with_user(user).with_context(lang=user.lang)
            for chunk in chunks:
                as_clerk.with_delay(
                    channel="root.print",
                    priority=BATCH_PRIORITY,
                    description=self.env._("Prepare labels of %(batch)s, part %(chunk)s of %(total)s",
                                           batch=batch.name, chunk=chunk + 1, total=chunks[-1] + 1),
                    identity_key=f"logistics-print-batch-{batch.id}-{chunk}",
                )._run_chunk(chunk)

    # ------------------------------------------------------------------ chunks

    def _run_chunk(self, chunk):
        """Queue job body: issue the chunk's missing waybills and render its labels (one part per printer);
        the last chunk to finish sends the batch to the printers."""
        self.ensure_one()
        # Chunks of one batch run one after the other: the last one sees that nothing is pending.
        self.env.cr.execute("SELECT id FROM logistics_print_batch WHERE id = %s FOR UPDATE", (self.id,))
        self.invalidate_recordset()
        lines = self.line_ids.filtered(lambda line: line.chunk == chunk and line.state == "pending")
        if self.state not in ACTIVE_STATES or not lines:
            return self.state
        self.state = "running"
        try:
            with self.env.cr.savepoint():
                lines._prepare()
        except OperationalError:
            raise  # serialization failures and lock timeouts: queue_job runs the chunk again
        except Exception as error:
            # A bug must not leave the batch waiting forever: its deliveries are listed, the others print.
            _logger.exception("Print batch %s: chunk %s failed", self.name, chunk)
            lines.write({"state": "failed", "reason": self.env._("its label could not be prepared (%s)", error)})
        if not self.line_ids.filtered(lambda line: line.state == "pending"):
            self._finish()
        self._notify_progress()
        return self.state

    def _finish(self):
        """One job per printer, the labels in the order of the batch; the prepared parts are dropped."""
        self.ensure_one()
        for printer, parts in self._parts_by_printer():
            job = self.env["logistics.print.job"]._create_job(
                printer,
                parts.line_ids.sorted("sequence").picking_id,
                label_render.join_jobs(parts[0].data_format, [part._data() for part in parts]),
                parts[0].data_format,
                sum(parts.mapped("label_count")),
                "reprint" if self.reprint else "label",
                batch=self,
            )
            parts.line_ids.job_id = job
            if self.reprint:
                job.picking_ids._log_label_reprint(job)
        self.part_ids.unlink()
        self.write({"state": "done", "date_done": fields.Datetime.now()})

    def _parts_by_printer(self):
        """[(printer, parts in chunk order)], printers in the order their first label comes."""
        groups = {}
        for part in self.part_ids.sorted(lambda part: (part.chunk, part.id)):
            groups[part.printer_id] = groups.get(part.printer_id, part.browse()) | part
        return list(groups.items())

    def _notify_progress(self):
        for batch in self:
            self.env["bus.bus"]._sendone(
                batch.user_id.partner_id,
                BUS_NOTIFICATION,
                {"id": batch.id, "state": batch.state, "progress": batch.progress},
            )

    @api.model
    def _cron_resume_stalled(self):
        """Batches that stopped moving lost a queue job: their pending chunks are queued again."""
        stalled = self.search(
            [("state", "in", ACTIVE_STATES), ("write_date", "<", fields.Datetime.now() - STALLED_AFTER)]
        )
        stalled._enqueue_chunks()
        return stalled

    # ------------------------------------------------------------------ buttons

    def action_cancel(self):
        """Stop: the deliveries not printed yet are left out; labels already sent to a printer stay sent."""
        active = self.filtered(lambda batch: batch.state in ACTIVE_STATES)
        if not active:
            raise UserError(self.env._("Only a batch that is still being prepared can be cancelled."))
        self.env.cr.execute("SELECT id FROM logistics_print_batch WHERE id IN %s FOR UPDATE", (tuple(active.ids),))
        active.invalidate_recordset()
        active = active.filtered(lambda batch: batch.state in ACTIVE_STATES)
        reason = self.env._("cancelled by %s before printing", self.env.user.name)
        active.line_ids.filtered(lambda line: line.state in ("pending", "done")).write(
            {"state": "cancelled", "reason": reason, "part_id": False}
        )
        active.part_ids.unlink()
        active.write({"state": "cancelled", "date_done": fields.Datetime.now()})
        active._notify_progress()
        return True

    def action_print_failed(self):
        """Print the deliveries that failed again (after fixing what their reason says)."""
        self.ensure_one()
        pickings = self.line_ids.filtered(lambda line: line.state in ("failed", "cancelled")).picking_id
        if not pickings:
            raise UserError(self.env._("Every delivery of %s was printed or skipped.", self.name))
        return pickings._print_labels(reprint=self.reprint, picking_batches=self.picking_batch_ids)

    def action_download(self):
        self.ensure_one()
        if not self.download_job_id:
            raise UserError(self.env._("%s has no PDF to download.", self.name))
        return self.download_job_id._download_action()

    def action_view_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("label_printing.action_logistics_print_jobs")
        action.update(domain=[("batch_id", "=", self.id)], context={})
        return action

    def action_view_pickings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_logistics.action_pickings_all")
        action.update(domain=[("id", "in", self.line_ids.picking_id.ids)], context={})
        return action

    def _open_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
        }


class LogisticsPrintBatchLine(models.Model):
    _name = "logistics.print.batch.line"
    _description = "Delivery of a Label Print Batch"
    _order = "batch_id, sequence, id"

    batch_id = fields.Many2one("logistics.print.batch", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(readonly=True)
    picking_id = fields.Many2one("stock.picking", string="Delivery", required=True, ondelete="cascade", index=True)
    waybill_number = fields.Char(related="picking_id.waybill_number")
    carrier_id = fields.Many2one(related="picking_id.carrier_id")
    printer_id = fields.Many2one(
        "logistics.printer", readonly=True, ondelete="set null", help="Empty: the labels download as a PDF."
    )
    chunk = fields.Integer(readonly=True)
    state = fields.Selection(
        [
            ("pending", "To Prepare"),
            ("done", "Printed"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="pending",
        readonly=True,
        index=True,
    )
    reason = fields.Char(readonly=True)
    part_id = fields.Many2one("logistics.print.batch.part", readonly=True, ondelete="set null")
    job_id = fields.Many2one("logistics.print.job", string="Print Job", readonly=True, ondelete="set null")

    def _prepare(self):
        """Issue the missing waybills of these deliveries and render their labels into a part per printer."""
        batch = self.batch_id
        lines = self.sorted("sequence")
        pickings = lines.picking_id
        self.env.cr.execute("SELECT id FROM stock_picking WHERE id IN %s FOR UPDATE", (tuple(pickings.ids),))
        failures = {}
        printable = pickings._label_printable(failures)
        failures.update(printable._logistics_issue_waybills())
        with_waybill = printable.filtered("waybill_number")
        printers = []  # in the order of their first delivery; an empty one is the PDF download
        for line in lines:
            if line.printer_id not in printers:
                printers.append(line.printer_id)
        for printer in printers:
            group = lines.filtered(lambda line, printer=printer: line.printer_id == printer).picking_id.filtered(
                lambda picking: picking in with_waybill
            )
            printed, data, data_format, label_count = group._render_labels(printer, failures)
            if printed:
                part = self.env["logistics.print.batch.part"].create(
                    {
                        "batch_id": batch.id,
                        "chunk": lines[0].chunk,
                        "printer_id": printer.id,
                        "data_format": data_format,
                        "label_count": label_count,
                    }
                )
                part._store(data)
                lines.filtered(lambda line, printed=printed: line.picking_id in printed).write(
                    {"state": "done", "part_id": part.id}
                )
        for line in lines.filtered(lambda line: line.state == "pending"):
            reason = failures.get(line.picking_id) or self.env._("no waybill number")
            line.write({"state": "failed", "reason": reason})


class LogisticsPrintBatchPart(models.Model):
    """The labels of one chunk for one printer, kept until the whole batch is sent."""

    _name = "logistics.print.batch.part"
    _description = "Prepared Labels of a Print Batch"
    _order = "batch_id, chunk, id"

    batch_id = fields.Many2one("logistics.print.batch", required=True, ondelete="cascade", index=True)
    chunk = fields.Integer(required=True)
    printer_id = fields.Many2one("logistics.printer", ondelete="restrict")
    data_format = fields.Selection(
        [("escpos", "ESC/POS"), ("tspl", "TSPL"), ("zpl", "ZPL"), ("pdf", "PDF")], required=True
    )
    label_count = fields.Integer()
    attachment_id = fields.Many2one("ir.attachment", ondelete="set null")
    line_ids = fields.One2many("logistics.print.batch.line", "part_id")

    def _store(self, data):
        # Linked by res_model/res_id: deleting the part deletes its file.
        self.attachment_id = self.env["ir.attachment"].create(
            {"name": f"{self.batch_id.name.replace('/', '-')}-{self.chunk}.part", "raw": data,
             "res_model": self._name, "res_id": self.id}
        )

    def _data(self):
        return self.attachment_id.raw
