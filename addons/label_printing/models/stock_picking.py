import logging
from dataclasses import replace

from psycopg2.errors import LockNotAvailable

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.shop_logistics import logistics_state as ls

from .. import label_render
from .logistics_print_job import LABEL_KINDS

_logger = logging.getLogger(__name__)

PRINTED_OR_LATER = (ls.PRINTED, ls.HANDED_OVER, ls.IN_TRANSIT, ls.OUT_FOR_DELIVERY, ls.DELIVERED, ls.RETURNED)
DOWNLOAD_LAYOUT = "100x150"


class StockPicking(models.Model):
    _inherit = "stock.picking"

    print_job_ids = fields.Many2many(
        "logistics.print.job",
        "logistics_print_job_stock_picking_rel",
        "picking_id",
        "job_id",
        string="Print Jobs",
        readonly=True,
        copy=False,
    )

    # ------------------------------------------------------------------ label content

    def _label_data(self):
        """The label of this delivery's waybill, as label_render prints it."""
        self.ensure_one()
        routing = self._label_routing()
        account = self.carrier_account_id
        return label_render.LabelData(
            waybill=self.waybill_number,
            express_code=account.express_code or "",
            express_name=(account.carrier_id or self.carrier_id).name or "",
            mark_destination=routing.get("mark_destination") or "",
            sorting_code=routing.get("sorting_code") or "",
            package_name=routing.get("package_name") or "",
            sender=self._label_sender(),
            receiver=self._label_party(self._logistics_receiver()),
            goods_summary=self._label_goods_summary(),
            remark=self.sale_id.buyer_remark or "",
            order_ref=self.platform_order_id or self.sale_id.name or self.origin or "",
            printed_at=fields.Datetime.context_timestamp(self, fields.Datetime.now()).replace(tzinfo=None),
        )

    def _labels(self):
        """One label, or one per parcel of a multi-parcel waybill (子母件: the main number, then the others)."""
        self.ensure_one()
        label = self._label_data()
        if self.shop_id.label_privacy:
            label = label_render.mask_receiver(label)
        sub_waybills = self._label_routing().get("sub_waybills") or []
        if not sub_waybills:
            return [label]
        numbers = [self.waybill_number, *sub_waybills]
        return [
            replace(label, waybill=number, qr_payload=number, sub_waybill_index=index, sub_waybill_count=len(numbers))
            for index, number in enumerate(numbers, start=1)
        ]

    def _label_sources(self):
        """What prints for this delivery: the carrier's own print template when its shipping method asks for it
        and the carrier returned one, else our labels."""
        self.ensure_one()
        template = self._carrier_label_template()
        if template:
            return [label_render.TemplateLabel(template, self.waybill_number or "")]
        return self._labels()

    def _carrier_label_template(self):
        """The label HTML the carrier returned with the waybill (KDNiao's PrintTemplate), if it is to be used.
        Not for privacy shops (the carrier's page shows the receiver's name) nor for multi-parcel waybills
        (the page covers the first parcel only)."""
        self.ensure_one()
        carrier = self.carrier_id or self.carrier_account_id.carrier_id
        attachment = self.label_attachment_id
        if not (carrier.label_use_carrier_template and attachment.mimetype == "text/html"):
            return ""
        if self.shop_id.label_privacy or self._label_routing().get("sub_waybills"):
            return ""
        return (attachment.raw or b"").decode("utf-8", errors="replace").strip()

    def _label_party(self, partner, name=None):
        province, city = partner.state_id.name or "", partner.city or ""
        address = " ".join(filter(None, (partner.street, partner.street2)))
        for prefix in (province, city):  # streets often repeat them: 广东省深圳市南山区…
            if prefix and address.startswith(prefix):
                address = address[len(prefix) :]
        return {
            "name": name or partner.name or "",
            "phone": partner.mobile or partner.phone or "",
            "province": province,
            "city": city,
            "district": "",
            "address": address.strip(),
        }

    def _label_sender(self):
        partner = self.picking_type_id.warehouse_id.partner_id or self.company_id.partner_id
        return self._label_party(partner, name=self.shop_id.name or self.company_id.name)

    def _label_goods_summary(self):
        moves = self.move_ids.filtered(lambda move: move.state != "cancel")
        return "，".join(f"{move.product_id.name} ×{move.product_uom_qty:g}" for move in moves)

    # ------------------------------------------------------------------ printing

    def action_print_labels(self):
        """Print the labels of the selected deliveries: missing waybills are issued first, labels already printed
        are skipped (unless the context asks for ``label_reprint``), the rest go to the printer in one job per
        printer, ordered by carrier and location; without a printer they come back as a PDF download. Large
        selections are prepared in the background, in a print batch that shows the progress."""
        return self._print_labels(reprint=self.env.context.get("label_reprint", False))

    def action_reprint_labels(self):
        return self._print_labels(reprint=True)

    def _print_labels(self, reprint=False, picking_batches=None):
        self._lock_for_printing()
        failures = {}
        pickings = self._label_printable(failures)
        skipped = self.browse() if reprint else pickings._labels_already_printed()
        pickings = (pickings - skipped)._sorted_for_labels()
        print_batches = self.env["logistics.print.batch"]
        if len(pickings) > print_batches._async_threshold():
            return print_batches._start(pickings, skipped, failures, reprint, picking_batches)._open_action()
        failures.update(pickings._logistics_issue_waybills())
        pickings = pickings.filtered("waybill_number")
        jobs = self.env["logistics.print.job"]
        for printer, group in pickings._group_by_label_printer():
            jobs |= group._create_label_job(printer, "reprint" if reprint else "label", failures)
        if reprint:
            for job in jobs:
                job.picking_ids._log_label_reprint(job)
        return self._print_result(jobs, skipped, failures)

    def _lock_for_printing(self):
        """Two people printing the same deliveries at once would print them twice: the second is told to retry."""
        if not self:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM stock_picking WHERE id IN %s FOR UPDATE NOWAIT", (tuple(self.ids),))
        except LockNotAvailable as error:
            raise UserError(
                self.env._("Some of these deliveries are being printed or changed right now; try again in a moment.")
            ) from error

    def _label_printable(self, failures):
        not_shippable = self.filtered(lambda p: p.picking_type_code != "outgoing" or p.state in ("cancel", "draft"))
        for picking in not_shippable:
            failures[picking] = self.env._("not a delivery ready to ship")
        return self - not_shippable

    def _labels_already_printed(self):
        """Deliveries whose label was printed, or is waiting in the print queue or in a print batch."""
        jobs = self.env["logistics.print.job"].search(
            [("picking_ids", "in", self.ids), ("state", "in", ("queued", "sent")), ("kind", "in", LABEL_KINDS)]
        )
        in_batch = self.env["logistics.print.batch.line"].search(
            [("picking_id", "in", self.ids), ("state", "in", ("pending", "done")), ("job_id", "=", False),
             ("batch_id.state", "in", ("queued", "running"))]
        )
        printed = self.filtered(lambda p: p.logistics_state in PRINTED_OR_LATER)
        return printed | (jobs.picking_ids & self) | (in_batch.picking_id & self)

    def _sorted_for_labels(self):
        """By carrier, then by the location the goods are picked from, then by delivery."""

        def key(picking):
            locations = picking.move_line_ids.location_id or picking.location_id
            carrier = picking.carrier_account_id.express_code or picking.carrier_id.name or ""
            return (carrier, min(locations.mapped("complete_name") or [""]), picking.name)

        return self.browse([picking.id for picking in sorted(self, key=key)])

    def _label_printer(self, warehouse):
        printer_id = self.env.context.get("label_printer_id")
        if printer_id:
            return self.env["logistics.printer"].browse(printer_id)
        return self.env["logistics.printer"]._default_for(warehouse)

    def _label_printer_of_each(self):
        """[(printer, picking)] in the order of ``self``; no printer means a PDF download."""
        printer_of_warehouse, result = {}, []
        for picking in self:
            warehouse = picking.picking_type_id.warehouse_id
            if warehouse not in printer_of_warehouse:
                printer_of_warehouse[warehouse] = self._label_printer(warehouse)
            result.append((printer_of_warehouse[warehouse], picking))
        return result

    def _group_by_label_printer(self):
        """[(printer, pickings)] in the order of ``self``; no printer means a PDF download."""
        groups = {}
        for printer, picking in self._label_printer_of_each():
            groups[printer] = groups.get(printer, self.browse()) | picking
        return list(groups.items())

    def _create_label_job(self, printer, kind, failures):
        """Render these deliveries' labels into one job; deliveries whose label cannot be made go to ``failures``."""
        printed, data, data_format, label_count = self._render_labels(printer, failures)
        if not printed:
            return self.env["logistics.print.job"]
        return self.env["logistics.print.job"]._create_job(printer, printed, data, data_format, label_count, kind)

    def _render_labels(self, printer, failures, carrier_templates=True):
        """``(deliveries printed, job bytes, format, label count)`` of these deliveries' labels for ``printer``
        (none: a PDF download), in their order; deliveries whose label cannot be made go to ``failures``. When
        the carriers' print templates cannot be printed, our own layout is used for every label."""
        labels, printed = [], self.browse()
        for picking in self:
            try:
                labels += picking._label_sources() if carrier_templates else picking._labels()
                printed |= picking
            except ValueError as error:
                _logger.info("No label for %s: %s", picking.display_name, error)
                failures[picking] = self.env._("its label cannot be made (%s)", error)
        if not labels:
            return printed, b"", False, 0
        data_format = printer.language if printer else "pdf"
        layout = printer._layout() if printer else DOWNLOAD_LAYOUT
        dpi = int(printer.dpi) if printer else 203
        try:
            data = label_render.render_batch(labels, data_format, layout, dpi=dpi)
        except label_render.TemplateRenderError as error:
            _logger.warning("Carrier print templates not printable, our layout is used instead: %s", error)
            return printed._render_labels(printer, failures, carrier_templates=False)
        return printed, data, data_format, len(labels)

    def _log_label_reprint(self, job):
        where = job.printer_id.display_name or self.env._("a PDF download")
        for picking in self:
            picking.message_post(
                body=self.env._(
                    "Label reprinted by %(user)s on %(printer)s (print job %(job)s).",
                    user=self.env.user.name,
                    printer=where,
                    job=job.name,
                )
            )

    def _print_result(self, jobs, skipped, failures):
        """A notification of what was sent, skipped and not printed; a lone download is returned as such."""
        download = jobs.filtered(lambda job: not job.printer_id)[:1]
        if download and not (failures or skipped or jobs - download):
            return download._download_action()
        lines = [
            self.env._(
                "%(job)s: %(count)s label(s) for %(printer)s.",
                job=job.name,
                count=job.label_count,
                printer=job.printer_id.display_name or self.env._("PDF download"),
            )
            for job in jobs
        ]
        if skipped:
            lines.append(
                self.env._(
                    "Skipped, already printed or queued (use Reprint Labels): %s", ", ".join(skipped.mapped("name"))
                )
            )
        if failures:
            lines.append(self.env._("Not printed:"))
            lines += [f"{picking.name}: {message}" for picking, message in failures.items()]
        title = self.env._("Labels printed") if jobs else self.env._("No label printed")
        next_action = download._download_action() if download else None
        return jobs._notification(title, "\n".join(lines), warning=bool(failures or not jobs), next_action=next_action)
