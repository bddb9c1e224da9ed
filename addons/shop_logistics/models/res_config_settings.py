"""Settings › Logistics: the routing mode, the automatic audit and routing switches, the low-stock defaults."""

from odoo import api, fields, models

from .. import logistics_state as ls

ROUTE_BATCH = 500


class ResCompany(models.Model):
    _inherit = "res.company"

    logistics_auto_audit = fields.Boolean(
        string="Automatic Audit", default=True,
        help="The scheduled audit takes the shop orders waiting in To Audit; off, they wait for Audit Now.",
    )
    logistics_auto_route = fields.Boolean(
        string="Automatic Routing",
        help="A scheduled action gives the deliveries of approved orders their carrier by the routing rules; "
        "off, they wait in To Route for a clerk.",
    )
    logistics_stock_lead_days = fields.Integer(
        string="Replenishment Lead Time (days)", default=7,
        help="Default lead time of new low-stock thresholds: the days a replenishment takes to arrive.",
    )
    logistics_stock_history_days = fields.Integer(
        string="Sales Days Considered", default=30,
        help="Default of new low-stock thresholds: the average daily outgoing quantity is taken over these days.",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    logistics_routing_mode = fields.Selection(related="company_id.logistics_routing_mode", readonly=False)
    logistics_auto_audit = fields.Boolean(related="company_id.logistics_auto_audit", readonly=False)
    logistics_auto_route = fields.Boolean(related="company_id.logistics_auto_route", readonly=False)
    logistics_stock_lead_days = fields.Integer(related="company_id.logistics_stock_lead_days", readonly=False)
    logistics_stock_history_days = fields.Integer(related="company_id.logistics_stock_history_days", readonly=False)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    @api.model
    def _logistics_auto_route_domain(self):
        return self._logistics_domain("to_route") + [
            ("routing_failed", "=", False),
            ("company_id.logistics_auto_route", "=", True),
            "|", ("shop_id", "=", False), ("sale_id.audit_state", "=", "approved"),
        ]

    @api.model
    def _cron_logistics_auto_route(self, batch_size=ROUTE_BATCH):
        """Route a batch of the deliveries waiting in To Route (approved orders, companies with automatic
        routing); the scheduler runs again at once while some remain. Those no rule matches stay flagged."""
        domain = self._logistics_auto_route_domain()
        pickings = self.search(domain, order="id", limit=batch_size)
        pickings._logistics_route()
        stuck = pickings.filtered(lambda picking: picking.logistics_state == ls.TO_ROUTE and not picking.routing_failed)
        remaining = 0 if stuck else self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(pickings), remaining=remaining)
        return pickings
