from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import printer_transport

# label_render has these layouts; an A4 printer gets the 100 × 150 label on its page.
LAYOUT_OF_PAPER = {"76x130": "76x130", "100x150": "100x150", "100x180": "100x180", "a4": "100x150"}


class LogisticsPrinter(models.Model):
    _name = "logistics.printer"
    _description = "Label Printer"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    connection = fields.Selection(
        [("network", "Network (raw TCP)"), ("usb", "USB"), ("cups", "CUPS Queue")],
        required=True,
        default="network",
    )
    host = fields.Char(help="IP address or host name of a network printer.")
    port = fields.Integer(default=9100, help="Raw printing port, 9100 on nearly every network printer.")
    usb_vendor_id = fields.Char(string="USB Vendor ID", help="Hexadecimal, e.g. 0x0fe6.")
    usb_product_id = fields.Char(string="USB Product ID", help="Hexadecimal, e.g. 0x811e.")
    cups_queue = fields.Char(string="CUPS Queue")
    language = fields.Selection(
        [("escpos", "ESC/POS"), ("tspl", "TSPL"), ("zpl", "ZPL"), ("pdf", "PDF")],
        string="Command Language",
        required=True,
        default="tspl",
    )
    dpi = fields.Selection([("203", "203 dpi"), ("300", "300 dpi")], string="Resolution", default="203", required=True)
    paper_size = fields.Selection(
        [("76x130", "76 × 130 mm"), ("100x150", "100 × 150 mm"), ("100x180", "100 × 180 mm"), ("a4", "A4")],
        required=True,
        default="100x150",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", check_company=True, help="Default printer of this warehouse's packing stations."
    )
    user_ids = fields.Many2many("res.users", string="Default For Users")
    online_state = fields.Selection(
        [("unknown", "Not Checked"), ("online", "Online"), ("offline", "Offline")],
        string="Status",
        default="unknown",
        readonly=True,
        copy=False,
    )
    last_check_date = fields.Datetime(string="Last Checked", readonly=True, copy=False)
    last_check_message = fields.Char(string="Last Problem", readonly=True, copy=False)

    @api.constrains("connection", "host", "port", "cups_queue", "usb_vendor_id", "usb_product_id")
    def _check_connection(self):
        for printer in self:
            if printer.connection == "network" and not (printer.host and 0 < printer.port < 65536):
                raise ValidationError(self.env._("A network printer needs a host and a port between 1 and 65535."))
            if printer.connection == "cups" and not printer.cups_queue:
                raise ValidationError(self.env._("A CUPS printer needs the name of its queue."))
            if printer.connection == "usb" and not (printer.usb_vendor_id and printer.usb_product_id):
                raise ValidationError(self.env._("A USB printer needs its vendor and product IDs."))

    # ------------------------------------------------------------------ defaults

    @api.model
    def _default_for(self, warehouse, user=None):
        """The printer for labels of ``warehouse`` printed by ``user``: the user's own printer (the one of that
        warehouse first), else the warehouse's printer; an empty recordset when none is set."""
        user = user or self.env.user
        printers = self.search([("company_id", "in", self.env.companies.ids)])
        own = printers.filtered(lambda printer: user in printer.user_ids)
        return (
            own.filtered(lambda printer: printer.warehouse_id == warehouse)[:1]
            or own[:1]
            or printers.filtered(lambda printer: warehouse and printer.warehouse_id == warehouse)[:1]
        )

    # ------------------------------------------------------------------ transport

    def _layout(self):
        return LAYOUT_OF_PAPER[self.paper_size]

    def _transport_address(self):
        self.ensure_one()
        return printer_transport.PrinterAddress(
            connection=self.connection,
            host=self.host or "",
            port=self.port or 0,
            cups_queue=self.cups_queue or "",
            usb_vendor_id=self.usb_vendor_id or "",
            usb_product_id=self.usb_product_id or "",
        )

    def _send_bytes(self, data):
        """Send one job; raises printer_transport.PrinterError, and keeps the printer's status up to date."""
        self.ensure_one()
        try:
            printer_transport.send(self._transport_address(), data)
        except printer_transport.PrinterError as error:
            self._record_status(error)
            raise
        if self.online_state != "online":
            self._record_status(None)

    def _record_status(self, error):
        values = {"last_check_date": fields.Datetime.now(), "online_state": "online", "last_check_message": False}
        if error:
            values.update(online_state="offline", last_check_message=self._error_message(error))
        # Clerks print and check printers without the right to configure them.
        self.sudo().write(values)

    def _error_message(self, error):
        """A translated sentence for a clerk, naming the printer."""
        reasons = {
            "unreachable": self.env._("does not answer (switched off, unplugged or not on the network)"),
            "refused": self.env._("refused the connection (switched off, busy or wrong port)"),
            "timeout": self.env._("did not answer in time"),
            "interrupted": self.env._("lost the connection while printing; some labels may have printed"),
            "unknown_host": self.env._("has a host name that the Odoo server does not know"),
            "cups_missing": self.env._("is a CUPS queue, but CUPS is not installed on the Odoo server"),
            "cups_refused": self.env._("was refused the job by CUPS"),
            "cups_disabled": self.env._("is a CUPS queue that is stopped or does not accept jobs"),
            "cups_unknown_queue": self.env._("is a CUPS queue that does not exist on the Odoo server"),
            "usb_unavailable": self.env._("is on USB, but USB printing is not installed on the Odoo server"),
            "usb_bad_id": self.env._("has USB vendor or product IDs that are not hexadecimal numbers (e.g. 0x0fe6)"),
            "usb_not_found": self.env._("is not connected by USB to the Odoo server, or may not be used by it"),
            "usb_error": self.env._("reported a USB error"),
            "bad_configuration": self.env._("has incomplete connection settings"),
        }
        message = self.env._(
            "Printer %(printer)s %(reason)s.", printer=self.display_name, reason=reasons.get(error.reason, str(error))
        )
        return f"{message} ({error.detail})" if error.detail else message

    def action_check_online(self):
        for printer in self:
            try:
                printer_transport.check_online(printer._transport_address())
            except printer_transport.PrinterError as error:
                printer._record_status(error)
            else:
                printer._record_status(None)
        offline = self.filtered(lambda printer: printer.online_state == "offline")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Printer offline") if offline else self.env._("Printer online"),
                "message": "\n".join(offline.mapped("last_check_message"))
                or self.env._("%s can print.", ", ".join(self.mapped("display_name"))),
                "type": "warning" if offline else "success",
                "sticky": bool(offline),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }


class LogisticsShop(models.Model):
    _inherit = "logistics.shop"

    label_privacy = fields.Boolean(
        string="Privacy Labels (隐私面单)",
        help="Print this shop's labels with the receiver's name, phone and house number partly hidden, as most "
        "platforms require for their orders.",
    )
