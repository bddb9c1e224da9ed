"""Shopify Admin REST API — reference §7."""

from urllib.parse import parse_qs, urlsplit

from .base import (
    CANCELLED,
    CLOSED,
    COMPLETED,
    FLAG_PARTIALLY_SHIPPED,
    PAID,
    PUSH_ORDER,
    PUSH_OTHER,
    SHIPPED,
    UNPAID,
    FetchPage,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
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

# UNCONFIRMED choice: a stable version; Shopify serves the oldest supported one when a version is retired.
API_VERSION = "2025-01"
MAX_LIMIT = 250
OPEN_FULFILLMENT_ORDER_STATES = {"open", "in_progress"}
REFUNDED = {"refunded", "partially_refunded"}
UNPAID_FINANCIAL = {"pending", "authorized", "partially_paid"}


def shopify_status(order):
    """(status, flags) from financial_status, fulfillment_status, cancelled_at and closed_at (§7.3 c, §10.2)."""
    financial = text(order.get("financial_status"))
    fulfillment = text(order.get("fulfillment_status"))
    if order.get("cancelled_at"):
        return (CLOSED if financial in REFUNDED else CANCELLED), []
    if financial in ("refunded", "voided"):
        return (CLOSED if financial == "refunded" else CANCELLED), []
    if fulfillment == "fulfilled":
        return (COMPLETED if order.get("closed_at") else SHIPPED), []
    if order.get("closed_at"):
        return COMPLETED, []  # archived (§10.2 "completed: closed_at set")
    if financial in UNPAID_FINANCIAL:
        return UNPAID, []
    return PAID, [FLAG_PARTIALLY_SHIPPED] if fulfillment == "partial" else []


def next_page_info(response):
    """The `page_info` of the `Link: <…>; rel="next"` header, if any."""
    next_url = response.links.get("next", {}).get("url")
    if not next_url:
        return None
    return parse_qs(urlsplit(next_url).query).get("page_info", [None])[0]


def raw_status(order):
    parts = [text(order.get("financial_status")), text(order.get("fulfillment_status")) or "unfulfilled"]
    parts += [state for state in ("cancelled", "closed") if order.get(f"{state}_at")]
    return "/".join(parts)


ORDER_FIELDS = OrderFields(
    platform_order_id="id",
    platform_status=raw_status,
    created_at="created_at",
    modified_at="updated_at",
    total_amount="subtotal_price",
    shipping_amount="total_shipping_price_set.shop_money.amount",
    discount_amount="total_discounts",
    paid_amount="total_price",
    buyer_nick=(joined("customer.first_name", "customer.last_name"), "email"),
    buyer_remark="note",
    seller_memo="tags",
    currency="currency",
    moment=parse_iso,
)
LINE_FIELDS = LineFields(
    platform_line_id="id",
    platform_sku_id="variant_id",
    merchant_code="sku",
    title="title",
    variant="variant_title",
    quantity="quantity",
    unit_price="price",
)
RECEIVER_FIELDS = {
    "name": "name",
    "mobile": "phone",
    "province": "province",
    "city": "city",
    "street": joined("address1", "address2"),
    "zip": "zip",
    "country_code": "country_code",
}


def wanted_quantities(line_ids):
    """None for "all lines", else {line item id: quantity, or None for all that is left}."""
    if not line_ids:
        return None
    if isinstance(line_ids, dict):
        return {text(line_id): to_int(quantity) or None for line_id, quantity in line_ids.items()}
    return {text(line_id): None for line_id in line_ids}


def webhook_kind(topic):
    if topic.split("/")[0] in ("fulfillments", "fulfillment_orders"):
        return PUSH_ORDER
    return push_kind(topic)


def shopify_error(response, payload):
    status = response.status_code
    message = f"shopify: HTTP {status}: {text(payload.get('errors') if isinstance(payload, dict) else payload)}"
    error = platform_error(message, status, auth=status == 401, rate_limited=status == 429)
    error.retry_after = response.headers.get("Retry-After")
    return error


class ShopifyClient(PlatformClient):
    """`shop_ref` is the shop's myshopify name; `app_secret` (or `webhook_secret`) verifies webhooks."""

    code = "shopify"
    page_size = MAX_LIMIT
    currency = "USD"

    def __init__(self, *args, api_version=API_VERSION, **kwargs):
        super().__init__(*args, **kwargs)
        self.api_version = api_version

    def _production_url(self):
        shop = text(self.shop_ref).replace(".myshopify.com", "")
        return f"https://{shop}.myshopify.com"

    def _rest(self, method, resource, params=None, json_body=None):
        """(payload, response) of one Admin REST call; non-2xx answers raise."""
        response = self._send(
            method,
            f"{self.base_url}/admin/api/{self.api_version}/{resource}.json",
            params=params,
            json=json_body,
            headers={"X-Shopify-Access-Token": text(self.access_token)},
        )
        payload = self._decode(response) if response.content else {}
        if not response.ok:
            raise shopify_error(response, payload)
        return payload, response

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        if cursor:
            # A page_info request may carry nothing but page_info and limit (§7.3 a).
            params = {"page_info": cursor, "limit": self.page_size}
        else:
            self._check_window(start, end)
            params = {
                "status": "any",  # the default "open" hides cancelled and archived orders
                "updated_at_min": format_iso_utc(start),
                "updated_at_max": format_iso_utc(end),
                "limit": self.page_size,
            }
        payload, response = self._rest("GET", "orders", params=params)
        page_info = next_page_info(response)
        return FetchPage([self.parse_order(order) for order in payload.get("orders", [])], page_info, bool(page_info))

    def fetch_order(self, platform_order_id):
        payload, _response = self._rest("GET", f"orders/{platform_order_id}")
        return self.parse_order(payload["order"])

    def parse_order(self, order):
        status, flags = shopify_status(order)
        paid = text(order.get("financial_status")) not in UNPAID_FINANCIAL | {"voided"}
        return self._canonical_order(
            order,
            ORDER_FIELDS,
            lines=[LINE_FIELDS.line(item) for item in order.get("line_items") or []],
            # Not encrypted; without protected-customer-data access Shopify returns nulls instead.
            receiver=address_from(order.get("shipping_address") or {}, RECEIVER_FIELDS, encrypted=False),
            status=status,
            risk_flags=flags,
            # UNCONFIRMED: the exact payment time lives in transactions; processed_at is used once paid.
            paid_at=parse_iso(order.get("processed_at")) if paid else None,
        )

    # -- fulfilment --------------------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        """Fulfil through the order's open fulfilment orders; `carrier_code` is the carrier name Shopify knows
        (e.g. "SF Express"). `line_ids` may be line item ids or {line item id: quantity}."""
        payload, _response = self._rest("GET", f"orders/{platform_order_id}/fulfillment_orders")
        by_fulfillment_order = self._fulfillment_lines(payload.get("fulfillment_orders") or [], line_ids)
        if not by_fulfillment_order:
            raise PlatformError(f"shopify: order {platform_order_id} has nothing left to fulfil")
        fulfillment = {
            "line_items_by_fulfillment_order": by_fulfillment_order,
            "tracking_info": {"number": waybill, "company": carrier_code},
            "notify_customer": True,
        }
        payload, _response = self._rest("POST", "fulfillments", json_body={"fulfillment": fulfillment})
        return payload.get("fulfillment") or payload

    @staticmethod
    def _fulfillment_lines(fulfillment_orders, line_ids):
        wanted = wanted_quantities(line_ids)
        result = []
        for fulfillment_order in fulfillment_orders:
            if fulfillment_order.get("status") not in OPEN_FULFILLMENT_ORDER_STATES:
                continue
            entry = {"fulfillment_order_id": fulfillment_order["id"]}
            if wanted is not None:
                items = [
                    {
                        "id": item["id"],
                        "quantity": wanted[text(item.get("line_item_id"))] or item["fulfillable_quantity"],
                    }
                    for item in fulfillment_order.get("line_items") or []
                    if text(item.get("line_item_id")) in wanted
                ]
                if not items:
                    continue
                entry["fulfillment_order_line_items"] = items
            # Without line items Shopify fulfils everything left on that fulfilment order.
            result.append(entry)
        return result

    def refresh_access_token(self):
        # Admin API tokens of custom apps and offline OAuth tokens do not expire: re-install to get another.
        raise platform_error("shopify: access tokens cannot be refreshed; re-authorise the app", auth=True)

    # -- webhooks ----------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """`X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(client secret, raw body)) (§7.5)."""
        return self._hmac_push_is_authentic(headers, body, "X-Shopify-Hmac-Sha256")

    def parse_push(self, headers, body):
        topic = text(header(headers, "X-Shopify-Topic"))
        payload = load_json(body)
        resource = topic.split("/")[0]
        order = self.parse_order(payload) if resource == "orders" and "line_items" in payload else None
        order_id = payload.get("id") if resource == "orders" else payload.get("order_id")
        return [
            PushEvent(
                kind=webhook_kind(topic) if order_id else PUSH_OTHER,
                platform_order_id=text(order_id),
                order=order,
                raw=payload,
                topic=topic,
                event_id=text(header(headers, "X-Shopify-Webhook-Id")),
            )
        ]
