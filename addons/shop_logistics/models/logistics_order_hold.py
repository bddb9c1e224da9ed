from odoo import fields, models

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
    detail = fields.Char(help="What exactly is wrong, for the clerk who releases the order.")
    resolved = fields.Boolean(default=False, index=True)
    resolved_by_id = fields.Many2one("res.users", string="Resolved By", readonly=True)
    resolved_at = fields.Datetime(string="Resolved At", readonly=True)

    def _compute_display_name(self):
        labels = dict(self._fields["reason"]._description_selection(self.env))
        for hold in self:
            label = labels.get(hold.reason, hold.reason)
            hold.display_name = f"{label}: {hold.detail}" if hold.detail else label

    def _resolve(self):
        self.filtered(lambda hold: not hold.resolved).write(
            {"resolved": True, "resolved_by_id": self.env.uid, "resolved_at": fields.Datetime.now()}
        )
