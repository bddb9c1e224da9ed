"""Stock of shop orders: reserved by Odoo's own moves when the order is approved, not when it is confirmed, and
given back when the order leaves Approved before anyone packs it."""

from odoo import fields, models

from .. import logistics_state as ls

# Orders in these audit states wait for approval: their deliveries reserve nothing yet.
AWAITING_APPROVAL = ("to_audit", "on_hold")
# Before a waybill is issued nobody has packed the parcel: a held order's stock can go back to the shelf.
UNPACKED_STATES = (False, ls.TO_ROUTE, ls.ROUTED)
# Context key: reserve even for an order that is not approved (the carrier already took the parcel).
FORCE_RESERVE = "logistics_force_reserve"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_logistics_approve(self):
        result = super().action_logistics_approve()
        self._logistics_reserve_deliveries()
        return result

    def _logistics_hold(self, reason, detail=False):
        approved = self.filtered(lambda order: order.audit_state == "approved")
        result = super()._logistics_hold(reason, detail)
        approved._logistics_unreserve_deliveries()
        return result

    def action_logistics_reaudit(self):
        approved = self.filtered(lambda order: order.audit_state == "approved")
        result = super().action_logistics_reaudit()
        approved._logistics_unreserve_deliveries()
        return result

    def _logistics_open_transfers(self):
        return self.picking_ids.filtered(lambda picking: picking.state not in ("draft", "done", "cancel"))

    def _logistics_reserve_deliveries(self):
        """Reserve the open transfers of the orders, all in one reservation pass."""
        transfers = self._logistics_open_transfers()
        if transfers:
            transfers.action_assign()

    def _logistics_unreserve_deliveries(self):
        """Give back what the orders reserved, unless one of their parcels is already being packed."""
        for order in self:
            transfers = order._logistics_open_transfers()
            deliveries = transfers.filtered(lambda picking: picking.picking_type_code == "outgoing")
            if transfers and all(delivery.logistics_state in UNPACKED_STATES for delivery in deliveries):
                transfers.do_unreserve()


class StockMove(models.Model):
    _inherit = "stock.move"

    def _logistics_awaiting_approval(self):
        """The moves of shop orders still to audit or on hold: their stock is reserved at approval."""
        if self.env.context.get(FORCE_RESERVE):
            return self.browse()
        return self.filtered(lambda move: move._logistics_order().audit_state in AWAITING_APPROVAL)

    def _logistics_order(self):
        self.ensure_one()
        order = self.group_id.sale_id or self.sale_line_id.order_id
        return order if order.shop_id else self.env["sale.order"]

    def _action_assign(self, force_qty=False):
        waiting = self._logistics_awaiting_approval()
        return super(StockMove, self - waiting)._action_assign(force_qty=force_qty)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_audit_state = fields.Selection(related="sale_id.audit_state", string="Order Audit")
