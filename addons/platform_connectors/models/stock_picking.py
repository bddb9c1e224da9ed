import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.shop_logistics import logistics_state as ls
from odoo.addons.shop_logistics.models.logistics_tracking import phone_tail

from .. import platforms

_logger = logging.getLogger(__name__)

# States in which the parcel has left the warehouse: the shop must know its waybill from then on.
SHIPPED_STATES = (ls.HANDED_OVER, ls.IN_TRANSIT, ls.OUT_FOR_DELIVERY, ls.DELIVERED)
# Canonical statuses after which the platform refuses (or no longer needs) a ship call.
ALREADY_SHIPPED_STATUSES = ("shipped", "completed")
CANCELLED_STATUSES = ("cancelled", "closed", "refunding")
# Automatic retries of a ship-back that failed for a passing reason (timeout, 5xx, rate limit), then it
# waits for a clerk; minutes before each retry.
RETRY_DELAYS = (1, 5, 15, 60, 240)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    platform_ship_state = fields.Selection(
        [
            ("pending", "Queued"),
            ("sent", "Sent"),
            ("failed", "Failed"),
            ("pilot", "Held (Pilot Shop)"),
        ],
        string="Ship-back",
        copy=False,
        readonly=True,
        index=True,
        tracking=True,
        help="Whether the waybill number went back to the shop's platform.",
    )
    platform_ship_error = fields.Text(string="Ship-back Error", copy=False, readonly=True)
    platform_ship_attempts = fields.Integer(string="Ship-back Attempts", copy=False, readonly=True)
    platform_ship_next_try = fields.Datetime(string="Next Automatic Try", copy=False, readonly=True)
    platform_shipped_at = fields.Datetime(string="Sent to Platform At", copy=False, readonly=True)
    platform_carrier_code = fields.Char(
        string="Platform Carrier Code", copy=False, readonly=True, help="The carrier code the platform was given."
    )

    # ------------------------------------------------------------------ receiver

    def _logistics_receiver(self):
        receiver = super()._logistics_receiver()
        order = self.sale_id
        if not (order.platform_receiver_protected and order.platform_raw and self.shop_id.platform in platforms.CLIENTS):
            return receiver
        client = self.shop_id._platform_client()
        try:
            canonical = client.parse_order(order.platform_raw)
            plain = self.shop_id._platform_call(client, client.decrypt_receiver, canonical)
        except platforms.PlatformError as error:
            raise UserError(
                self.env._("The receiver of %(order)s could not be decrypted by the platform: %(error)s",
                           order=order.name, error=error)
            ) from error
        if plain.encrypted and any(platforms.looks_encrypted(value) for value in (plain.name, plain.mobile)):
            raise UserError(self.env._("The platform did not decrypt every receiver field of %s.", order.name))
        # The phone's last 4 digits let the buyer find the parcel on the tracking page; nothing else is kept.
        tail = phone_tail(plain.mobile) or phone_tail(plain.phone)
        if tail and tail != self.receiver_phone_tail:
            self.sudo().receiver_phone_tail = tail
        # In memory only: decrypted buyer data is never stored.
        return receiver.new(
            {
                "name": plain.name or receiver.name,
                "mobile": plain.mobile or False,
                "phone": plain.phone or False,
                "street": "".join(part for part in (plain.district, plain.street) if part) or receiver.street,
                "city": receiver.city,
                "zip": receiver.zip,
                "state_id": receiver.state_id.id,
                "country_id": receiver.country_id.id,
            }
        )

    # ------------------------------------------------------------------ trigger

    def _set_logistics_state(self, target, reason=False):
        leaving = self.filtered(lambda p: target in SHIPPED_STATES and p.logistics_state not in SHIPPED_STATES)
        result = super()._set_logistics_state(target, reason)
        leaving._platform_queue_ship_back()
        return result

    def _platform_ship_back_candidates(self):
        return self.filtered(
            lambda p: p.picking_type_code == "outgoing"
            and p.sale_id.platform_order_id
            and p.shop_id.platform in platforms.CLIENTS
            and p.platform_ship_state != "sent"
        )

    def _platform_queue_ship_back(self, delay_minutes=0):
        candidates = self._platform_ship_back_candidates()
        pilot = candidates.filtered(lambda p: p.shop_id.sync_pilot)
        pilot.write({"platform_ship_state": "pilot", "platform_ship_next_try": False})
        for picking in candidates - pilot:
            eta = fields.Datetime.now() + timedelta(minutes=delay_minutes) if delay_minutes else None
            picking.write({"platform_ship_state": "pending", "platform_ship_next_try": eta or False})
            picking.with_delay(
                channel="root.ship_back",
                eta=eta,
                identity_key=f"platform-ship-back-{picking.id}-{picking.platform_ship_attempts}",
                description=self.env._("Send waybill of %s to the shop", picking.display_name),
            )._platform_ship_back_job()
        return candidates

    # ------------------------------------------------------------------ send

    def action_platform_ship_back(self):
        """Send now (the button): a clerk's retry starts a new round of automatic retries."""
        candidates = self._platform_ship_back_candidates()
        candidates.write({"platform_ship_attempts": 0})
        for picking in candidates:
            picking._platform_ship_back(manual=True)
        sent = candidates.filtered(lambda p: p.platform_ship_state == "sent")
        failed = candidates - sent
        message = self.env._("%(sent)s of %(total)s waybills sent to the shops.", sent=len(sent), total=len(candidates))
        if failed:
            message += " " + self.env._("Failed: %s", "; ".join(f"{p.name}: {p.platform_ship_error}" for p in failed))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Ship-back"),
                "message": message,
                "type": "warning" if failed else "success",
                "sticky": bool(failed),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _platform_ship_back_job(self):
        self.ensure_one()
        if self.platform_ship_state == "sent":
            return "already sent"
        self._platform_ship_back()
        return f"{self.platform_ship_state}: {self.platform_ship_error or self.waybill_number}"

    def _platform_ship_back(self, manual=False):
        """Tell the platform this delivery left with its waybill. Never raises: the outcome is on the record."""
        self.ensure_one()
        shop = self.shop_id
        problem = self._platform_ship_back_problem()
        if problem:
            return self._platform_ship_failed(problem, retryable=False)
        if shop.sync_pilot and not manual:
            self.platform_ship_state = "pilot"
            return False
        code = self._platform_carrier_code()
        log = self.env["logistics.sync.log"].create({"shop_id": shop.id, "operation": "ship_back"})
        started = time.monotonic()
        try:
            outcome = self._platform_send_shipment(code)
        except platforms.PlatformError as error:
            retryable = error.retryable
            message = str(error)
        except Exception as error:  # noqa: BLE001 - an unexpected answer must not lose the retry
            _logger.exception("Ship-back of %s failed unexpectedly", self.display_name)
            retryable, message = True, str(error) or error.__class__.__name__
        else:
            log.write({"state": "done", "duration": time.monotonic() - started, "updated_count": 1,
                       "error_message": outcome or False})
            return self._platform_ship_done(code, outcome)
        log.write({"state": "failed", "duration": time.monotonic() - started, "error_count": 1,
                   "error_message": f"{self.name} ({self.platform_order_id}): {message}"})
        return self._platform_ship_failed(
            self.env._("The platform refused the shipment: %s", message), retryable=retryable
        )

    def _platform_ship_back_problem(self):
        """Why this delivery cannot be sent at all until someone fixes it, or False."""
        if not self.waybill_number:
            return self.env._("The delivery has no waybill number.")
        if not self._platform_carrier_code():
            return self.env._(
                "No %(platform)s code for carrier %(carrier)s: add it under Configuration > Platform Carrier Codes.",
                platform=self.shop_id._platform_label(),
                carrier=self.carrier_account_id.express_code or self.carrier_id.name or self.env._("(none)"),
            )
        return False

    def _platform_carrier_code(self):
        express_code = self.carrier_account_id.express_code
        code = self.env["logistics.platform.carrier"]._code_for(self.shop_id.platform, express_code)
        if not code and self.shop_id.platform in ("shopify", "woocommerce"):
            # Both take the carrier's name as free text.
            code = self.carrier_account_id.name or self.carrier_id.name
        return code

    def _platform_send_shipment(self, code):
        """Re-check the order on the platform, then ship it. Returns a note for the log, or raises PlatformError."""
        shop = self.shop_id
        client = shop._platform_client()
        current = shop._platform_call(client, client.fetch_order, self.platform_order_id)
        if current.status in CANCELLED_STATUSES:
            self.sale_id.platform_after_sales = True
            raise platforms.PlatformError(
                self.env._("the order is %s on the platform; it was not marked shipped.", current.platform_status)
            )
        if current.status in ALREADY_SHIPPED_STATUSES:
            return self.env._("The platform already shows the order shipped (%s).", current.platform_status)
        shop._platform_call(
            client, client.confirm_shipment, self.platform_order_id, self.waybill_number, code,
            self._platform_shipped_line_ids(),
        )
        return False

    def _platform_shipped_line_ids(self):
        """Platform line ids when this delivery carries only part of the order (a split), else None."""
        all_lines = set(self.sale_id.order_line.filtered("platform_line_id").mapped("platform_line_id"))
        shipped = set(self.move_ids.sale_line_id.filtered("platform_line_id").mapped("platform_line_id"))
        if not shipped or shipped == all_lines:
            return None
        return sorted(shipped)

    def _platform_ship_done(self, code, note):
        self.write(
            {
                "platform_ship_state": "sent",
                "platform_ship_error": False,
                "platform_ship_next_try": False,
                "platform_shipped_at": fields.Datetime.now(),
                "platform_carrier_code": code,
            }
        )
        self.sale_id.message_post(
            body=note
            or self.env._(
                "Waybill %(waybill)s (carrier code %(code)s) sent to %(shop)s.",
                waybill=self.waybill_number,
                code=code,
                shop=self.shop_id.display_name,
            )
        )
        return True

    def _platform_ship_failed(self, message, retryable):
        attempts = self.platform_ship_attempts + 1
        self.write({"platform_ship_state": "failed", "platform_ship_error": message, "platform_ship_attempts": attempts})
        if retryable and attempts <= len(RETRY_DELAYS):
            self._platform_queue_ship_back(delay_minutes=RETRY_DELAYS[attempts - 1])
            # Still failed in the clerk's eyes until the retry gets through.
            self.platform_ship_state = "failed"
        else:
            self.platform_ship_next_try = False
            self.sale_id.message_post(
                body=self.env._("Waybill %(waybill)s was not sent to the shop: %(error)s",
                                waybill=self.waybill_number or "-", error=message),
                message_type="notification",
            )
        return False

    @api.model
    def _cron_platform_ship_back_pending(self):
        """Queue again deliveries left pending without a job (e.g. pilot switched off, job deleted)."""
        stale = self.search(
            [
                ("platform_ship_state", "in", ("pending", "pilot")),
                "|",
                ("platform_ship_next_try", "=", False),
                ("platform_ship_next_try", "<", fields.Datetime.now() - timedelta(hours=1)),
                ("write_date", "<", fields.Datetime.now() - timedelta(minutes=30)),
            ]
        )
        stale = stale.filtered(lambda p: not (p.platform_ship_state == "pilot" and p.shop_id.sync_pilot))
        return stale._platform_queue_ship_back()

