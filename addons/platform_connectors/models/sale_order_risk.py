"""The platform's risk flags of an order (risk control, on hold, partially shipped, unknown status …), kept on the
order so that the audit's risk rule can hold it."""

from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    platform_risk_flags = fields.Char(
        string="Platform Risk Flags",
        copy=False,
        readonly=True,
        help="The risk codes the platform gave the order (risk_control, on_hold …), separated by commas; the audit's "
        "Platform Risk Flags rule holds orders that carry them.",
    )

    def _platform_update_values(self, canonical):
        values = super()._platform_update_values(canonical)
        values["platform_risk_flags"] = ",".join(dict.fromkeys(canonical.risk_flags or ())) or False
        return values

    def _logistics_risk_flags(self):
        flags = (self.platform_risk_flags or "").split(",")
        return super()._logistics_risk_flags() | frozenset(flag.strip() for flag in flags if flag.strip())
