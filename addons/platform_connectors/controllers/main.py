import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import platforms

_logger = logging.getLogger(__name__)

# What each platform expects back from a webhook (reference, per platform); others accept any 2xx.
ACCEPTED_BODY = {
    "douyin": {"code": 0, "msg": "success"},
    "youzan": {"code": 0, "msg": "success"},
    "kuaishou": {"result": 1},
}


class PlatformPushController(http.Controller):
    @http.route(
        "/platform/push/<string:shop_code>", type="http", auth="public", methods=["POST"], csrf=False, save_session=False
    )
    def platform_push(self, shop_code, **_params):
        """A shop's webhook: verify the platform's signature, keep the payload and queue it; the answer goes once
        the payload is committed (the order is made by the shops' inbox job, see logistics_shop_push_queue)."""
        env = request.env(user=SUPERUSER_ID, su=True)
        shop = env["logistics.shop"].search([("code", "=", shop_code), ("sync_enabled", "=", True)], limit=1)
        if not shop:
            return self._answer(None, 404, {"error": "unknown shop"})
        client = shop._platform_client()
        headers = {key: value for key, value in request.httprequest.headers.items()}
        body = request.httprequest.get_data()
        if not client.verify_push(headers, body):
            _logger.warning("Refused a %s push for shop %s: bad signature", shop.platform, shop.code)
            return self._answer(shop, 401, {"error": "invalid signature"})
        try:
            events = client.parse_push(headers, body)
            orders = [self._event_order(client, event) for event in events if event.platform_order_id or event.order]
        except (platforms.PlatformError, ValueError, KeyError, TypeError) as error:
            _logger.warning("Could not read a %s push for shop %s: %s", shop.platform, shop.code, error)
            self._keep_unreadable(shop, body, error)
            return self._answer(shop, 400, {"error": "unreadable payload"})
        shop._platform_queue_pushed([order for order in orders if order])
        return self._answer(shop, 200, ACCEPTED_BODY.get(shop.platform, {"ok": True}))

    @staticmethod
    def _event_order(client, event):
        # Some pushes carry only the order id: the order itself is read from the platform.
        return event.order or client.fetch_order(event.platform_order_id)

    @staticmethod
    def _keep_unreadable(shop, body, error):
        shop.env["logistics.platform.inbox"].create(
            {
                "shop_id": shop.id,
                "source": "push",
                "payload": {"body": body.decode("utf-8", "replace")},
                "state": "error",
                "error": str(error),
            }
        )

    @staticmethod
    def _answer(shop, status, body):
        return request.make_response(
            json.dumps(body), headers=[("Content-Type", "application/json")], status=status
        )
