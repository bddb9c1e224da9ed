from odoo import api, fields, models

from odoo.addons.shop_logistics.models.logistics_shop import PLATFORMS

# Tmall sells through Taobao's open platform and shares its carrier codes.
CODE_TABLE_OF = {"tmall": "taobao"}


class LogisticsPlatformCarrier(models.Model):
    """Which code a platform expects for one of our carriers when the waybill goes back to the shop."""

    _name = "logistics.platform.carrier"
    _description = "Platform Carrier Code"
    _order = "platform, express_code"
    _rec_name = "platform_code"

    platform = fields.Selection(
        [item for item in PLATFORMS if item[0] not in CODE_TABLE_OF and item[0] != "manual"], required=True
    )
    express_code = fields.Char(
        string="Carrier Code",
        required=True,
        help="The carrier's code on our carrier accounts (the KDNiao ShipperCode, e.g. SF, ZTO, YTO, YD, JD).",
    )
    platform_code = fields.Char(
        required=True,
        help="What the platform calls this carrier in its ship call: Taobao company_code, Pinduoduo logistics_id, "
        "Douyin company_code, JD logiCoprId, Kuaishou expressCode, Youzan out_stype, Shopify/WooCommerce "
        "tracking company name.",
    )
    platform_name = fields.Char(string="Name on Platform")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "platform_express_code_unique",
            "unique(platform, express_code)",
            "A carrier has only one code per platform.",
        ),
    ]

    @api.model
    def _code_for(self, platform, express_code):
        """The platform's code for our carrier ``express_code``, or False when the table has none."""
        if not (platform and express_code):
            return False
        row = self.search(
            [("platform", "=", CODE_TABLE_OF.get(platform, platform)), ("express_code", "=ilike", express_code)],
            limit=1,
        )
        return row.platform_code or False
