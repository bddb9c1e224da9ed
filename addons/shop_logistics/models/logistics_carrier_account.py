from odoo import fields, models


class LogisticsCarrierAccount(models.Model):
    _name = "logistics.carrier.account"
    _description = "Carrier Account"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    carrier_id = fields.Many2one(
        "delivery.carrier", string="Shipping Method", required=True, ondelete="cascade", check_company=True
    )
    express_code = fields.Char(
        string="Express Company Code", required=True, help="Code of the express company, e.g. SF, ZTO, YTO, YD, JD."
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Warehouses",
        check_company=True,
        help="Warehouses that ship with this account; empty means all.",
    )
