from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.sql import create_index
from odoo.tools.translate import LazyTranslate

from .logistics_order_hold import HOLD_REASONS
from .logistics_ticket import OPEN_STATES
from .stock_picking import phone_leaves

_lt = LazyTranslate(__name__)

AUDIT_STATES = [("to_audit", "To Audit"), ("on_hold", "On Hold"), ("approved", "Approved")]
AUDIT_TRANSITIONS = {
    False: {"to_audit", "on_hold", "approved"},
    "to_audit": {"on_hold", "approved"},
    "on_hold": {"to_audit", "approved"},
    "approved": {"on_hold", "to_audit"},
}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    shop_id = fields.Many2one("logistics.shop", string="Shop", index=True, tracking=True, check_company=True)
    platform = fields.Selection(related="shop_id.platform", store=True, string="Platform")
    platform_order_id = fields.Char(string="Platform Order ID", index=True, copy=False, tracking=True)
    platform_status = fields.Char(string="Platform Status", copy=False)
    buyer_nick = fields.Char(string="Buyer Nickname")
    buyer_remark = fields.Text(string="Buyer Remark")
    seller_memo = fields.Text(string="Seller Memo")
    remark_tag_ids = fields.Many2many(
        "logistics.remark.tag",
        string="Remark Tags",
        compute="_compute_remark_tag_ids",
        store=True,
        readonly=False,
    )
    paid_at = fields.Datetime(string="Paid At", copy=False)
    audit_state = fields.Selection(AUDIT_STATES, string="Audit", copy=False, index=True, tracking=True)
    hold_ids = fields.One2many("logistics.order.hold", "order_id", string="Hold History")
    active_hold_ids = fields.One2many(
        "logistics.order.hold", "order_id", string="Hold Reasons", domain=[("resolved", "=", False)]
    )
    hold_summary = fields.Char(string="Hold Reason", compute="_compute_hold_summary")
    shipment_event_ids = fields.One2many("logistics.shipment.event", "sale_id", string="Track Events", readonly=True)
    logistics_ticket_ids = fields.One2many("logistics.ticket", "sale_id", string="Exception Tickets", readonly=True)
    logistics_open_ticket_count = fields.Integer(string="Open Tickets", compute="_compute_logistics_open_ticket_count")
    logistics_exception = fields.Boolean(
        string="Delivery Exception",
        compute="_compute_logistics_exception",
        store=True,
        index=True,
        help="A delivery of this order is in exception: it has an open ticket or was flagged.",
    )
    logistics_any_number = fields.Char(
        string="Any Number",
        compute="_compute_logistics_any_number",
        search="_search_logistics_any_number",
        help="Order, platform order, delivery or waybill number, or the buyer's or receiver's phone.",
    )

    _sql_constraints = [
        (
            "platform_order_shop_uniq",
            "unique(shop_id, platform_order_id)",
            "This platform order is already in Odoo for this shop.",
        ),
    ]

    def init(self):
        super().init()
        # Odoo indexes order names for "contains" searches (trigrams), which serves an equality slowly once there
        # are many orders: the tracking page and the staff search look orders up by their exact number.
        create_index(self.env.cr, "sale_order_name_equal_index", self._table, ["name"])

    @api.depends("buyer_remark", "seller_memo")
    def _compute_remark_tag_ids(self):
        tags = self.env["logistics.remark.tag"]
        for order in self:
            text = "\n".join(filter(None, [order.buyer_remark, order.seller_memo]))
            order.remark_tag_ids = tags._match_text(text) if text else tags

    @api.depends("shop_id")
    def _compute_warehouse_id(self):
        super()._compute_warehouse_id()
        for order in self:
            if order.shop_id.warehouse_id and order.state in ("draft", "sent"):
                order.warehouse_id = order.shop_id.warehouse_id

    @api.depends("active_hold_ids.display_name")
    @api.depends_context("lang")
    def _compute_hold_summary(self):
        for order in self:
            order.hold_summary = "; ".join(order.active_hold_ids.mapped("display_name"))

    @api.depends("picking_ids.is_logistics_exception", "picking_ids.state")
    def _compute_logistics_exception(self):
        for order in self:
            order.logistics_exception = any(
                picking.is_logistics_exception and picking.state != "cancel" for picking in order.picking_ids
            )

    def _compute_logistics_open_ticket_count(self):
        groups = self.env["logistics.ticket"]._read_group(
            [("sale_id", "in", self.ids), ("state", "in", OPEN_STATES)], ["sale_id"], ["__count"]
        )
        counts = {order.id: count for order, count in groups}
        for order in self:
            order.logistics_open_ticket_count = counts.get(order.id, 0)

    def _compute_logistics_any_number(self):
        self.logistics_any_number = False

    def _search_logistics_any_number(self, operator, value):
        if operator not in ("ilike", "=", "like", "=ilike") or not isinstance(value, str):
            raise UserError(self.env._("Search a number with 'contains' or 'is equal to'."))
        number = value.strip()
        if not number:
            return []
        leaves = [
            ("name", "ilike", number),
            ("platform_order_id", "ilike", number),
            ("client_order_ref", "ilike", number),
            ("picking_ids", "any", self.env["stock.picking"]._logistics_number_domain(number)),
        ]
        leaves += phone_leaves(number, "partner_id")
        return expression.OR([[leaf] for leaf in leaves])

    def action_logistics_open_tickets(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_logistics.action_logistics_tickets")
        action["domain"] = [("sale_id", "in", self.ids)]
        return action

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("shop_id") and not vals.get("audit_state"):
                vals["audit_state"] = "to_audit"
        return super().create(vals_list)

    # ------------------------------------------------------------------ audit state

    def _check_audit_transition(self, target):
        labels = dict(self._fields["audit_state"]._description_selection(self.env))
        for order in self:
            if target not in AUDIT_TRANSITIONS.get(order.audit_state, set()):
                raise UserError(
                    self.env._(
                        "Order %(order)s cannot go from %(current)s to %(target)s.",
                        order=order.display_name,
                        current=labels.get(order.audit_state, self.env._("no audit state")),
                        target=labels[target],
                    )
                )

    def _logistics_hold(self, reason, detail=False):
        """Put the orders on hold for ``reason`` (a key of HOLD_REASONS) with a detail for the clerk: a text,
        or an ``_lt(...)`` message, which each reader then sees in their own language."""
        if reason not in dict(HOLD_REASONS):
            raise UserError(self.env._("Unknown hold reason: %s", reason))
        self.filtered(lambda order: order.audit_state != "on_hold")._check_audit_transition("on_hold")
        self.env["logistics.order.hold"].create(
            [{"order_id": order.id, "reason": reason, "detail": detail} for order in self]
        )
        self.write({"audit_state": "on_hold"})

    def action_logistics_hold(self):
        self._logistics_hold("manual", _lt("Held by %s", self.env.user.name))

    def action_logistics_approve(self):
        self._check_audit_transition("approved")
        self.active_hold_ids._resolve()
        self.write({"audit_state": "approved"})

    def action_logistics_release(self):
        """Release held orders: their hold reasons are resolved and the orders approved."""
        not_held = self.filtered(lambda order: order.audit_state != "on_hold")
        if not_held:
            raise UserError(
                self.env._("Only orders on hold can be released: %s", ", ".join(not_held.mapped("display_name")))
            )
        self.action_logistics_approve()

    def action_logistics_reaudit(self):
        self._check_audit_transition("to_audit")
        self.write({"audit_state": "to_audit"})

    # ------------------------------------------------------------------ workbench

    @api.model
    def _logistics_domain(self, queue):
        return [("shop_id", "!=", False), ("audit_state", "=", queue), ("state", "!=", "cancel")]

    @api.model
    def _logistics_queue_action(self, queue):
        xmlid = {
            "to_audit": "shop_logistics.action_orders_to_audit",
            "on_hold": "shop_logistics.action_orders_on_hold",
        }[queue]
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = self._logistics_domain(queue)
        return action
