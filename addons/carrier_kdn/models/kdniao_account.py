from odoo import fields, models

from .. import kdniao_request

MANAGER = "shop_logistics.group_logistics_manager"


class KdniaoAccount(models.Model):
    _name = "kdniao.account"
    _description = "KDNiao API Account"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    ebusiness_id = fields.Char(string="EBusinessID", required=True, help="The user ID KDNiao gives your account.")
    api_key = fields.Char(string="API Key", groups=MANAGER, copy=False)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")], required=True, default="sandbox"
    )
    api_url = fields.Char(
        string="Endpoint Override",
        help="Leave empty to use KDNiao's endpoint of the chosen environment; set it to reach a simulator.",
    )
    paid_tracking = fields.Boolean(
        string="In-transit Monitoring (增值版)",
        default=True,
        help="Use the paid tracking tier (8001 / 8008, detailed states). Off: the free tier (1002 / 1008).",
    )
    timeout = fields.Integer(string="Timeout (s)", default=20)
    track_refresh_minutes = fields.Integer(
        string="Refresh Tracks After (min)",
        default=30,
        help="The scheduled job queries the tracks of an undelivered shipment that no push (nor query) updated for "
        "this many minutes.",
    )
    carrier_account_ids = fields.One2many(
        "logistics.carrier.account", "kdniao_account_id", string="Express Company Accounts"
    )

    _sql_constraints = [
        ("ebusiness_id_uniq", "unique(ebusiness_id, company_id)", "This EBusinessID is already configured."),
    ]

    def _client(self, debug_logger=None):
        self.ensure_one()
        account = self.sudo()
        return kdniao_request.KdniaoClient(
            account.ebusiness_id,
            account.api_key or "",
            environment=account.environment,
            base_url=account.api_url,
            timeout=account.timeout or 20,
            debug_logger=debug_logger,
        )
