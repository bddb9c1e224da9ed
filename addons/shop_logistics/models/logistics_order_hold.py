from odoo import api, fields, models

from .. import lazy_text

HOLD_REASONS = [
    ("address", "Address Incomplete"),
    ("phone", "Invalid Phone"),
    ("duplicate", "Possible Duplicate"),
    ("stock", "Insufficient Stock"),
    ("threshold", "Above Threshold"),
    ("blacklist", "Blacklisted"),
    ("remark", "Remark Needs Review"),
    ("risk", "Platform Risk Flag"),
    ("sku", "Unmapped SKU"),
    ("platform_cancel", "Cancelled or Refunded on Platform"),
    ("manual", "Held by Hand"),
]


class LogisticsOrderHold(models.Model):
    _name = "logistics.order.hold"
    _description = "Order Hold Reason"
    _order = "create_date desc, id desc"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    reason = fields.Selection(HOLD_REASONS, required=True)
    detail = fields.Char(
        compute="_compute_detail",
        inverse="_inverse_detail",
        help="What exactly is wrong, for the clerk who releases the order.",
    )
    # The detail as written (a plain text, or a message translated for each reader): see lazy_text.
    detail_data = fields.Json(string="Detail as Written", copy=False)
    resolved = fields.Boolean(default=False, index=True)
    resolved_by_id = fields.Many2one("res.users", string="Resolved By", readonly=True)
    resolved_at = fields.Datetime(string="Resolved At", readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "detail" in vals:
                vals["detail_data"] = lazy_text.encode(vals.pop("detail"))
        return super().create(vals_list)

    @api.depends("detail_data")
    @api.depends_context("lang")
    def _compute_detail(self):
        lang = self.env.lang or "en_US"
        for hold in self:
            hold.detail = lazy_text.render(hold.detail_data, lang) or False

    def _inverse_detail(self):
        for hold in self:
            hold.detail_data = lazy_text.encode(hold.detail)

    @api.depends("reason", "detail_data")
    @api.depends_context("lang")
    def _compute_display_name(self):
        labels = dict(self._fields["reason"]._description_selection(self.env))
        for hold in self:
            label = labels.get(hold.reason, hold.reason)
            hold.display_name = f"{label}: {hold.detail}" if hold.detail else label

    def _resolve(self):
        self.filtered(lambda hold: not hold.resolved).write(
            {"resolved": True, "resolved_by_id": self.env.uid, "resolved_at": fields.Datetime.now()}
        )
