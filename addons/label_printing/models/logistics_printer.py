from odoo import api, fields, models
from odoo.exceptions import ValidationError


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

    @api.constrains("connection", "host", "port", "cups_queue", "usb_vendor_id", "usb_product_id")
    def _check_connection(self):
        for printer in self:
            if printer.connection == "network" and not (printer.host and 0 < printer.port < 65536):
                raise ValidationError(self.env._("A network printer needs a host and a port between 1 and 65535."))
            if printer.connection == "cups" and not printer.cups_queue:
                raise ValidationError(self.env._("A CUPS printer needs the name of its queue."))
            if printer.connection == "usb" and not (printer.usb_vendor_id and printer.usb_product_id):
                raise ValidationError(self.env._("A USB printer needs its vendor and product IDs."))
