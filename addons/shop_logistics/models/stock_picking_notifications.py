import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

from .. import exception_rules as er

_logger = logging.getLogger(__name__)

# Deliveries per notification job when many move at once.
NOTIFY_BATCH = 100
# The shop switch of each buyer notification.
EVENT_SWITCHES = {
    "shipped": "notify_shipped",
    "out_for_delivery": "notify_out_for_delivery",
    "exception": "notify_exception",
    "delivered": "notify_delivered",
}
CHANNEL_SWITCHES = {"email": "notify_by_email", "sms": "notify_by_sms"}
TEMPLATES = {
    ("shipped", "email"): "shop_logistics.mail_template_shipment_shipped",
    ("out_for_delivery", "email"): "shop_logistics.mail_template_shipment_out_for_delivery",
    ("exception", "email"): "shop_logistics.mail_template_shipment_exception",
    ("delivered", "email"): "shop_logistics.mail_template_shipment_delivered",
    ("shipped", "sms"): "shop_logistics.sms_template_shipment_shipped",
    ("out_for_delivery", "sms"): "shop_logistics.sms_template_shipment_out_for_delivery",
    ("exception", "sms"): "shop_logistics.sms_template_shipment_exception",
    ("delivered", "sms"): "shop_logistics.sms_template_shipment_delivered",
}


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_notification_ids = fields.One2many(
        "logistics.notification", "picking_id", string="Buyer Notifications", readonly=True
    )
    # What the buyer notifications show: the parcel, never the people.
    logistics_tracking_url = fields.Char(string="Tracking Link", compute="_compute_logistics_notice_values")
    logistics_order_reference = fields.Char(string="Order Reference", compute="_compute_logistics_notice_values")
    logistics_expected_date = fields.Date(string="Expected Delivery Date", compute="_compute_logistics_notice_values")
    logistics_notification_lang = fields.Char(string="Notification Language", compute="_compute_logistics_notice_values")

    @api.depends("waybill_number", "sale_id.platform_order_id", "sale_id.name", "shop_id.notification_lang")
    def _compute_logistics_notice_values(self):
        for picking in self:
            picking.logistics_tracking_url = picking._logistics_tracking_url() if picking.id else False
            picking.logistics_order_reference = (
                picking.sale_id.platform_order_id or picking.sale_id.name or picking.origin or picking.name
            )
            picking.logistics_expected_date = picking._logistics_expected_date()
            picking.logistics_notification_lang = picking.shop_id.notification_lang or picking.partner_id.lang or False

    def _send_confirmation_email(self):
        """Odoo's own "your order is shipped" text (stock_sms) would double ours: shops that text their buyers
        on shipping skip it."""
        ours = self.filtered(lambda p: p.shop_id.notify_shipped and p.shop_id.notify_by_sms)
        super(StockPicking, self - ours)._send_confirmation_email()
        if ours:
            super(StockPicking, ours.with_context(skip_sms=True))._send_confirmation_email()

    # ------------------------------------------------------------------ queueing

    def _logistics_notify(self, event, ref=""):
        """Queue the buyer notification of ``event`` for the deliveries whose shop sends it: one job for a
        delivery, one per NOTIFY_BATCH deliveries that moved together (a track refresh moves hundreds)."""
        for batch in split_every(NOTIFY_BATCH, self._logistics_notifiable(event).ids, self.browse):
            if len(batch) == 1:
                batch.with_delay(
                    channel="root.notify",
                    identity_key=f"logistics-notify-{batch.id}-{event}-{ref}",
                    description=self.env._("Notify the buyer of %s", batch.display_name),
                )._logistics_send_notification(event, ref)
            else:
                batch.with_delay(
                    channel="root.notify",
                    description=self.env._("Notify the buyers of %s deliveries", len(batch)),
                )._logistics_send_notifications(event, ref)

    def _logistics_send_notifications(self, event, ref=""):
        """Queue job: the notification of ``event`` to the buyer of each delivery, each in its own savepoint
        (one delivery's failure does not hold back the others' notices, nor sends them twice on a retry: what
        was sent is logged and not sent again)."""
        results = {}
        for picking in self:
            try:
                with self.env.cr.savepoint():
                    results[picking.id] = picking._logistics_send_notification(event, ref)
            except UserError as error:
                _logger.warning("Buyer notification %s of %s failed: %s", event, picking.display_name, error)
                results[picking.id] = str(error)
        return results

    def _logistics_notifiable(self, event):
        switch = EVENT_SWITCHES[event]
        return self.filtered(
            lambda p: p.shop_id[switch] and any(p.shop_id[field] for field in CHANNEL_SWITCHES.values())
        )

    # ------------------------------------------------------------------ sending

    def _logistics_send_notification(self, event, ref=""):
        """Queue job: send the notification of ``event`` by each channel the shop uses, at most once each.

        Runs as the superuser: whoever moved the shipment, the buyer hears from the shop."""
        self.ensure_one()
        self = self.sudo()  # noqa: PLW0642
        if not self._logistics_notifiable(event):
            return "switched off"
        if event == "shipped" and not self.waybill_number:
            return "no waybill yet"
        already = self.logistics_notification_ids.filtered(lambda n: n.event == event and n.ref == ref)
        sent = []
        for channel, switch in CHANNEL_SWITCHES.items():
            if self.shop_id[switch] and channel not in already.mapped("channel"):
                sent.append(self._logistics_send_by(event, channel, ref).state)
        return ", ".join(sent) or "already sent"

    def _logistics_send_by(self, event, channel, ref):
        ticket = self.env["logistics.ticket"].browse(int(ref)) if event == "exception" and ref.isdigit() else None
        log = self.env["logistics.notification"].create(
            {
                "picking_id": self.id,
                "event": event,
                "channel": channel,
                "ref": ref,
                "ticket_id": ticket.id if ticket else False,
            }
        )
        reason = self._logistics_cannot_notify(channel)
        if reason:
            log.write({"state": "skipped", "note": reason})
            return log
        template = self.env.ref(TEMPLATES[(event, channel)], raise_if_not_found=False)
        if not template:
            log.write({"state": "failed", "note": self.env._("The template of this notification was deleted.")})
            return log
        template = template.with_context(**self._logistics_notice_context(template, ticket))
        if channel == "email":
            mail_id = template.send_mail(self.id, email_layout_xmlid="mail.mail_notification_light")
            log.mail_id = mail_id
        else:
            log.message_id = self._message_sms_with_template(template=template, put_in_queue=True)
        return log

    def _logistics_cannot_notify(self, channel):
        """Why the buyer cannot get the notification by ``channel``, or False."""
        if channel == "email" and not self.partner_id.email:
            return self.env._("The receiver has no email address.")
        if channel == "sms" and not self._sms_get_recipients_info()[self.id]["sanitized"]:
            return self.env._("The receiver has no valid mobile number.")
        return False

    def _logistics_notice_context(self, template, ticket):
        """Values the exception templates show, in the language they are rendered in."""
        if not ticket:
            return {}
        lang = template._render_lang(self.ids)[self.id] or self.env.lang
        picking = self.with_context(lang=lang)
        labels = dict(ticket._fields["kind"]._description_selection(picking.env))
        return {
            "logistics_problem": labels.get(ticket.kind, ""),
            "logistics_next_step": picking._logistics_next_step_text(ticket.kind),
        }

    def _logistics_next_step_text(self, kind):
        """What happens next, told to the buyer, for each kind of problem."""
        _ = self.env._
        delay = _(
            "We have not had news of your parcel for a while. We have asked the carrier to locate it; if it cannot "
            "be found we will send a new one or refund you."
        )
        texts = {
            er.DELIVERY_FAILED: _(
                "The courier could not hand over your parcel. They will try again, usually within a day; you can "
                "also call the courier with the waybill number."
            ),
            er.ADDRESS_PROBLEM: _(
                "The courier needs a more precise address. Our customer service will contact you to confirm it, "
                "then your parcel goes out again."
            ),
            er.NOT_COLLECTED: _(
                "Your parcel is waiting for you at a parcel locker or station. Please collect it soon: parcels "
                "left there too long are sent back."
            ),
            er.OVERDUE: _(
                "Your parcel is taking longer than expected. We are following it up with the carrier and will keep "
                "you informed."
            ),
            er.REFUSED: _(
                "Your parcel is on its way back to us. Once it arrives we will contact you about a refund or a new "
                "shipment."
            ),
            er.NO_UPDATE: delay,
            er.STUCK_AT_HUB: delay,
            er.LOST: delay,
        }
        texts[er.RETURNED] = texts[er.REFUSED]
        return texts.get(kind) or _("We are looking into it with the carrier and will keep you informed.")
