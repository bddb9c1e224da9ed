import json
import logging
import time

from odoo import api, fields, models

from .. import platforms

_logger = logging.getLogger(__name__)

# Platforms that do not push over HTTP: their messages wait on a channel Odoo reads (TOP TMC, PDD websocket).
MESSAGE_CHANNEL_PLATFORMS = ("taobao", "tmall", "pinduoduo")
# A PDD websocket session ends after this long without a message, or after LISTEN_LIMIT seconds in all.
IDLE_SECONDS = 3.0
LISTEN_LIMIT = 40.0
TMC_BATCH = 100
TMC_ROUNDS = 20


class LogisticsShop(models.Model):
    _inherit = "logistics.shop"

    message_url = fields.Char(
        string="Message Service URL",
        groups="shop_logistics.group_logistics_manager",
        help="Pinduoduo's message websocket (wss://message-api.pinduoduo.com); empty for the default.",
    )
    messages_permitted = fields.Boolean(
        string="Messages Subscribed",
        readonly=True,
        copy=False,
        help="The seller is subscribed to the platform's order messages (done at the first read).",
    )

    @api.model
    def _cron_platform_messages(self):
        """Queue a read of the message channel of every shop that has one."""
        shops = self.search([("sync_enabled", "=", True), ("platform", "in", MESSAGE_CHANNEL_PLATFORMS)])
        for shop in shops:
            shop.with_delay(
                channel="root.shop_import",
                identity_key=f"platform-messages-{shop.id}",
                description=self.env._("Read platform messages of %s", shop.display_name),
            )._platform_consume_messages()
        return shops

    def _platform_consume_messages(self):
        """Read the messages waiting for this shop; returns how many orders they brought."""
        self.ensure_one()
        client = self._platform_client()
        started = time.monotonic()
        log = self.env["logistics.sync.log"].create({"shop_id": self.id, "operation": "push"})
        totals = {"received": 0, "created": 0, "updated": 0, "errors": 0}
        errors = []
        try:
            if not self.messages_permitted:
                self._platform_call(client, client.permit_messages)
                self.messages_permitted = True
            if self.platform == "pinduoduo":
                self._platform_listen_websocket(client, totals, errors)
            else:
                self._platform_consume_tmc(client, totals, errors)
            state = "partial" if totals["errors"] else "done"
        except (platforms.PlatformError, OSError) as error:
            errors.append(str(error))
            state = "failed"
        except Exception as error:  # noqa: BLE001 - websocket library errors; the log keeps them
            _logger.exception("Message channel of shop %s failed", self.code)
            errors.append(str(error) or error.__class__.__name__)
            state = "failed"
        log._close(state, started, totals, errors)
        return totals["received"]

    def _platform_take_events(self, client, events, totals, errors):
        """Turn message events into orders, durably: they are committed before the platform hears back."""
        events = [event for event in events if event.platform_order_id or event.order]
        orders = [event.order or self._platform_call(client, client.fetch_order, event.platform_order_id)
                  for event in events]
        # Committed on its own cursor, so an acknowledged message can never be lost with a rolled-back job.
        with self.env.registry.cursor() as cr:
            shop = self.with_env(self.env(cr=cr))
            counts = shop._platform_receive(orders, "push")
        totals["received"] += len(orders)
        for key in ("created", "updated", "errors"):
            totals[key] += counts[key]
        if counts["error_text"]:
            errors.append(counts["error_text"])

    def _platform_consume_tmc(self, client, totals, errors):
        for _round in range(TMC_ROUNDS):
            events = self._platform_call(client, client.consume_messages, TMC_BATCH)
            if not events:
                return
            self._platform_take_events(client, events, totals, errors)
            client.confirm_messages([event.event_id for event in events if event.event_id])

    def _platform_listen_websocket(self, client, totals, errors):
        import websocket  # websocket-client, imported here so the add-on loads without it

        if self.sudo().message_url:
            client.message_host = self.sudo().message_url
        connection = websocket.create_connection(
            client.message_url(int(time.time() * 1000)), timeout=IDLE_SECONDS
        )
        deadline = time.monotonic() + LISTEN_LIMIT
        last_message = time.monotonic()
        try:
            # Heartbeats keep the socket busy: the session ends when no order message came for a while.
            while time.monotonic() < min(deadline, last_message + IDLE_SECONDS):
                try:
                    text = connection.recv()
                except websocket.WebSocketTimeoutException:
                    return
                frame = json.loads(text) if text else {}
                if frame.get("commandType", "Common") != "Common":
                    continue
                events = client.parse_push({}, text.encode())
                self._platform_take_events(client, events, totals, errors)
                connection.send(json.dumps(client.ack_frame(frame)))
                last_message = time.monotonic()
        finally:
            connection.close()
