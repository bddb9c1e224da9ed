from odoo import api, fields, models

from odoo.addons.base.models.res_partner import _lang_get

PLATFORMS = [
    ("taobao", "Taobao"),
    ("tmall", "Tmall"),
    ("jd", "JD"),
    ("douyin", "Douyin Shop"),
    ("pinduoduo", "Pinduoduo"),
    ("kuaishou", "Kuaishou"),
    ("youzan", "Youzan"),
    ("shopify", "Shopify"),
    ("woocommerce", "WooCommerce"),
    ("manual", "Manual Import"),
]

MANAGER = "shop_logistics.group_logistics_manager"


class LogisticsShop(models.Model):
    _name = "logistics.shop"
    _description = "Online Shop"
    _inherit = ["mail.thread"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(help="Short code of the shop, unique in the company (used in order references).")
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    platform = fields.Selection(PLATFORMS, required=True, tracking=True)
    platform_shop_id = fields.Char(
        string="Shop ID on Platform", help="The seller or shop identifier the platform gives this shop."
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Default Warehouse", check_company=True, tracking=True
    )

    sync_enabled = fields.Boolean(
        string="Sync Enabled", tracking=True, help="Pull and receive orders from this shop."
    )
    sync_interval = fields.Integer(
        string="Sync Interval (min)", default=5, help="Minutes between two scheduled pulls of orders."
    )
    sync_overlap = fields.Integer(
        string="Overlap Window (min)",
        default=10,
        help="Each pull starts this many minutes before the last cursor, to catch late platform updates.",
    )
    sync_cursor = fields.Datetime(string="Synced Up To", copy=False, readonly=True)
    last_sync_at = fields.Datetime(string="Last Sync", copy=False, readonly=True)
    auto_confirm = fields.Boolean(
        string="Confirm Paid Orders", default=True, help="Confirm sale orders as soon as they are paid."
    )
    api_url = fields.Char(string="API Endpoint", help="Leave empty for the platform's production endpoint.")

    app_key = fields.Char(string="App Key", groups=MANAGER, copy=False)
    app_secret = fields.Char(string="App Secret", groups=MANAGER, copy=False)
    access_token = fields.Char(string="Access Token", groups=MANAGER, copy=False)
    refresh_token = fields.Char(string="Refresh Token", groups=MANAGER, copy=False)
    token_expires_at = fields.Datetime(string="Token Expires At", groups=MANAGER, copy=False)
    webhook_secret = fields.Char(string="Webhook Secret", groups=MANAGER, copy=False)
    has_credentials = fields.Boolean(compute="_compute_has_credentials")

    # Buyer notifications (email and SMS): each event switched on or off per shop.
    notify_shipped = fields.Boolean(string="Shipped", default=True, help="Tell the buyer the waybill and tracking link.")
    notify_out_for_delivery = fields.Boolean(string="Out for Delivery", default=True)
    notify_exception = fields.Boolean(
        string="Exceptions",
        default=True,
        help="Tell the buyer about a delivery problem and what happens next (for the rules that allow it).",
    )
    notify_delivered = fields.Boolean(string="Delivered", default=True)
    notify_by_email = fields.Boolean(string="By Email", default=True)
    notify_by_sms = fields.Boolean(string="By SMS", help="Text messages are sent through Odoo's SMS service (IAP credits).")
    notification_lang = fields.Selection(
        _lang_get, string="Notification Language", help="Empty: the language of the receiver."
    )

    order_ids = fields.One2many("sale.order", "shop_id", string="Orders")
    order_to_audit_count = fields.Integer(compute="_compute_workbench_counts")
    order_on_hold_count = fields.Integer(compute="_compute_workbench_counts")
    picking_to_route_count = fields.Integer(compute="_compute_workbench_counts")
    picking_to_print_count = fields.Integer(compute="_compute_workbench_counts")
    picking_exception_count = fields.Integer(compute="_compute_workbench_counts")

    _sql_constraints = [
        ("code_company_uniq", "unique(code, company_id)", "The shop code must be unique in a company."),
    ]

    def _compute_has_credentials(self):
        for shop, shop_sudo in zip(self, self.sudo()):
            shop.has_credentials = bool(shop_sudo.app_key and (shop_sudo.app_secret or shop_sudo.access_token))

    def _count_by_shop(self, model, domain):
        groups = self.env[model]._read_group(domain + [("shop_id", "in", self.ids)], ["shop_id"], ["__count"])
        return {shop.id: count for shop, count in groups}

    def _compute_workbench_counts(self):
        orders = "sale.order"
        pickings = "stock.picking"
        counts = {
            "order_to_audit_count": self._count_by_shop(orders, self.env[orders]._logistics_domain("to_audit")),
            "order_on_hold_count": self._count_by_shop(orders, self.env[orders]._logistics_domain("on_hold")),
            "picking_to_route_count": self._count_by_shop(pickings, self.env[pickings]._logistics_domain("to_route")),
            "picking_to_print_count": self._count_by_shop(pickings, self.env[pickings]._logistics_domain("to_print")),
            "picking_exception_count": self._count_by_shop(
                pickings, self.env[pickings]._logistics_domain("exception")
            ),
        }
        for shop in self:
            for field_name, by_shop in counts.items():
                shop[field_name] = by_shop.get(shop.id, 0)

    def action_open_workbench_list(self):
        """Open the orders or shipments of this shop behind one workbench counter."""
        self.ensure_one()
        queue = self.env.context.get("workbench_queue")
        model = "sale.order" if queue in ("to_audit", "on_hold") else "stock.picking"
        action = self.env[model]._logistics_queue_action(queue)
        action["domain"] = action["domain"] + [("shop_id", "=", self.id)]
        action["display_name"] = f"{self.display_name}: {action['name']}"
        return action

    @api.model
    def _get_platform_label(self, platform):
        return dict(self._fields["platform"]._description_selection(self.env)).get(platform, platform)
