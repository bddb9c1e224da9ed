"""WooCommerce REST API v3 — reference §8."""

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, quote, urlsplit

from .base import (
    CANCELLED,
    CLOSED,
    COMPLETED,
    FLAG_ON_HOLD,
    PAID,
    PUSH_OTHER,
    UNPAID,
    LineFields,
    OrderFields,
    PlatformClient,
    PushEvent,
    address_from,
    decimal_amount,
    epoch_seconds,
    format_iso_utc,
    header,
    joined,
    load_json,
    parse_iso,
    platform_error,
    push_kind,
    text,
    to_int,
)

API_PATH = "/wp-json/wc/v3"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

STATUS_TABLE = {
    "pending": UNPAID,
    "checkout-draft": UNPAID,
    # on-hold = awaiting payment confirmation (e.g. bank transfer): not shippable yet.
    "on-hold": (UNPAID, FLAG_ON_HOLD),
    "processing": PAID,
    "completed": COMPLETED,
    "cancelled": CANCELLED,
    "failed": CANCELLED,
    "trash": CANCELLED,
    "refunded": CLOSED,
}


def rfc3986(value):
    return quote(text(value), safe="~")


def oauth1_signature(method, url, params, consumer_secret, signature_method="HMAC-SHA256"):
    """OAuth 1.0a one-legged signature (RFC 5849 §3.4) as WooCommerce checks it over plain HTTP: key =
    consumer secret + "&". WooCommerce's own normalisation quirks are UNCONFIRMED (§8.1)."""
    pairs = sorted((rfc3986(key), rfc3986(value)) for key, value in params.items() if key != "oauth_signature")
    normalized = "&".join(f"{key}={value}" for key, value in pairs)
    parts = urlsplit(url)
    base_string = "&".join(
        [method.upper(), rfc3986(f"{parts.scheme}://{parts.netloc}{parts.path}"), rfc3986(normalized)]
    )
    digestmod = hashlib.sha1 if signature_method == "HMAC-SHA1" else hashlib.sha256
    digest = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(), digestmod).digest()
    return base64.b64encode(digest).decode()


def woo_error(response, payload):
    status = response.status_code
    payload = payload if isinstance(payload, dict) else {}
    message = f"woocommerce: HTTP {status}: {text(payload.get('message') or response.text[:200])}"
    return platform_error(message, payload.get("code") or status, auth=status == 401, rate_limited=status == 429)


ORDER_FIELDS = OrderFields(
    platform_order_id="id",
    platform_status="status",
    created_at="date_created_gmt",
    paid_at="date_paid_gmt",
    modified_at="date_modified_gmt",
    shipping_amount="shipping_total",
    discount_amount="discount_total",
    paid_amount="total",
    buyer_nick=(joined("billing.first_name", "billing.last_name"), "billing.email"),
    buyer_remark="customer_note",
    currency="currency",
    moment=parse_iso,
)
LINE_FIELDS = LineFields(
    platform_line_id="id",
    platform_sku_id=lambda item: item.get("variation_id") or item.get("product_id"),  # 0 = no variation
    merchant_code="sku",
    title="name",
    quantity="quantity",
    unit_price="price",
    amount="total",
)
RECEIVER_FIELDS = {
    "name": joined("shipping.first_name", "shipping.last_name"),
    "mobile": ("shipping.phone", "billing.phone"),
    "province": "shipping.state",
    "city": "shipping.city",
    "street": joined("shipping.address_1", "shipping.address_2"),
    "zip": "shipping.postcode",
    "country_code": "shipping.country",
}


