from odoo import api, models

from .stock_picking import PRINTED_OR_LATER

READY = ("confirmed", "waiting", "assigned")


class StockPicking(models.Model):
    _inherit = "stock.picking"

    @api.model
    def label_scan(self, code, reprint=False):
        """Scan-to-print: find the delivery of a scanned order, platform order, waybill or product barcode, issue
        its waybill if needed and print its label. Returns what the scanning screen shows and plays:
        ``{"status": printed|not_found|on_hold|already_printed|failed, "message", "picking", "action"}``."""
        code = (code or "").strip()
        if not code:
            return self._scan_answer("not_found", self.env._("Nothing was scanned."))
        picking = self._scan_find(code)
        if not picking:
            return self._scan_answer("not_found", self.env._("No delivery to print for “%s”.", code))
        order = picking.sale_id
        if order.audit_state == "on_hold":
            return self._scan_answer(
                "on_hold", self.env._("%(order)s is on hold: %(reason)s", order=order.name, reason=order.hold_summary),
                picking,
            )
        if not reprint and picking._labels_already_printed():
            return self._scan_answer(
                "already_printed",
                self.env._("The label of %s was already printed. Scan again with Reprint on to print it again.",
                           picking.name),
                picking,
            )
        return picking._scan_print(reprint)

    @api.model
    def _scan_find(self, code):
        domain = [("picking_type_code", "=", "outgoing"), ("state", "!=", "cancel")]
        by_number = self.search(
            domain
            + [
                "|", "|", "|",
                ("waybill_number", "=", code),
                ("name", "=", code),
                ("sale_id.name", "=", code),
                ("sale_id.platform_order_id", "=", code),
            ],
            order="id desc",
        )
        open_first = by_number.filtered(lambda p: p.state in READY) or by_number
        if open_first:
            return open_first[:1]
        return self._scan_find_by_product(code)

    @api.model
    def _scan_find_by_product(self, code):
        """One-item parcels are packed by scanning the item: the oldest unprinted delivery of that product."""
        product = self.env["product.product"].search(["|", ("barcode", "=", code), ("default_code", "=", code)], limit=1)
        if not product:
            return self.browse()
        candidates = self.search(
            [
                ("picking_type_code", "=", "outgoing"),
                ("state", "in", READY),
                ("product_id", "=", product.id),
                ("logistics_state", "not in", PRINTED_OR_LATER),
            ],
            order="scheduled_date, id",
            limit=50,
        )
        candidates -= candidates._labels_already_printed()
        single_item = candidates.filtered(lambda p: len(p.move_ids) == 1 and p.move_ids.product_uom_qty == 1)
        return (single_item or candidates)[:1]

    def _scan_print(self, reprint):
        self.ensure_one()
        jobs_before = self.print_job_ids
        result = self._print_labels(reprint=reprint)
        job = (self.print_job_ids - jobs_before)[:1]
        printed = bool(job) and job.state in ("queued", "sent") and self.waybill_number
        if not printed:
            message = (result.get("params") or {}).get("message") or self.env._("The label could not be printed.")
            return self._scan_answer("failed", message, self)
        action = result if result.get("type") == "ir.actions.act_url" else False
        return self._scan_answer(
            "printed",
            self.env._("%(picking)s · %(waybill)s sent to %(printer)s.", picking=self.name, waybill=self.waybill_number,
                       printer=job.printer_id.display_name or self.env._("a PDF download")),
            self,
            action,
        )

    @api.model
    def _scan_answer(self, status, message, picking=None, action=False):
        return {
            "status": status,
            "message": message,
            "picking": picking and {"id": picking.id, "name": picking.name, "waybill": picking.waybill_number or ""},
            "action": action,
        }
