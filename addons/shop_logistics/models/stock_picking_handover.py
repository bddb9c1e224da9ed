"""Stock deducted when the carrier takes the parcel: the delivery is validated through Odoo's own moves.

A delivery the carrier collected (pickup push, first scans, or a later state when the first ones were missed) is
validated with the quantities reserved for it, without the validation wizards. One that is not fully reserved
stays open with a message and a warning activity, and is tried again by a scheduled action. Nothing here raises
to the caller: the track processors go on with the other shipments.
"""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import split_every

from .. import logistics_state as ls
from .sale_order_stock import FORCE_RESERVE

_logger = logging.getLogger(__name__)

# The states that say the carrier has the parcel.
COLLECTED_STATES = (ls.HANDED_OVER, ls.IN_TRANSIT, ls.OUT_FOR_DELIVERY, ls.DELIVERED)
# Context key: mark collected deliveries To Deduct and let the caller validate them all at the end of its batch
# (``_logistics_deduct_pending_stock``) instead of one by one.
DEFER_DEDUCTION = "logistics_defer_stock_deduction"
RETRY_BATCH = 500


class StockPicking(models.Model):
    _inherit = "stock.picking"

    handover_stock_state = fields.Selection(
        [("pending", "To Deduct"), ("short", "Not Enough Stock")],
        string="Stock at Hand-over",
        copy=False,
        readonly=True,
        index=True,
        help="The carrier has the parcel but the delivery is not validated yet. To Deduct: it is being validated "
        "with its batch. Not Enough Stock: not everything was reserved, so no stock was deducted; the delivery is "
        "tried again every hour, or validate it yourself.",
    )

    def _logistics_after_state_change(self, target, now, *args, **kwargs):
        result = super()._logistics_after_state_change(target, now, *args, **kwargs)
        if target in COLLECTED_STATES:
            collected = self._logistics_open_deliveries()
            if self.env.context.get(DEFER_DEDUCTION):
                collected.filtered(lambda picking: not picking.handover_stock_state).handover_stock_state = "pending"
            else:
                collected._logistics_deduct_stock()
        return result

    def _action_done(self):
        result = super()._action_done()
        self.filtered(lambda picking: picking.state == "done" and picking.handover_stock_state)._logistics_clear_short_stock()
        return result

    def action_cancel(self):
        result = super().action_cancel()
        self.filtered(lambda picking: picking.state == "cancel" and picking.handover_stock_state)._logistics_clear_short_stock()
        return result

    # ------------------------------------------------------------------ deduction

    def _logistics_open_deliveries(self):
        return self.filtered(
            lambda picking: picking.picking_type_code == "outgoing" and picking.state not in ("draft", "done", "cancel")
        )

    def _logistics_fully_reserved(self):
        self.ensure_one()
        moves = self.move_ids.filtered(lambda move: move.state not in ("done", "cancel"))
        return bool(moves) and all(move.state == "assigned" for move in moves)

    def _logistics_deduct_pending_stock(self):
        """Validate, in one go, the deliveries a batch marked To Deduct."""
        return self.filtered(lambda picking: picking.handover_stock_state == "pending")._logistics_deduct_stock()

    def _logistics_deduct_stock(self):
        """Validate the collected deliveries that are fully reserved (reserving what is missing first); the others
        stay open, flagged Not Enough Stock. Returns the deliveries left open."""
        deliveries = self._logistics_open_deliveries()
        if not deliveries:
            return self.browse()
        errors = {}
        deliveries._logistics_reserve_missing(errors)
        ready = deliveries.filtered(lambda picking: picking._logistics_fully_reserved())
        ready._logistics_validate_reserved(errors)
        short = deliveries.filtered(lambda picking: picking.state != "done")
        short._logistics_flag_short_stock(errors)
        return short

    def _logistics_reserve_missing(self, errors):
        missing = self.filtered(lambda picking: not picking._logistics_fully_reserved())
        if not missing:
            return
        try:
            with self.env.cr.savepoint():
                # The parcel left: its order's audit state no longer decides whether it may reserve.
                missing.with_context(**{FORCE_RESERVE: True}).action_assign()
        except (UserError, ValidationError) as error:
            _logger.info("Reserving collected deliveries %s failed: %s", missing.ids, error)
            errors.update(dict.fromkeys(missing, str(error.args[0])))

    def _logistics_validate_reserved(self, errors):
        """``_action_done`` with the reserved quantities as picked: the whole batch at once, and one by one only
        when the batch fails, so one bad delivery does not keep the others open."""
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                self._logistics_validate_as_reserved()
            return
        except (UserError, ValidationError) as error:
            if len(self) == 1:
                errors[self] = str(error.args[0])
                return
            _logger.info("Validating %s collected deliveries at once failed (%s); one by one now", len(self), error)
        for picking in self:
            try:
                with self.env.cr.savepoint():
                    picking._logistics_validate_as_reserved()
            except (UserError, ValidationError) as error:
                errors[picking] = str(error.args[0])

    def _logistics_validate_as_reserved(self):
        self.move_ids.filtered(lambda move: move.state not in ("done", "cancel")).picked = True
        # The shop's own buyer notifications tell the buyer; Odoo's delivery SMS would be a second message.
        self.with_context(skip_sms=True, cancel_backorder=False)._action_done()

    def _logistics_flag_short_stock(self, errors):
        """A message and a warning activity on the deliveries that just came short; then all of them flagged."""
        newly = self.filtered(lambda picking: picking.handover_stock_state != "short")
        for picking in newly:
            body = picking._logistics_short_stock_message(errors.get(picking))
            picking.message_post(body=body, message_type="notification", subtype_xmlid="mail.mt_note")
            picking.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=self.env._("Handed to the carrier, stock not deducted"),
                note=body,
                user_id=(picking.user_id or picking.sale_id.user_id or self.env.user).id,
            )
        if newly:
            newly.handover_stock_state = "short"

    def _logistics_short_stock_message(self, error=None):
        self.ensure_one()
        lines = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(product)s: %(reserved)s of %(demand)s %(uom)s reserved",
                product=move.product_id.display_name,
                reserved=move.quantity,
                demand=move.product_uom_qty,
                uom=move.product_uom.name,
            )
            for move in self.move_ids
            if move.state not in ("done", "cancel", "assigned")
        )
        body = Markup("<p>%s</p>") % self.env._(
            "The carrier has the parcel, but the delivery could not be validated, so no stock was deducted."
        )
        if lines:
            body += Markup("<ul>%s</ul>") % lines
        if error:
            body += Markup("<p>%s</p>") % error
        body += Markup("<p>%s</p>") % self.env._(
            "The delivery stays open and is tried again every hour; validate it yourself once the stock is right."
        )
        return body

    def _logistics_clear_short_stock(self):
        short = self.filtered(lambda picking: picking.handover_stock_state == "short")
        self.handover_stock_state = False
        if short:
            short.activity_feedback(
                ["mail.mail_activity_data_warning"], feedback=self.env._("The delivery is no longer waiting for stock.")
            )

    @api.model
    def _cron_logistics_deduct_collected_stock(self, batch_size=RETRY_BATCH):
        """Validate the collected deliveries still open (a batch left them To Deduct, or they were short of
        stock), ``batch_size`` at a time."""
        pickings = self.search(
            [("handover_stock_state", "!=", False), ("state", "not in", ("draft", "done", "cancel"))],
            order="logistics_state_date, id",
        )
        for batch in split_every(batch_size, pickings.ids, self.browse):
            batch._logistics_deduct_stock()
        return pickings
