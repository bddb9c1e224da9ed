import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .. import logistics_state as ls
from .logistics_ticket import OPEN_STATES

_logger = logging.getLogger(__name__)

LOGISTICS_STATES = [
    (ls.TO_ROUTE, "To Route"),
    (ls.ROUTED, "Routed"),
    (ls.WAYBILL_ISSUED, "Waybill Issued"),
    (ls.PRINTED, "Printed"),
    (ls.HANDED_OVER, "Handed to Carrier"),
    (ls.IN_TRANSIT, "In Transit"),
    (ls.OUT_FOR_DELIVERY, "Out for Delivery"),
    (ls.DELIVERED, "Delivered"),
    (ls.EXCEPTION, "Exception"),
    (ls.RETURNED, "Returned"),
    (ls.CANCELLED, "Cancelled"),
]


# The buyer notification a shipment's move sends.
NOTIFIED_STATES = {
    ls.HANDED_OVER: "shipped",
    ls.IN_TRANSIT: "shipped",
    ls.OUT_FOR_DELIVERY: "out_for_delivery",
    ls.DELIVERED: "delivered",
}


class StockPicking(models.Model):
    _inherit = "stock.picking"

    shop_id = fields.Many2one(related="sale_id.shop_id", store=True, string="Shop", index=True)
    platform = fields.Selection(related="sale_id.shop_id.platform", store=True, string="Platform")
    platform_order_id = fields.Char(related="sale_id.platform_order_id", string="Platform Order ID")
    logistics_warehouse_id = fields.Many2one(
        related="picking_type_id.warehouse_id", store=True, string="Warehouse", index=True
    )
    logistics_state = fields.Selection(
        LOGISTICS_STATES, string="Logistics State", copy=False, index=True, tracking=True, readonly=True
    )
    logistics_state_date = fields.Datetime(string="Logistics State Since", copy=False, readonly=True)
    waybill_number = fields.Char(string="Waybill Number", copy=False, index=True, tracking=True)
    carrier_account_id = fields.Many2one(
        "logistics.carrier.account", string="Carrier Account", copy=False, check_company=True, tracking=True
    )
    label_attachment_id = fields.Many2one("ir.attachment", string="Label", copy=False)
    shipment_event_ids = fields.One2many("logistics.shipment.event", "picking_id", string="Track Events")
    last_track_event_id = fields.Many2one("logistics.shipment.event", string="Last Track Event", copy=False)
    last_track_event_time = fields.Datetime(
        related="last_track_event_id.event_time", store=True, string="Last Track Update"
    )
    is_logistics_exception = fields.Boolean(string="Exception", copy=False, index=True)
    logistics_exception_reason = fields.Char(string="Exception Reason", copy=False)
    logistics_any_number = fields.Char(
        string="Any Number",
        compute="_compute_logistics_any_number",
        search="_search_logistics_any_number",
        help="Order, platform order, delivery or waybill number, or the receiver's phone (or its last 4 digits).",
    )

    _sql_constraints = [
        (
            "waybill_carrier_account_uniq",
            "unique(waybill_number, carrier_account_id)",
            "This waybill number is already used by another delivery of the same carrier account.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        pickings = super().create(vals_list)
        outgoing = pickings.filtered(lambda p: p.picking_type_code == "outgoing" and not p.logistics_state)
        outgoing.write({"logistics_state": ls.TO_ROUTE, "logistics_state_date": fields.Datetime.now()})
        return pickings

    # ------------------------------------------------------------------ state machine

    def _state_label(self, state):
        return dict(self._fields["logistics_state"]._description_selection(self.env)).get(
            state, self.env._("none")
        )

    def _set_logistics_state(self, target, reason=False):
        """Move the shipments to ``target``; refuses an illegal transition with a message naming it."""
        for picking in self:
            if picking.logistics_state == target:
                continue
            if not ls.can_transition(picking.logistics_state, target):
                raise UserError(
                    self.env._(
                        "Delivery %(picking)s cannot go from %(current)s to %(target)s.",
                        picking=picking.display_name,
                        current=picking._state_label(picking.logistics_state),
                        target=picking._state_label(target),
                    )
                )
        moving = self.filtered(lambda picking: picking.logistics_state != target)
        # An open ticket keeps its delivery flagged (the tickets sync the flag), so only these can have one.
        flagged = moving.filtered("is_logistics_exception")
        now = fields.Datetime.now()
        values = {"logistics_state": target, "logistics_state_date": now}
        if target == ls.EXCEPTION:
            values.update(is_logistics_exception=True, logistics_exception_reason=reason or False)
        elif flagged:
            values.update(is_logistics_exception=False, logistics_exception_reason=False)
        moving.write(values)
        moving._logistics_after_state_change(target, now, flagged)
        return True

    def _logistics_after_state_change(self, target, now, flagged=None):
        """What follows a move: the label time, tickets closed on delivery, the exception flag and the buyer.
        ``flagged``: those of the shipments that were in exception before the move (default: all of them)."""
        if target == ls.PRINTED:
            self.write({"logistics_label_printed_at": now})
        elif target == ls.HANDED_OVER:
            self.filtered(lambda p: not p.logistics_label_printed_at).write({"logistics_label_printed_at": now})
        with_tickets = self if flagged is None else flagged
        tickets = self.env["logistics.ticket"]
        if with_tickets:
            tickets = tickets.search([("picking_id", "in", with_tickets.ids), ("state", "in", OPEN_STATES)])
        if target == ls.DELIVERED:
            tickets._close_delivered()
        elif tickets:
            tickets.picking_id._logistics_sync_exception_flag()
        event = NOTIFIED_STATES.get(target)
        if event:
            self._logistics_notify(event)

    def _advance_logistics_state(self, target):
        """Move the shipments for which ``target`` is a legal next state; leave the others as they are."""
        movable = self.filtered(lambda p: p.logistics_state and ls.can_transition(p.logistics_state, target))
        movable._set_logistics_state(target)
        return movable

    def action_logistics_flag_exception(self):
        self._set_logistics_state(ls.EXCEPTION, self.env._("Flagged by %s", self.env.user.name))

    def action_logistics_reroute(self):
        self._set_logistics_state(ls.TO_ROUTE)

    def _action_done(self):
        result = super()._action_done()
        self.filtered(lambda p: p.state == "done")._advance_logistics_state(ls.HANDED_OVER)
        return result

    def action_cancel(self):
        result = super().action_cancel()
        self.filtered(lambda p: p.state == "cancel")._advance_logistics_state(ls.CANCELLED)
        return result

    # ------------------------------------------------------------------ carrier integrations

    def _label_routing(self):
        """What the carrier returned with the waybill for its label: ``mark_destination`` (大头笔),
        ``sorting_code`` (三段码), ``package_name`` (集包地) and ``sub_waybills`` (the other parcels' numbers).
        Carrier integrations fill it; a missing key prints nothing."""
        self.ensure_one()
        return {}

    def _logistics_issue_waybills(self):
        """Get a waybill for the deliveries without one, each through its shipping method (Odoo's
        ``send_to_shipper``); one failing delivery does not stop the others. Returns ``{picking: message}``
        for the deliveries still without a waybill."""
        failures = {}
        for picking in self.filtered(lambda p: not p.waybill_number):
            try:
                with self.env.cr.savepoint():
                    picking._logistics_issue_waybill()
            except UserError as error:
                _logger.info("No waybill for %s: %s", picking.display_name, error)
                failures[picking] = str(error.args[0])
        return failures

    def _logistics_issue_waybill(self):
        if not self.carrier_id:
            raise UserError(self.env._("%s has no shipping method to issue its waybill.", self.display_name))
        self.send_to_shipper()
        if not self.waybill_number and self.carrier_tracking_ref:
            self.waybill_number = self.carrier_tracking_ref.split(",")[0]
        if not self.waybill_number:
            raise UserError(
                self.env._(
                    "%(method)s gave no waybill number for %(picking)s.",
                    method=self.carrier_id.display_name,
                    picking=self.display_name,
                )
            )
        if self.logistics_state in (ls.TO_ROUTE, ls.EXCEPTION):
            self._set_logistics_state(ls.ROUTED)
        if self.logistics_state == ls.ROUTED:
            self._set_logistics_state(ls.WAYBILL_ISSUED)

    # ------------------------------------------------------------------ tracking

    def _logistics_receiver(self):
        """The receiver to print and send to the carrier. Shop connectors whose platforms encrypt buyer data
        return an in-memory contact with the decrypted values (never stored)."""
        self.ensure_one()
        return self.partner_id

    def _update_last_track_event(self):
        if not self:
            return
        events = self.env["logistics.shipment.event"].search(
            [("picking_id", "in", self.ids)], order="event_time desc, id desc"
        )
        latest = {}
        for event in events:
            latest.setdefault(event.picking_id.id, event)
        for picking in self:
            event = latest.get(picking.id, self.env["logistics.shipment.event"])
            picking.write({"last_track_event_id": event.id, "logistics_carrier_problem": event.problem_kind or False})

    # ------------------------------------------------------------------ search by any number

    def _compute_logistics_any_number(self):
        self.logistics_any_number = False

    def _search_logistics_any_number(self, operator, value):
        if operator not in ("ilike", "=", "like", "=ilike") or not isinstance(value, str):
            raise UserError(self.env._("Search a number with 'contains' or 'is equal to'."))
        return self._logistics_number_domain(value)

    @api.model
    def _logistics_number_domain(self, number):
        """Deliveries whose order, platform order, delivery, waybill or receiver phone matches ``number``."""
        number = (number or "").strip()
        if not number:
            return []
        leaves = [
            ("name", "ilike", number),
            ("origin", "ilike", number),
            ("waybill_number", "ilike", number),
            ("carrier_tracking_ref", "ilike", number),
            ("sale_id.name", "ilike", number),
            ("sale_id.platform_order_id", "ilike", number),
        ]
        leaves += phone_leaves(number, "partner_id", "receiver_phone_tail")
        return expression.OR([[leaf] for leaf in leaves])

    # ------------------------------------------------------------------ workbench

    @api.model
    def _logistics_domain(self, queue):
        base = [("picking_type_code", "=", "outgoing"), ("state", "not in", ("cancel", "draft"))]
        return base + {
            "to_route": [("logistics_state", "=", ls.TO_ROUTE)],
            "to_print": [("logistics_state", "in", (ls.ROUTED, ls.WAYBILL_ISSUED))],
            "exception": [("is_logistics_exception", "=", True)],
        }[queue]

    @api.model
    def _logistics_queue_action(self, queue):
        xmlid = {
            "to_route": "shop_logistics.action_pickings_to_route",
            "to_print": "shop_logistics.action_pickings_to_print",
            "exception": "shop_logistics.action_pickings_exception",
        }[queue]
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = self._logistics_domain(queue)
        return action


PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]{7,20}$")


def phone_leaves(number, partner_path, tail_field=None):
    """Domain leaves matching a phone number (7+ digits) or, with ``tail_field``, the receiver's last 4 digits."""
    if re.fullmatch(r"\d{4}", number):
        return [(tail_field, "=", number)] if tail_field else []
    if PHONE_LIKE.match(number):
        digits = re.sub(r"\D", "", number)
        if len(digits) == 13 and digits.startswith("86"):  # +86 mainland mobile
            digits = digits[2:]
        return [(f"{partner_path}.phone_mobile_search", "ilike", digits)]
    return []
