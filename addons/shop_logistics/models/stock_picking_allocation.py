"""Deliveries as the allocation plans them: goods tagged to ship apart (fresh …) get their own delivery through
Odoo's own procurement (the tag travels in the procurement values, and moves with different tags never share a
picking), and each delivery remembers the day it was allocated to its warehouse (daily capacity)."""

from odoo import api, fields, models

from .. import logistics_state as ls

# Deliveries that can still be re-planned or merged: nothing issued, printed or picked yet.
OPEN_LOGISTICS_STATES = (ls.TO_ROUTE, ls.ROUTED)


class StockRule(models.Model):
    _inherit = "stock.rule"

    def _get_stock_move_values(self, product_id, product_qty, product_uom, location_dest_id, name, origin,
                               company_id, values):
        move_values = super()._get_stock_move_values(
            product_id, product_qty, product_uom, location_dest_id, name, origin, company_id, values
        )
        tag = values.get("logistics_ship_apart_tag_id")
        if tag:
            move_values["logistics_ship_apart_tag_id"] = tag
        return move_values


class StockMove(models.Model):
    _inherit = "stock.move"

    logistics_ship_apart_tag_id = fields.Many2one(
        "product.tag", string="Ships Apart As", readonly=True, index="btree_not_null",
        help="Moves of goods that ship apart (fresh …) go to their own delivery.",
    )

    def _key_assign_picking(self):
        return super()._key_assign_picking() + (self.logistics_ship_apart_tag_id,)

    def _search_picking_for_assignation_domain(self):
        domain = super()._search_picking_for_assignation_domain()
        return domain + [("logistics_ship_apart_tag_id", "=", self.logistics_ship_apart_tag_id.id)]

    def _get_new_picking_values(self):
        values = super()._get_new_picking_values()
        tags = self.logistics_ship_apart_tag_id
        if len(tags) == 1:
            values["logistics_ship_apart_tag_id"] = tags.id
        return values


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_ship_apart_tag_id = fields.Many2one(
        "product.tag", string="Ships Apart As", readonly=True,
        help="This delivery carries only goods with this tag (fresh …), apart from the rest of the order.",
    )
    logistics_allocation_date = fields.Date(
        string="Allocated On", copy=False, readonly=True, index="btree_not_null",
        help="The day the allocation gave this delivery to its warehouse (counted against its daily capacity).",
    )
    logistics_order_ids = fields.Many2many(
        "sale.order", string="Orders", compute="_compute_logistics_order_ids",
        help="Every order whose goods travel in this delivery (several when orders were merged).",
    )
    logistics_merged = fields.Boolean(string="Merged", copy=False, readonly=True, index=True)

    @api.depends("move_ids.sale_line_id")
    def _compute_logistics_order_ids(self):
        for picking in self:
            picking.logistics_order_ids = picking.move_ids.sale_line_id.order_id | picking.sale_id

    def _logistics_is_open(self):
        """Not issued, printed, picked or shipped yet: the delivery can be re-planned or merged."""
        self.ensure_one()
        if self.state in ("done", "cancel"):
            return False
        if self.picking_type_code == "outgoing" and (
            self.logistics_state not in OPEN_LOGISTICS_STATES
            or self.waybill_number
            or self.logistics_label_printed_at
        ):
            return False
        return not any(move.picked or move.state == "done" for move in self.move_ids)
