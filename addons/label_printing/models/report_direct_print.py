from collections import defaultdict

from odoo import api, fields, models


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    logistics_direct_print = fields.Boolean(
        string="Print Straight to the Printer",
        help="Printing this report from the Logistics app sends it to the warehouse's document printer (a printer "
        "with the PDF language) instead of downloading it; without such a printer it is downloaded.",
    )

    def _get_readable_fields(self):
        return super()._get_readable_fields() | {"logistics_direct_print"}

    @api.model
    def logistics_direct_print_report(self, report_ref, docids):
        """Render the report and queue it for the document printer of the deliveries' warehouse.
        Returns ``{"printed": True, "message"}``, or ``{"printed": False}`` for the browser to download it."""
        report = self._get_report(report_ref)
        if not report.logistics_direct_print or report.model != "stock.picking":
            return {"printed": False}
        pickings = self.env["stock.picking"].browse(docids).exists()
        warehouse = pickings.picking_type_id.warehouse_id[:1]
        printer = self.env["logistics.printer"]._default_document_printer(warehouse)
        if not (pickings and printer):
            return {"printed": False}
        pdf, _type = self._render_qweb_pdf(report.report_name, pickings.ids)
        job = self.env["logistics.print.job"]._create_job(printer, pickings, pdf, "pdf", len(pickings), kind="document")
        return {
            "printed": True,
            "message": self.env._(
                "%(report)s sent to %(printer)s (print job %(job)s).",
                report=report.name,
                printer=printer.display_name,
                job=job.name,
            ),
        }


class LogisticsPrinter(models.Model):
    _inherit = "logistics.printer"

    @api.model
    def _default_document_printer(self, warehouse, user=None):
        """Packing slips and pick lists go to a PDF printer: the user's, else the warehouse's."""
        user = user or self.env.user
        printers = self.search([("company_id", "in", self.env.companies.ids), ("language", "=", "pdf")])
        own = printers.filtered(lambda printer: user in printer.user_ids)
        return (
            own.filtered(lambda printer: printer.warehouse_id == warehouse)[:1]
            or own[:1]
            or printers.filtered(lambda printer: warehouse and printer.warehouse_id == warehouse)[:1]
        )


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _pick_list_lines(self):
        """What to pick for these deliveries, one line per location and product, in walking order."""
        quantities = defaultdict(float)
        deliveries = defaultdict(set)
        for move in self.move_ids.filtered(lambda m: m.state != "cancel"):
            lines = move.move_line_ids
            sources = [(line.location_id, line.quantity) for line in lines] or [(move.location_id, move.product_uom_qty)]
            for location, quantity in sources:
                key = (location, move.product_id)
                quantities[key] += quantity
                deliveries[key].add(move.picking_id.name)
        rows = [
            {
                "location": location.complete_name,
                "product": product.display_name,
                "code": product.default_code or "",
                "quantity": quantities[(location, product)],
                "deliveries": ", ".join(sorted(deliveries[(location, product)])),
            }
            for location, product in quantities
        ]
        return sorted(rows, key=lambda row: (row["location"], row["product"]))