class WooCommerceClient(PlatformClient):
    """app_key/app_secret = consumer key/secret; base_url (or shop_ref) = the site URL.

    `auth_mode`: "basic" (HTTP Basic), "query" (keys as query parameters), "oauth1", or "auto": Basic over
    HTTPS and to a loopback host (a local simulator: the keys never leave the machine), OAuth 1.0a otherwise.
    """

    code = "woocommerce"
    page_size = 100
    currency = "USD"

    def __init__(self, *args, auth_mode="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.auth_mode = auth_mode
        if API_PATH not in self.base_url:
            self.base_url += API_PATH

    def _production_url(self):
        if not text(self.shop_ref).startswith(("http://", "https://")):
            raise ValueError("woocommerce: give the site URL as base_url (or shop_ref)")
        return self.shop_ref

    def sign(self, params, method="GET", url=None):
        return oauth1_signature(method, url or self.base_url, params, self.app_secret)

    def _resolved_auth_mode(self):
        if self.auth_mode != "auto":
            return self.auth_mode
        parts = urlsplit(self.base_url)
        return "basic" if parts.scheme == "https" or parts.hostname in LOOPBACK_HOSTS else "oauth1"

    def _authenticated(self, method, url, params):
        """(query params, requests auth) for one call."""
        mode = self._resolved_auth_mode()
        if mode == "basic":
            return params, (self.app_key, self.app_secret)
        if mode == "query":
            return dict(params, consumer_key=self.app_key, consumer_secret=self.app_secret), None
        oauth = dict(
            params,
            oauth_consumer_key=self.app_key,
            oauth_timestamp=str(epoch_seconds(self._now())),
            oauth_nonce=secrets.token_hex(16),
            oauth_signature_method="HMAC-SHA256",
        )
        oauth["oauth_signature"] = self.sign(oauth, method, url)
        return oauth, None

    def _rest(self, method, path, params=None, json_body=None):
        url = f"{self.base_url}/{path}"
        query, auth = self._authenticated(method, url, {key: text(value) for key, value in (params or {}).items()})
        response = self._send(method, url, params=query, json=json_body, auth=auth)
        payload = self._decode(response)
        if not response.ok:
            raise woo_error(response, payload)
        return payload, response

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 1)
        orders, response = self._rest(
            "GET",
            "orders",
            {
                "modified_after": format_iso_utc(start)[:19],
                "modified_before": format_iso_utc(end)[:19],
                "dates_are_gmt": "true",
                "status": "any",
                "orderby": "modified",
                "order": "asc",
                "page": page,
                "per_page": self.page_size,
            },
        )
        has_more = page < to_int(response.headers.get("X-WP-TotalPages"))
        return self._page(orders, page, has_more)

    def fetch_order(self, platform_order_id):
        order, _response = self._rest("GET", f"orders/{platform_order_id}")
        return self.parse_order(order)

    def parse_order(self, order):
        return self._canonical_order(
            order,
            ORDER_FIELDS,
            lines=[LINE_FIELDS.line(item) for item in order.get("line_items") or []],
            receiver=address_from(order, RECEIVER_FIELDS, encrypted=False, raw=order.get("shipping") or {}),
            status_table=STATUS_TABLE,
            total_amount=sum(
                (decimal_amount(item.get("subtotal")) for item in order.get("line_items") or []), decimal_amount(0)
            ),
        )

    # -- shipping and credentials ------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        """Core WooCommerce has no tracking object: complete the order and leave a customer note (§8.2 f)."""
        self._refuse_partial_shipment(line_ids)
        order, _response = self._rest("PUT", f"orders/{platform_order_id}", json_body={"status": "completed"})
        note, _response = self._rest(
            "POST",
            f"orders/{platform_order_id}/notes",
            json_body={"note": f"Shipped via {carrier_code}, waybill {waybill}", "customer_note": True},
        )
        return {"order": order, "note": note}

    def refresh_access_token(self):
        raise platform_error("woocommerce: REST keys do not expire; generate new keys in WooCommerce", auth=True)

    # -- webhooks ----------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """`X-WC-Webhook-Signature` = base64(HMAC-SHA256(webhook secret, raw body)) (§8.3)."""
        return self._hmac_push_is_authentic(headers, body, "X-WC-Webhook-Signature")

    def parse_push(self, headers, body):
        topic = text(header(headers, "X-WC-Webhook-Topic"))
        payload = self._webhook_payload(body)
        is_order = topic.startswith("order.") and "id" in payload
        return [
            PushEvent(
                kind=push_kind(topic) if is_order else PUSH_OTHER,
                platform_order_id=text(payload.get("id")) if is_order else "",
                order=self.parse_order(payload) if is_order and "line_items" in payload else None,
                raw=payload,
                topic=topic,
                event_id=text(header(headers, "X-WC-Webhook-Delivery-ID")),
            )
        ]

    @staticmethod
    def _webhook_payload(body):
        """JSON, or the form-encoded ping (`webhook_id=N`) some versions send on creation."""
        try:
            payload = load_json(body)
        except ValueError:
            form = parse_qs(body.decode() if isinstance(body, bytes) else body)
            return {key: values[0] for key, values in form.items()}
        return payload if isinstance(payload, dict) else {"items": payload}
