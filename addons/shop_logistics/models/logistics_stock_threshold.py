"""Low-stock alerts: a minimum free quantity per product and warehouse, checked on a schedule, with a reorder
suggestion that can become a draft replenishment (Odoo's reordering rule, ``stock.warehouse.orderpoint``).

Free quantity = on hand − reserved, over the warehouse's internal locations. The suggestion covers the lead time
at the recent pace: average daily outgoing quantity (done moves to customers over the last N days) × lead time
days, plus the minimum, minus what is free and already incoming; with a "reorder up to" quantity it is that
quantity minus what is free and incoming instead. It is rounded up to a whole unit.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round

OPEN_MOVE_STATES = ("confirmed", "waiting", "partially_available", "assigned")


class LogisticsStockThreshold(models.Model):
    _name = "logistics.stock.threshold"
    _description = "Low-Stock Threshold"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "is_low desc, warehouse_id, product_id"
    _check_company_auto = True

    active = fields.Boolean(default=True)
    product_id = fields.Many2one(
        "product.product", string="Product", required=True, index=True, tracking=True, check_company=True,
        domain=[("is_storable", "=", True)],
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse", required=True, index=True, tracking=True, check_company=True,
        default=lambda self: self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1),
    )
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Responsible", tracking=True, default=lambda self: self.env.user,
        help="Gets the low-stock activity.",
    )
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    min_qty = fields.Float(
        string="Minimum", digits="Product Unit of Measure", required=True, tracking=True,
        help="Below this free quantity (on hand − reserved) the product is low in this warehouse.",
    )
    target_qty = fields.Float(
        string="Reorder Up To", digits="Product Unit of Measure", tracking=True,
        help="Reorder up to this free quantity. 0: reorder what covers the lead time at the recent pace instead.",
    )
    lead_time_days = fields.Integer(
        string="Lead Time (days)", required=True, default=lambda self: self.env.company.logistics_stock_lead_days,
        help="Days a replenishment takes to arrive.",
    )
    history_days = fields.Integer(
        string="Sales Days Considered", required=True,
        default=lambda self: self.env.company.logistics_stock_history_days,
        help="The average daily outgoing quantity is taken over these last days.",
    )

    # figures of the last check
    on_hand_qty = fields.Float(string="On Hand", digits="Product Unit of Measure", readonly=True)
    reserved_qty = fields.Float(string="Reserved", digits="Product Unit of Measure", readonly=True)
    free_qty = fields.Float(string="Free", digits="Product Unit of Measure", readonly=True, aggregator="sum")
    incoming_qty = fields.Float(string="Incoming", digits="Product Unit of Measure", readonly=True)
    avg_daily_out_qty = fields.Float(string="Average Daily Out", digits=(16, 3), readonly=True)
    suggested_qty = fields.Float(
        string="Suggested Reorder", digits="Product Unit of Measure", readonly=True, aggregator="sum",
        help="Without 'Reorder Up To': average daily out × lead time + minimum − free − incoming. With it: "
        "'Reorder Up To' − free − incoming. Never below 0, rounded up to a whole unit.",
    )
    is_low = fields.Boolean(string="Low Stock", readonly=True, index=True)
    low_since = fields.Datetime(string="Low Since", readonly=True)
    checked_at = fields.Datetime(string="Last Checked", readonly=True)
    orderpoint_id = fields.Many2one(
        "stock.warehouse.orderpoint", string="Reordering Rule", readonly=True, copy=False, index="btree_not_null"
    )

    _sql_constraints = [
        ("product_warehouse_uniq", "unique(product_id, warehouse_id)",
         "This product already has a low-stock threshold in this warehouse."),
        ("min_qty_positive", "CHECK(min_qty >= 0)", "The minimum cannot be negative."),
        ("target_qty_positive", "CHECK(target_qty >= 0)", "The 'reorder up to' quantity cannot be negative."),
        ("lead_time_positive", "CHECK(lead_time_days >= 0)", "The lead time cannot be negative."),
        ("history_days_positive", "CHECK(history_days > 0)", "Consider at least one day of sales."),
    ]

    @api.depends("product_id", "warehouse_id")
    def _compute_display_name(self):
        for threshold in self:
            threshold.display_name = f"{threshold.product_id.display_name or ''} @ {threshold.warehouse_id.code or ''}"

    @api.constrains("min_qty", "target_qty")
    def _check_target_above_minimum(self):
        for threshold in self:
            if threshold.target_qty and float_compare(
                threshold.target_qty, threshold.min_qty, precision_rounding=threshold.uom_id.rounding or 0.01
            ) <= 0:
                raise ValidationError(
                    self.env._(
                        "%(threshold)s: reorder up to %(target)s must be above the minimum %(minimum)s.",
                        threshold=threshold.display_name, target=threshold.target_qty, minimum=threshold.min_qty,
                    )
                )

    @api.constrains("product_id")
    def _check_storable(self):
        for threshold in self:
            if not threshold.product_id.is_storable:
                raise ValidationError(
                    self.env._("%s is not tracked in stock: it cannot have a low-stock threshold.",
                               threshold.product_id.display_name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        thresholds = super().create(vals_list)
        thresholds._logistics_refresh()
        return thresholds

    def write(self, vals):
        result = super().write(vals)
        if {"product_id", "warehouse_id", "min_qty", "target_qty", "lead_time_days", "history_days"} & set(vals):
            self._logistics_refresh()
        return result

    # ------------------------------------------------------------------ figures

    def _logistics_refresh(self):
        """Compute the figures of the thresholds from the quants and moves (a few grouped queries for all of them)
        and write them; returns ``{threshold: was low before}``."""
        thresholds = self.filtered("active")
        if not thresholds:
            return {}
        products, warehouses = thresholds.product_id, thresholds.warehouse_id
        stock = self._logistics_stock_by_warehouse(products, warehouses)
        incoming = self._logistics_incoming_by_warehouse(products, warehouses)
        now = fields.Datetime.now()
        shipped = {}
        for days in set(thresholds.mapped("history_days")):
            group = thresholds.filtered(lambda threshold: threshold.history_days == days)
            out = self._logistics_shipped_by_warehouse(group.product_id, group.warehouse_id, now - timedelta(days=days))
            shipped.update({(days, *key): quantity for key, quantity in out.items()})
        before = {threshold: threshold.is_low for threshold in thresholds}
        for threshold in thresholds:
            key = (threshold.product_id.id, threshold.warehouse_id.id)
            on_hand, reserved = stock.get(key, (0.0, 0.0))
            values = threshold._logistics_figures(
                on_hand, reserved, incoming.get(key, 0.0), shipped.get((threshold.history_days, *key), 0.0)
            )
            if values["is_low"] and not threshold.is_low:
                values["low_since"] = now
            elif not values["is_low"]:
                values["low_since"] = False
            threshold.write({**values, "checked_at": now})
        return before

    def _logistics_figures(self, on_hand, reserved, incoming, shipped):
        """The figures of one threshold from its warehouse's quantities and what it shipped in its history days."""
        self.ensure_one()
        rounding = self.uom_id.rounding or 0.01
        free = on_hand - reserved
        average = shipped / self.history_days
        if self.target_qty:
            needed = self.target_qty - free - incoming
        else:
            needed = average * self.lead_time_days + self.min_qty - free - incoming
        # whole units of the product's unit: nobody orders 15.34 cups
        suggested = float_round(max(needed, 0.0), precision_rounding=max(rounding, 1.0), rounding_method="UP")
        return {
            "on_hand_qty": on_hand,
            "reserved_qty": reserved,
            "free_qty": free,
            "incoming_qty": incoming,
            "avg_daily_out_qty": average,
            "suggested_qty": suggested,
            "is_low": float_compare(free, self.min_qty, precision_rounding=rounding) < 0,
        }

    @api.model
    def _logistics_stock_by_warehouse(self, products, warehouses):
        """``{(product id, warehouse id): (on hand, reserved)}`` over the warehouses' internal locations."""
        result = defaultdict(lambda: (0.0, 0.0))
        groups = self.env["stock.quant"]._read_group(
            [("product_id", "in", products.ids), ("location_id.usage", "=", "internal"),
             ("location_id.warehouse_id", "in", warehouses.ids)],
            ["location_id", "product_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        )
        for location, product, quantity, reserved in groups:
            key = (product.id, location.warehouse_id.id)
            on_hand, held = result[key]
            result[key] = (on_hand + quantity, held + reserved)
        return dict(result)

    @api.model
    def _logistics_incoming_by_warehouse(self, products, warehouses):
        """``{(product id, warehouse id): quantity}`` of the open moves bringing stock into the warehouses from
        outside (receipts, transfers from other warehouses)."""
        result = defaultdict(float)
        groups = self.env["stock.move"]._read_group(
            [("product_id", "in", products.ids), ("state", "in", OPEN_MOVE_STATES),
             ("location_dest_id.usage", "=", "internal"), ("location_dest_id.warehouse_id", "in", warehouses.ids),
             ("location_id.usage", "!=", "internal")],
            ["location_dest_id", "product_id"],
            ["product_qty:sum"],
        )
        for location, product, quantity in groups:
            result[(product.id, location.warehouse_id.id)] += quantity
        return dict(result)

    @api.model
    def _logistics_shipped_by_warehouse(self, products, warehouses, since):
        """``{(product id, warehouse id): quantity}`` delivered to customers from the warehouses since ``since``
        (done moves, in the product's unit)."""
        result = defaultdict(float)
        groups = self.env["stock.move"]._read_group(
            [("product_id", "in", products.ids), ("state", "=", "done"), ("date", ">=", since),
             ("location_id.usage", "=", "internal"), ("location_id.warehouse_id", "in", warehouses.ids),
             ("location_dest_id.usage", "=", "customer")],
            ["location_id", "product_id"],
            ["product_qty:sum"],
        )
        for location, product, quantity in groups:
            result[(product.id, location.warehouse_id.id)] += quantity
        return dict(result)

    # ------------------------------------------------------------------ alerts

    @api.model
    def _cron_logistics_check_low_stock(self):
        """Check every threshold: an activity for the responsible when a product falls below, done when it is
        back above."""
        return self.search([])._logistics_check()

    def _logistics_check(self):
        before = self._logistics_refresh()
        fallen = self.filtered(lambda threshold: threshold.is_low and not before.get(threshold))
        recovered = self.filtered(lambda threshold: before.get(threshold) and not threshold.is_low)
        fallen._logistics_raise_alert()
        recovered._logistics_close_alert()
        return fallen

    def _logistics_raise_alert(self):
        for threshold in self:
            threshold.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=self.env._("Low stock: %s", threshold.display_name),
                note=self.env._(
                    "%(product)s in %(warehouse)s: %(free)s %(uom)s free, below the minimum %(minimum)s. "
                    "Suggested reorder: %(suggested)s %(uom)s.",
                    product=threshold.product_id.display_name,
                    warehouse=threshold.warehouse_id.name,
                    free=threshold.free_qty,
                    minimum=threshold.min_qty,
                    suggested=threshold.suggested_qty,
                    uom=threshold.uom_id.name,
                ),
                user_id=(threshold.user_id or self.env.user).id,
            )

    def _logistics_close_alert(self):
        for threshold in self:
            threshold.activity_feedback(
                ["mail.mail_activity_data_warning"],
                feedback=self.env._("Back above the minimum: %(free)s %(uom)s free.",
                                    free=threshold.free_qty, uom=threshold.uom_id.name),
            )

    def action_logistics_check(self):
        """Check Now (nothing selected: every threshold). Clerks may check: the figures are written as superuser."""
        thresholds = self or self.search([])
        fallen = thresholds.sudo()._logistics_check()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if fallen else "success",
                "message": self.env._("%s products fell below their minimum.", len(fallen)) if fallen
                else self.env._("Stock figures updated; no new low stock."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------ replenishment

    def action_logistics_create_orderpoint(self):
        """Create Reorder Rule: a manual reordering rule per threshold (the existing one when there is one) with
        the suggested quantity to order, shown in Inventory's Replenishment to be ordered."""
        if not self:
            raise UserError(self.env._("Select the thresholds to reorder."))
        self._logistics_refresh()
        orderpoints = self._logistics_orderpoints()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock.action_orderpoint_replenish")
        action.update(domain=[("id", "in", orderpoints.ids)], context={"search_default_filter_to_reorder": 0})
        return action

    def _logistics_orderpoints(self):
        Orderpoint = self.env["stock.warehouse.orderpoint"].with_context(active_test=False)
        existing = Orderpoint.search(
            [("product_id", "in", self.product_id.ids), ("location_id", "in", self.warehouse_id.lot_stock_id.ids)]
        )
        by_key = {(op.product_id.id, op.location_id.id, op.company_id.id): op for op in existing}
        missing = self.filtered(
            lambda t: (t.product_id.id, t.warehouse_id.lot_stock_id.id, t.company_id.id) not in by_key
        )
        created = Orderpoint.create([threshold._logistics_orderpoint_values() for threshold in missing])
        for threshold, orderpoint in zip(missing, created):
            by_key[(threshold.product_id.id, orderpoint.location_id.id, orderpoint.company_id.id)] = orderpoint
        orderpoints = Orderpoint
        for threshold in self:
            orderpoint = by_key[(threshold.product_id.id, threshold.warehouse_id.lot_stock_id.id, threshold.company_id.id)]
            if not orderpoint.active:
                orderpoint.active = True
            if threshold.suggested_qty:
                orderpoint.qty_to_order = threshold.suggested_qty
            threshold.orderpoint_id = orderpoint
            orderpoints |= orderpoint
        return orderpoints

    def _logistics_orderpoint_values(self):
        self.ensure_one()
        return {
            "product_id": self.product_id.id,
            "warehouse_id": self.warehouse_id.id,
            "location_id": self.warehouse_id.lot_stock_id.id,
            "company_id": self.company_id.id,
            "trigger": "manual",
            "product_min_qty": self.min_qty,
            "product_max_qty": self.target_qty or self.min_qty,
        }

    def action_logistics_open_orderpoint(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock.action_orderpoint_replenish")
        action.update(domain=[("id", "=", self.orderpoint_id.id)], context={})
        return action
