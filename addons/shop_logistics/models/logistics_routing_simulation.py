from odoo import api, fields, models

from .stock_picking_routing import routing_html


class LogisticsRoutingSimulation(models.TransientModel):
    _name = "logistics.routing.simulation"
    _description = "Routing Simulation"

    picking_ids = fields.Many2many("stock.picking", string="Deliveries")
    line_ids = fields.One2many("logistics.routing.simulation.line", "simulation_id", string="Decisions")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "stock.picking" and self.env.context.get("active_ids"):
            values["picking_ids"] = [(6, 0, self.env.context["active_ids"])]
        return values

    def action_simulate(self):
        """Run the routing rules on the deliveries without changing them and show the decisions."""
        self.ensure_one()
        results = self.picking_ids._logistics_route(apply=False)
        self.line_ids.unlink()
        self.write({"line_ids": [
            (0, 0, {
                "picking_id": picking.id,
                "routed": bool(results.get(picking.id, {}).get("routed")),
                "rule_id": results.get(picking.id, {}).get("rule") or False,
                "carrier_account_id": results.get(picking.id, {}).get("carrier") or False,
                "cost": float(results.get(picking.id, {}).get("cost") or 0),
                "data": results.get(picking.id),
            })
            for picking in self.picking_ids
        ]})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Simulate Routing"),
            "context": {"dialog_size": "extra-large"},
        }


class LogisticsRoutingSimulationLine(models.TransientModel):
    _name = "logistics.routing.simulation.line"
    _description = "Routing Simulation Decision"

    simulation_id = fields.Many2one("logistics.routing.simulation", required=True, ondelete="cascade")
    picking_id = fields.Many2one("stock.picking", string="Delivery", readonly=True)
    routed = fields.Boolean(readonly=True)
    rule_id = fields.Many2one("logistics.routing.rule", string="Rule", readonly=True)
    carrier_account_id = fields.Many2one("logistics.carrier.account", string="Carrier Account", readonly=True)
    cost = fields.Float(string="Expected Freight", readonly=True)
    data = fields.Json(readonly=True)
    explanation = fields.Html(compute="_compute_explanation", sanitize=False)

    @api.depends("data")
    @api.depends_context("lang")
    def _compute_explanation(self):
        accounts = self.env["logistics.carrier.account"]
        for line in self:
            line.explanation = routing_html(line.data, self.env.lang or "en_US", accounts, self.env)
