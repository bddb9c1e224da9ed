"""Carrier routing of deliveries: ``engines.routing`` decides, the delivery keeps the decision and why."""

from collections import defaultdict
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import lazy_text
from .. import logistics_state as ls
from ..engines import routing
from ..engines.cn_regions import AreaNotResolved, load_divisions
from .sale_order_audit import decimal, partner_address


class StockPicking(models.Model):
    _inherit = "stock.picking"

    routing_rule_id = fields.Many2one("logistics.routing.rule", string="Routing Rule", copy=False, readonly=True)
    routing_service_type = fields.Char(string="Service Type", copy=False)
    routing_label_template = fields.Char(string="Label Template", copy=False)
    expected_freight_cost = fields.Float(string="Expected Freight", copy=False, readonly=True, digits="Product Price")
    routing_data = fields.Json(string="Routing Decision", copy=False, readonly=True)
    routing_failed = fields.Boolean(string="Routing Failed", copy=False, readonly=True, index=True)
    routing_explanation = fields.Html(
        string="Routing Explanation", compute="_compute_routing_explanation", sanitize=False
    )

    @api.depends("routing_data")
    @api.depends_context("lang")
    def _compute_routing_explanation(self):
        lang = self.env.lang or "en_US"
        accounts = self.env["logistics.carrier.account"]
        for picking in self:
            picking.routing_explanation = routing_html(picking.routing_data, lang, accounts, self.env)

    # ------------------------------------------------------------------ engine data

    def _logistics_engine_shipment(self, divisions, today):
        """The ``engines.routing.Shipment`` of this delivery; raises AreaNotResolved for an unknown destination."""
        self.ensure_one()
        order = self.sale_id
        area = None
        if order.logistics_area_code:
            try:
                area = divisions.area_of(order.logistics_area_code)
            except KeyError:
                area = None
        if area is None:
            address = partner_address(divisions, self.partner_id)
            area = divisions.resolve(address.province, address.city, address.district)
        weight = volume = value = Decimal(0)
        categories, tags = set(), set()
        for move in self.move_ids.filtered(lambda m: m.state != "cancel"):
            product = move.product_id
            quantity = decimal(move.product_qty)
            weight += decimal(product.weight) * quantity
            volume += decimal(product.volume) * 1000000 * quantity
            if move.sale_line_id:
                value += decimal(move.sale_line_id.price_reduce_taxinc) * decimal(move.product_uom_qty)
            if product.categ_id:
                categories.add(product.categ_id.name)
            tags.update(product.product_tag_ids.mapped("name"))
        if self.shipping_weight:
            weight = decimal(self.shipping_weight)
        return routing.Shipment(
            key=self.id, area=area, weight_kg=weight, volume_cm3=volume, value=value,
            categories=frozenset(categories), tags=frozenset(tags), shop=self.shop_id.name or "",
            platform=self.platform or "", remark_tags=frozenset(order.remark_tag_ids.mapped("code")),
            ship_date=today,
        )

    @api.model
    def _logistics_routing_engine(self, company, divisions, today):
        rules = self.env["logistics.routing.rule"].search([("company_id", "=", company.id)])
        accounts = self.env["logistics.carrier.account"].with_context(active_test=False).search(
            [("company_id", "=", company.id)]
        )
        tags = self.env["logistics.remark.tag"].search(
            [("kind", "in", (routing.REQUIRED, routing.EXCLUDED)), ("express_code", "!=", False)]
        )
        carrier_tags = {tag.code: routing.CarrierTag(tag.kind, tag.express_code.upper()) for tag in tags}
        return routing.RoutingEngine(
            [rule._engine_rule(divisions) for rule in rules],
            [account._engine_carrier(divisions) for account in accounts],
            mode=company.logistics_routing_mode or routing.FIRST_MATCH,
            carrier_tags=carrier_tags,
            today=today,
        )

    def _logistics_route(self, apply=True):
        """Route the deliveries; ``{picking id: decision data}`` (``RoutingDecision.to_data()``, or for a
        destination that does not resolve ``{"routed": False, "reason": message data}``). With ``apply`` the
        routed deliveries get their carrier and move to Routed; the others stay To Route, flagged."""
        divisions = load_divisions()
        today = fields.Date.context_today(self)
        results = {}
        for company in self.company_id:
            pickings = self.filtered(lambda picking: picking.company_id == company)
            engine = self._logistics_routing_engine(company, divisions, today)
            shipments = []
            for picking in pickings:
                try:
                    shipments.append(picking._logistics_engine_shipment(divisions, today))
                except AreaNotResolved as error:
                    results[picking.id] = {"routed": False, "reason": error.message.to_data(), "skipped": [],
                                           "alternatives": []}
            for decision in engine.route_many(shipments):
                results[decision.shipment.key] = decision.to_data()
        if apply:
            self._logistics_apply_routing(results)
        return results

    def _logistics_apply_routing(self, results):
        """Write the decisions: what differs per delivery one by one, the carrier once per group of deliveries
        routed alike, and the move to Routed once for all (a batch of thousands stays a few statements)."""
        accounts = self.env["logistics.carrier.account"].browse(
            [data["carrier"] for data in results.values() if data.get("carrier")]
        )
        accounts_by_id = {account.id: account for account in accounts}
        alike = defaultdict(lambda: self.browse())
        for picking in self:
            data = results.get(picking.id)
            if data is None:
                continue
            if not data.get("routed"):
                picking.write({"routing_data": data})
                alike[None] |= picking
                continue
            picking.write({
                "routing_data": data,
                "expected_freight_cost": float(data["cost"]) if data.get("cost") else 0.0,
            })
            key = (data["rule"], data["carrier"], data["service_type"] or False, data["label_template"] or False)
            alike[key] |= picking
        for key, pickings in alike.items():
            if key is None:
                pickings.write({"routing_failed": True})
                continue
            rule, carrier, service_type, label_template = key
            account = accounts_by_id[carrier]
            pickings.write({
                "routing_failed": False,
                "routing_rule_id": rule,
                "carrier_account_id": account.id,
                "carrier_id": account.carrier_id.id,
                "routing_service_type": service_type,
                "routing_label_template": label_template,
            })
        routed = self.browse([picking_id for key, pickings in alike.items() if key for picking_id in pickings.ids])
        routed.filtered(lambda picking: picking.logistics_state in (ls.TO_ROUTE, ls.EXCEPTION))._set_logistics_state(
            ls.ROUTED
        )

    def action_logistics_route(self):
        """Route: the selected deliveries to route get their carrier by the routing rules."""
        pickings = self.filtered(lambda picking: picking.logistics_state == ls.TO_ROUTE)
        if not pickings:
            raise UserError(self.env._("Select deliveries to route."))
        results = pickings._logistics_route()
        failed = [picking.display_name for picking in pickings if not results.get(picking.id, {}).get("routed")]
        if not failed:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "message": self.env._("No routing rule matched %(count)s deliveries: %(names)s",
                                      count=len(failed), names=", ".join(failed)),
            },
        }

    def action_logistics_simulate_routing(self):
        wizard = self.env["logistics.routing.simulation"].create({"picking_ids": [(6, 0, self.ids)]})
        wizard.action_simulate()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.routing.simulation",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Simulate Routing"),
            "context": {"dialog_size": "extra-large"},
        }


def routing_html(data, lang, accounts, env):
    """The explanation of a routing decision, in ``lang``: the decision, each rule skipped with why, and the
    other carriers with their price."""
    if not data:
        return False
    parts = [Markup("<p><strong>%s</strong></p>") % lazy_text.render(data.get("reason"), lang)]
    quote = data.get("quote")
    if quote:
        summary = env._("Expected freight: %(total)s (zone %(zone)s, %(weight)s kg charged).")
        parts.append(Markup("<p>%s</p>") % (summary % {
            "total": quote["total"], "zone": quote["zone"], "weight": quote["chargeable_kg"]}))
    if data.get("skipped"):
        items = Markup("").join(
            Markup("<li><em>%s</em>: %s</li>") % (entry.get("name"), lazy_text.render(entry, lang))
            for entry in data["skipped"]
        )
        parts.append(Markup("<p>%s</p><ul>%s</ul>") % (env._("Rules skipped:"), items))
    if data.get("alternatives"):
        items = Markup("").join(
            Markup("<li>%s: %s</li>") % (alternative["name"], alternative["cost"])
            for alternative in data["alternatives"]
        )
        parts.append(Markup("<p>%s</p><ul>%s</ul>") % (env._("Other carriers:"), items))
    return Markup("").join(parts)
