import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import platforms

_logger = logging.getLogger(__name__)


def _newer(canonical, other):
    """Whether a canonical order is a later version than another of the same order."""
    return bool(canonical.modified_at and (not other.modified_at or canonical.modified_at > other.modified_at))


# A shop is late when nothing was pulled for this many sync intervals.
LATE_AFTER_INTERVALS = 3


class LogisticsShop(models.Model):
    _inherit = "logistics.shop"

    sync_log_ids = fields.One2many("logistics.sync.log", "shop_id", string="Sync Log")
    sync_log_count = fields.Integer(compute="_compute_sync_log_count")
    inbox_error_count = fields.Integer(compute="_compute_inbox_error_count", string="Payloads in Error")
    ship_back_failed_count = fields.Integer(compute="_compute_ship_back_failed_count", string="Ship-backs Failed")
    sync_late = fields.Boolean(
        string="Sync Late", readonly=True, copy=False, help="No successful pull for several sync intervals."
    )
    sync_page_size = fields.Integer(
        string="Page Size",
        help="Orders asked per page when pulling; empty for the platform's maximum. Lower it for a shop that "
        "hits the platform's rate limits.",
    )
    sync_pilot = fields.Boolean(
        string="Pilot (Gray Release)",
        help="Import this shop's orders to check them, but confirm nothing automatically and send nothing back to "
        "the platform. Pilot one shop first, then switch it off.",
    )

    def _compute_sync_log_count(self):
        counts = dict(self.env["logistics.sync.log"]._read_group([("shop_id", "in", self.ids)], ["shop_id"], ["__count"]))
        for shop in self:
            shop.sync_log_count = counts.get(shop, 0)

    def _compute_inbox_error_count(self):
        counts = dict(
            self.env["logistics.platform.inbox"]._read_group(
                [("shop_id", "in", self.ids), ("state", "=", "error")], ["shop_id"], ["__count"]
            )
        )
        for shop in self:
            shop.inbox_error_count = counts.get(shop, 0)

    def _compute_ship_back_failed_count(self):
        counts = dict(
            self.env["stock.picking"]._read_group(
                [("shop_id", "in", self.ids), ("platform_ship_state", "=", "failed")], ["shop_id"], ["__count"]
            )
        )
        for shop in self:
            shop.ship_back_failed_count = counts.get(shop, 0)

    def action_open_ship_back_failed(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("platform_connectors.action_pickings_ship_back_failed")
        action["domain"] = [("shop_id", "=", self.id), ("platform_ship_state", "=", "failed")]
        return action

    def action_open_sync_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("platform_connectors.action_logistics_sync_log")
        action["domain"] = [("shop_id", "=", self.id)]
        action["context"] = {"default_shop_id": self.id}
        return action

    # ------------------------------------------------------------------ client

    def _platform_client(self):
        self.ensure_one()
        if self.platform not in platforms.CLIENTS:
            raise UserError(self.env._("Shop %s has no platform connector.", self.display_name))
        shop = self.sudo()
        return platforms.get_client(
            self.platform,
            app_key=shop.app_key or "",
            app_secret=shop.app_secret or "",
            access_token=shop.access_token or None,
            refresh_token=shop.refresh_token or None,
            base_url=shop.api_url or None,
            shop_ref=shop.platform_shop_id or None,
            webhook_secret=shop.webhook_secret or None,
            page_size=shop.sync_page_size or None,
        )

    def _platform_store_token(self, client):
        self.sudo().write(
            {
                "access_token": client.access_token,
                "refresh_token": getattr(client, "refresh_token", None) or self.sudo().refresh_token,
            }
        )

    # ------------------------------------------------------------------ receive

    def _platform_receive(self, canonical_orders, source):
        """Keep every payload in the inbox, then turn it into a sale order; returns the counts."""
        self.ensure_one()
        inbox = self.env["logistics.platform.inbox"].create(
            [
                {
                    "shop_id": self.id,
                    "platform_order_id": order.platform_order_id,
                    "source": source,
                    "payload": order.raw,
                }
                for order in canonical_orders
            ]
        )
        return self._platform_process_payloads(inbox, canonical_orders)

    def _platform_process_payloads(self, messages, canonical_orders):
        counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
        errors = []
        pairs = list(zip(messages, canonical_orders))
        created = self._platform_create_new_orders(pairs)
        counts["created"] += len(created)
        for message, canonical in pairs:
            if message in created:
                continue
            try:
                with self.env.cr.savepoint():
                    order, outcome = self.env["sale.order"]._platform_upsert(self, canonical)
                    message.write({"state": "done", "order_id": order.id, "error": False})
                counts[outcome] += 1
            except Exception as error:  # noqa: BLE001 - the payload stays in the inbox with the error
                counts["errors"] += 1
                errors.append(f"{canonical.platform_order_id}: {error}")
                message.write({"state": "error", "error": str(error)})
        counts["error_text"] = "\n".join(errors)
        return counts

    def _platform_create_new_orders(self, pairs):
        """Create the orders of a page that are not in Odoo yet in one batch (``sale.order._platform_create_batch``),
        in a savepoint: if anything in the batch fails it is rolled back and every payload goes through
        ``_platform_upsert`` one by one, where each failure stays with its own payload. Returns the inbox messages
        done here."""
        done = self.env["logistics.platform.inbox"]
        if len(pairs) < 2:
            return done
        ids = [canonical.platform_order_id for _message, canonical in pairs]
        existing = self.env["sale.order"].with_context(active_test=False).search_fetch(
            [("shop_id", "=", self.id), ("platform_order_id", "in", ids)], ["platform_order_id"]
        )
        known = set(existing.mapped("platform_order_id"))
        # An order sent twice (pushes resent, or a push and its update) is created from its latest version;
        # the others then go one by one, where an older version is skipped.
        latest = {}
        for message, canonical in pairs:
            if canonical.platform_order_id in known:
                continue
            current = latest.get(canonical.platform_order_id)
            if current is None or _newer(canonical, current[1]):
                latest[canonical.platform_order_id] = (message, canonical)
        new = list(latest.values())
        if len(new) < 2:
            return done
        try:
            with self.env.cr.savepoint():
                orders = self.env["sale.order"]._platform_create_batch(self, [canonical for _message, canonical in new])
                for (message, _canonical), order in zip(new, orders):
                    message.write({"state": "done", "order_id": order.id, "error": False})
        except Exception as error:  # noqa: BLE001 - each payload is tried again on its own
            _logger.info("Batch of %s new orders of shop %s rolled back (%s): one by one", len(new), self.code, error)
            return done
        for message, _canonical in new:
            done |= message
        return done

    # ------------------------------------------------------------------ pull

    def action_sync_now(self):
        for shop in self:
            shop._platform_pull()
        return True

    def _platform_pull(self, now=None):
        """Pull orders modified since the cursor (minus the overlap window), in the platform's window size."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        start = (self.sync_cursor or now - timedelta(days=1)) - timedelta(minutes=self.sync_overlap or 0)
        log = self.env["logistics.sync.log"].create(
            {"shop_id": self.id, "operation": "pull", "window_start": start, "window_end": now}
        )
        started = time.monotonic()
        totals = {"created": 0, "updated": 0, "skipped": 0, "errors": 0, "received": 0}
        errors = []
        client = self._platform_client()
        try:
            for window_start, window_end in client.split_window(start, now):
                self._platform_pull_window(client, window_start, window_end, totals, errors)
            self.sudo().write({"sync_cursor": now, "last_sync_at": fields.Datetime.now()})
            state = "partial" if totals["errors"] else "done"
        except platforms.PlatformError as error:
            errors.append(str(error))
            state = "failed"
        log._close(state, started, totals, errors)
        return log

    def _platform_pull_window(self, client, start, end, totals, errors):
        cursor = None
        while True:
            page = self._platform_fetch_page(client, start, end, cursor)
            counts = self._platform_receive(page.orders, "pull")
            totals["received"] += len(page.orders)
            for key in ("created", "updated", "skipped", "errors"):
                totals[key] += counts[key]
            if counts["error_text"]:
                errors.append(counts["error_text"])
            if not page.has_more:
                return
            cursor = page.next_cursor

    def _platform_fetch_page(self, client, start, end, cursor):
        return self._platform_call(client, client.fetch_orders, start, end, cursor)

    def _platform_call(self, client, method, *args):
        """Call the platform; an expired token is refreshed (and stored) once, then the call is made again."""
        try:
            return method(*args)
        except platforms.AuthExpired:
            client.refresh_access_token()
            self._platform_store_token(client)
            return method(*args)

    def _platform_label(self):
        return dict(self._fields["platform"]._description_selection(self.env)).get(self.platform, self.platform)

    # ------------------------------------------------------------------ schedule

    @api.model
    def _cron_platform_sync(self):
        """Queue a pull for every shop whose interval has passed, and flag the shops that fell behind."""
        now = fields.Datetime.now()
        shops = self.search([("sync_enabled", "=", True), ("platform", "in", list(platforms.CLIENTS))])
        for shop in shops.filtered(lambda s: s._platform_pull_due(now)):
            shop.with_delay(
                channel="root.shop_import",
                identity_key=f"platform-pull-{shop.id}",
                description=self.env._("Pull orders of %s", shop.display_name),
            )._platform_pull_job()
        shops._platform_flag_late(now)
        self._platform_requeue_stale_pushes()
        return shops

    def _platform_pull_due(self, now):
        return not self.last_sync_at or self.last_sync_at <= now - timedelta(minutes=self.sync_interval or 5)

    def _platform_pull_job(self):
        # A failed pull is not raised: its log must stay, and the next scheduled run is the retry.
        log = self._platform_pull()
        return f"{log.state}: {log.received_count} received, {log.created_count} created, {log.updated_count} updated"

    def _platform_flag_late(self, now):
        for shop in self:
            limit = timedelta(minutes=(shop.sync_interval or 5) * LATE_AFTER_INTERVALS)
            late = bool(shop.last_sync_at and shop.last_sync_at < now - limit)
            if late and not shop.sync_late:
                shop.message_post(
                    body=self.env._(
                        "No orders pulled from %(shop)s since %(since)s: check its credentials and the sync log.",
                        shop=shop.display_name,
                        since=fields.Datetime.to_string(shop.last_sync_at),
                    ),
                    message_type="notification",
                )
            if late != shop.sync_late:
                shop.sync_late = late
