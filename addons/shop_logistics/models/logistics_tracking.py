import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import get_lang

from .. import logistics_state as ls

# Failed lookups an address may make in WINDOW before it must wait (guessing 4 digits takes 10,000 tries).
MAX_FAILURES = 10
WINDOW = timedelta(minutes=10)
NUMBER = re.compile(r"^[A-Za-z0-9\-_]{4,40}$")
TAIL = re.compile(r"^\d{4}$")


class LogisticsTrackingAttempt(models.Model):
    """One lookup on the public tracking page, kept a day to rate-limit guessing."""

    _name = "logistics.tracking.attempt"
    _description = "Tracking Page Lookup"
    _log_access = False

    ip = fields.Char(required=True, index=True)
    success = fields.Boolean()
    created_at = fields.Datetime(required=True, default=fields.Datetime.now, index=True)

    @api.model
    def _blocked_until(self, ip, now=None):
        """When ``ip`` may try again, or False when it may now."""
        now = now or fields.Datetime.now()
        failures = self.search(
            [("ip", "=", ip), ("success", "=", False), ("created_at", ">", now - WINDOW)], order="created_at"
        )
        if len(failures) < MAX_FAILURES:
            return False
        return failures[-MAX_FAILURES].created_at + WINDOW

    @api.autovacuum
    def _gc_old_attempts(self):
        self.search([("created_at", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()


class StockPicking(models.Model):
    _inherit = "stock.picking"

    receiver_phone_tail = fields.Char(
        string="Receiver Phone (last 4)",
        compute="_compute_receiver_phone_tail",
        store=True,
        readonly=False,
        copy=False,
        help="What a buyer types on the public tracking page to prove the parcel is theirs.",
    )

    @api.depends("partner_id.mobile", "partner_id.phone")
    def _compute_receiver_phone_tail(self):
        for picking in self:
            # Encrypted phones give none here; the shop connector sets it when the platform decrypts.
            picking.receiver_phone_tail = phone_tail(picking.partner_id.mobile) or phone_tail(picking.partner_id.phone)

    def _logistics_expected_date(self):
        """Expected delivery date given by the carrier; carrier connectors fill it in."""
        return False

    def _logistics_tracking_url(self):
        self.ensure_one()
        base = self.get_base_url()
        return f"{base}/track?ref={self.waybill_number or ''}"

    @api.model
    def _logistics_track_lookup(self, number, digits):
        """The delivery a buyer may see: found by waybill, order or platform order number AND the last four
        digits of the receiver's phone. Anything else is "not found", whether or not the number exists."""
        number = (number or "").strip()
        digits = (digits or "").strip()
        if not (NUMBER.match(number) and TAIL.match(digits)):
            return self.browse()
        # The orders first, each number through its own index: an OR reaching into the orders from the deliveries
        # would make PostgreSQL read every outgoing delivery.
        order_ids = self.env["sale.order"]._search(
            ["|", ("name", "=", number), ("platform_order_id", "=", number)]
        ).get_result_ids()
        numbers = [("waybill_number", "=", number)]
        if order_ids:
            numbers = ["|", *numbers, ("sale_id", "in", order_ids)]
        candidates = self.search_fetch(
            [
                *numbers,
                ("receiver_phone_tail", "=", digits),
                ("picking_type_code", "=", "outgoing"),
                ("state", "!=", "cancel"),
            ],
            ["waybill_number", "carrier_id", "partner_id", "logistics_state"],  # what the page shows next
            order="id desc",
        )
        with_waybill = candidates.filtered("waybill_number")
        return (with_waybill or candidates)[:1]

    def _logistics_public_view(self):
        """What the public page shows: the parcel, never the people."""
        self.ensure_one()
        states = dict(self._fields["logistics_state"]._description_selection(self.env))
        lang = get_lang(self.env)
        time_format = f"{lang.date_format} {lang.time_format}"
        self.env.user.partner_id.fetch(["tz"])  # the reader's time zone, without the rest of the contact
        # Only what the page shows: deliveries and contacts are wide rows.
        self.fetch(["carrier_id", "partner_id", "logistics_state"])
        self.carrier_id.fetch(["name"])
        self.partner_id.fetch(["city", "state_id"])
        events = self.env["logistics.shipment.event"].search_fetch(
            [("picking_id", "=", self.id)], ["event_time", "location", "description"], order="event_time desc, id desc"
        )
        return {
            "carrier": self.carrier_id.name or "",
            "waybill": self.waybill_number or "",
            "state": self.logistics_state,
            "state_label": states.get(self.logistics_state, ""),
            "problem": self.logistics_state in (ls.EXCEPTION, ls.RETURNED),
            "destination": self.partner_id.city or self.partner_id.state_id.name or "",
            "expected_date": self._logistics_expected_dates().get(self.id, False),
            "events": [
                {
                    "time": event.event_time,
                    "time_text": self._logistics_public_time(event.event_time, time_format),
                    "location": event.location or "",
                    "description": event.description or "",
                }
                for event in events
            ],
        }

    def _logistics_public_time(self, value, time_format):
        """``value`` as QWeb's datetime widget shows it (reader's time zone, language's date and time formats),
        without the widget's per-value locale lookups: a parcel has a dozen events."""
        return fields.Datetime.context_timestamp(self, value).strftime(time_format)


PHONE_CHARS = set("0123456789+-() *")


def phone_tail(value):
    """Last 4 digits of a plain or masked (138****8000) phone; nothing from a platform ciphertext."""
    value = value or ""
    if not value or not set(value) <= PHONE_CHARS:
        return False
    digits = "".join(char for char in value if char.isdigit())
    return digits[-4:] if len(digits) >= 7 else False
