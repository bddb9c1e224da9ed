from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import kdniao_request


class KdniaoRecognizeWizard(models.TransientModel):
    _name = "kdniao.recognize.wizard"
    _description = "Recognise a Waybill Number"

    waybill_number = fields.Char(required=True)
    picking_id = fields.Many2one("stock.picking", string="Delivery", domain=[("picking_type_code", "=", "outgoing")])
    kdniao_account_id = fields.Many2one(
        "kdniao.account", string="KDNiao Account", required=True, default=lambda self: self._default_account()
    )
    candidate_ids = fields.One2many("kdniao.recognize.candidate", "wizard_id", string="Candidates")

    @api.model
    def _default_account(self):
        return self.env["kdniao.account"].search([("company_id", "in", self.env.companies.ids)], limit=1)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "stock.picking" and self.env.context.get("active_id"):
            values.setdefault("picking_id", self.env.context["active_id"])
        return values

    def action_recognise(self):
        self.ensure_one()
        waybill = self.waybill_number.strip()
        try:
            shippers = self.kdniao_account_id._client().recognise(waybill)
        except kdniao_request.KdniaoError as error:
            raise UserError(self.env["stock.picking"]._kdniao_error_message(error)) from error
        if not shippers:
            raise UserError(self.env._("KDNiao does not recognise waybill number %s.", waybill))
        accounts = self.env["logistics.carrier.account"].search(
            [("kdniao_account_id", "=", self.kdniao_account_id.id), ("express_code", "in", [s["code"] for s in shippers])]
        )
        self.candidate_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {
                    "sequence": index,
                    "express_code": shipper["code"],
                    "express_name": shipper["name"],
                    "carrier_account_id": accounts.filtered(lambda a, code=shipper["code"]: a.express_code == code)[:1].id,
                }
            )
            for index, shipper in enumerate(shippers)
        ]
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Recognise Waybill"),
        }


class KdniaoRecognizeCandidate(models.TransientModel):
    _name = "kdniao.recognize.candidate"
    _description = "Waybill Number Candidate Company"
    _order = "sequence"

    wizard_id = fields.Many2one("kdniao.recognize.wizard", required=True, ondelete="cascade")
    sequence = fields.Integer()
    express_code = fields.Char(string="Express Company Code", readonly=True)
    express_name = fields.Char(string="Express Company", readonly=True)
    carrier_account_id = fields.Many2one("logistics.carrier.account", string="Carrier Account")

    def action_link(self):
        """Attach the waybill to the delivery as shipped outside Odoo with this company, and follow its tracks."""
        self.ensure_one()
        picking = self.wizard_id.picking_id
        if not picking:
            raise UserError(self.env._("Choose the delivery this waybill belongs to."))
        if not self.carrier_account_id:
            raise UserError(
                self.env._("There is no carrier account for %s; create one to follow its tracks.", self.express_name)
            )
        picking._kdniao_link_waybill(self.wizard_id.waybill_number.strip(), self.carrier_account_id)
        return {"type": "ir.actions.act_window_close"}
