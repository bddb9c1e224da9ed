"""Shopify Admin REST API — reference §7 and §11.8.

Served under ``/admin/api/{version}/`` with header ``X-Shopify-Access-Token``:
``GET orders.json``, ``GET orders/count.json``, ``GET orders/{id}.json``,
``GET orders/{id}/fulfillment_orders.json``,
``POST fulfillments.json``, ``POST fulfillments/{id}/update_tracking.json``; and
``POST /admin/oauth/access_token`` (authorization-code exchange and, for expiring offline tokens,
``grant_type=refresh_token`` — not in the reference, UNCONFIRMED, added so a revoked/expired token
can be replaced). GraphQL is not simulated.

Versions: an unknown or unsupported ``{version}`` is served by the oldest supported one, echoed in
``X-Shopify-API-Version``. Rate limit: leaky bucket of 40 calls leaking 2 per second (wall clock),
``X-Shopify-Shop-Api-Call-Limit`` on every answer and 429 + ``Retry-After: 2.0`` when full.
Order status is ``financial_status`` (the record's native status) plus ``fulfillment_status``
(from fulfilments), ``cancelled_at`` and ``closed_at``.
Webhooks: every topic goes to ``webhook_url`` with ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256``
(Base64 HMAC-SHA256 of the raw body keyed with the app's client secret), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Triggered-At``,
``X-Shopify-Event-Id``; retried 8 times over 4 hours, duplicates keep the webhook id.
"""

import base64
import json
import threading
import time
import urllib.parse
import uuid
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import b64_hmac_sha256, compact_json, decoded_cursor, encoded_cursor, iso_text, md5_hex, parse_iso, yuan_text

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
FINANCIAL_KINDS = {"pending": "unpaid", "authorized": "unpaid", "partially_paid": "unpaid", "paid": "paid",
                   "partially_refunded": "paid", "refunded": "cancelled", "voided": "cancelled"}
TOPICS = {"created": "orders/create", "paid": "orders/paid", "updated": "orders/updated",
          "cancel": "orders/cancelled", "shipped": "orders/fulfilled", "completed": "orders/updated",
          "partially_shipped": "orders/partially_fulfilled", "refund": "refunds/create"}
PAGE_INFO_COMPANIONS = {"page_info", "limit", "fields"}


class LeakyBucket:
    def __init__(self, size=40, leak_per_second=2.0):
        self.size, self.rate = size, leak_per_second
        self.level, self._at = 0.0, time.monotonic()
        self._lock = threading.Lock()

    def take(self):
        """(allowed, level after the call)."""
        with self._lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self._at) * self.rate)
            self._at = now
            if self.level + 1 > self.size:
                return False, int(self.level)
            self.level += 1
            return True, int(round(self.level))


def page_info_token(filters, offset):
    return encoded_cursor(offset) + "." + base64.urlsafe_b64encode(compact_json(filters).encode()).decode()


def read_page_info(token):
    cursor, _, filters = token.partition(".")
    return json.loads(base64.urlsafe_b64decode(filters.encode()).decode()), decoded_cursor(cursor)


def errors(status, detail):
    return ApiError(Reply(status, {"errors": detail}))


class ShopifySimulator(PlatformSimulator):
    code = "shopify"
    DEFAULT_CREDENTIALS = {"app_key": "shopify_demo_client_id", "app_secret": "shpss_demo_secret",
                           "access_token": "shpat_demo_token"}
    TOKEN_PREFIX = "shpat_"
    TOKEN_LIFETIME = None  # offline tokens do not expire unless expire_token() is called
    REFRESH_LIFETIME = None
    PLAIN_PII = True
    STATUS_KINDS = FINANCIAL_KINDS
    STATUS_ALIASES = {
        "unpaid": {"status": "pending"}, "paid": {"status": "paid"},
        "shipped": {"fulfillment_status": "fulfilled"}, "completed": {"closed": True},
        "cancelled": {"cancelled": "customer", "status": "voided"},
        "refunded": {"status": "refunded", "cancelled": "customer"},
    }
    PUSH_EVENTS = TOPICS
    PUSH_RETRY_MINUTES = (1, 2, 5, 10, 20, 40, 60, 102)  # 8 retries over 4 h; schedule UNCONFIRMED
    OPTIONS = {
        "api_versions": ("2024-10", "2025-01", "2025-04", "2025-07", "2025-10"),
        "shop_domain": "haowu-demo.myshopify.com",
        "read_all_orders": False,  # without it only the last 60 days of orders are visible
        "currency": "CNY",
        "location_id": 655441491,
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bucket = LeakyBucket()
        self.fulfillments = {}
        self._order_numbers = {}

    # ----- gateway

    def api_name(self, request):
        return request.path.split("/", 4)[-1] if request.path.startswith("/admin/api/") else request.path

    def handle(self, request):
        if request.path == "/admin/oauth/access_token":
            return self._oauth(request)
        parts = request.path.strip("/").split("/")
        if len(parts) < 4 or parts[:2] != ["admin", "api"]:
            raise errors(404, "Not Found")
        version = parts[2] if parts[2] in self.options["api_versions"] else self.options["api_versions"][0]
        headers = {"X-Shopify-API-Version": version}
        allowed, level = self.bucket.take()
        headers["X-Shopify-Shop-Api-Call-Limit"] = f"{level}/{self.bucket.size}"
        if not allowed:
            return Reply(429, {"errors": THROTTLED}, headers={**headers, "Retry-After": "2.0"})
        try:
            if self.token_state(request.header("X-Shopify-Access-Token")) != "valid":
                raise errors(401, INVALID_TOKEN)
            reply = self._route(request, "/".join(parts[3:]), version)
        except ApiError as error:
            reply = error.reply
        reply.headers = {**headers, **reply.headers}
        return reply

    def _route(self, request, resource, version):
        segments = resource.removesuffix(".json").split("/")
        routes = {
            ("GET", 1, "orders"): lambda: self._list_orders(request, version),
            ("GET", 2, "orders"): lambda: (self._count_orders(request) if segments[1] == "count"
                                           else self._get_order(segments[1])),
            ("GET", 3, "orders"): lambda: self._fulfillment_orders(segments[1]),
            ("POST", 1, "fulfillments"): lambda: self._create_fulfillment(request),
            ("POST", 3, "fulfillments"): lambda: self._update_tracking(segments[1], request),
        }
        action = routes.get((request.method, len(segments), segments[0]))
        if action is None or (len(segments) == 3 and segments[2] not in ("fulfillment_orders", "update_tracking")):
            raise errors(404, "Not Found")
        return action()

    def fault_reply(self, kind):
        if kind == "rate_limit":
            return Reply(429, {"errors": THROTTLED}, headers={"Retry-After": "2.0"})
        return Reply(401, {"errors": INVALID_TOKEN})

    # ----- orders

    def new_order_id(self, rng):
        return f"82{rng.randint(10**15, 10**16 - 1)}"

    def new_line_id(self, order_id, index, count):
        return str(int(md5_hex(f"{order_id}:{index}")[:12], 16))

    def on_record_created(self, record):
        self._order_numbers[record.id] = 1001 + len(self._order_numbers)

    def apply_change(self, record, key, value):
        if key == "cancelled":
            record.cancelled = self.now() if value else None
            record.extra["cancel_reason"] = (value if isinstance(value, str) else "other") if value else None
            return True
        if key == "closed":
            record.finished = self.now() if value else None
            return True
        if key == "fulfillment_status":
            for line in record.lines:
                line.shipped_quantity = line.quantity if value == "fulfilled" else 0
            record.shipped = self.now() if value == "fulfilled" else None
            return True
        return False

    def kind(self, record):
        if record.cancelled:
            return "cancelled"
        if record.finished:
            return "completed"
        fulfilment = self.fulfillment_status(record)
        if fulfilment:
            return "shipped" if fulfilment == "fulfilled" else "partially_shipped"
        return FINANCIAL_KINDS[record.status]

    @staticmethod
    def fulfillment_status(record):
        shipped = [line.shipped_quantity for line in record.lines]
        if all(shipped[i] >= line.quantity for i, line in enumerate(record.lines)):
            return "fulfilled"
        return "partial" if any(shipped) else None

    def _money(self, amount):
        money = {"amount": yuan_text(amount), "currency_code": self.options["currency"]}
        return {"shop_money": money, "presentment_money": money}

    def _address(self, record):
        receiver = record.receiver
        return {"name": receiver["name"], "first_name": receiver["name"][1:], "last_name": receiver["name"][:1],
                "phone": "+86" + receiver["mobile"], "address1": receiver["district"] + receiver["address"],
                "address2": receiver.get("town", ""), "city": receiver["city"], "province": receiver["province"],
                "province_code": None, "country": "China", "country_code": "CN", "zip": receiver.get("zip", ""),
                "company": None}

    def render(self, record):
        number = self._order_numbers[record.id]
        email = f"{record.buyer_id}@example.com"
        customer_id = int(md5_hex(record.buyer_id)[:12], 16)
        return {
            "id": int(record.id), "admin_graphql_api_id": f"gid://shopify/Order/{record.id}",
            "name": f"#{number}", "order_number": number, "number": number - 1000,
            "created_at": iso_text(record.created), "updated_at": iso_text(record.modified),
            "processed_at": iso_text(record.paid or record.created), "cancelled_at": iso_text(record.cancelled),
            "cancel_reason": record.extra.get("cancel_reason"), "closed_at": iso_text(record.finished),
            "email": email, "phone": "+86" + record.receiver["mobile"], "currency": self.options["currency"],
            "presentment_currency": self.options["currency"], "financial_status": record.status,
            "fulfillment_status": self.fulfillment_status(record),
            "customer": {"id": customer_id, "email": email, "first_name": record.receiver["name"][1:],
                         "last_name": record.receiver["name"][:1]},
            "note": record.remark or None, "note_attributes": [], "tags": record.seller_memo,
            "total_price": yuan_text(record.payment), "subtotal_price": yuan_text(record.goods_total - record.discount),
            "total_line_items_price": yuan_text(record.goods_total), "total_discounts": yuan_text(record.discount),
            "total_tax": "0.00", "total_shipping_price_set": self._money(record.post_fee),
            "shipping_lines": [{"title": "标准快递", "price": yuan_text(record.post_fee), "code": "Standard"}],
            "shipping_address": self._address(record), "billing_address": self._address(record),
            "line_items": [self._line_item(line) for line in record.lines],
            "fulfillments": [f for f in self.fulfillments.values() if f["order_id"] == int(record.id)],
        }

    @staticmethod
    def _line_item(line):
        remaining = line.quantity - line.shipped_quantity
        return {"id": int(line.line_id), "variant_id": int(line.sku_id), "product_id": int(line.item_id),
                "sku": line.merchant_code, "title": line.title, "variant_title": line.spec or None,
                "name": f"{line.title} - {line.spec}" if line.spec else line.title, "quantity": line.quantity,
                "price": yuan_text(line.price), "fulfillable_quantity": remaining, "requires_shipping": True,
                "fulfillment_status": None if not line.shipped_quantity else (
                    "fulfilled" if not remaining else "partial")}

    # ----- REST resources

    def _visible(self, record):
        return self.options["read_all_orders"] or record.created >= self.now() - timedelta(days=60)

    def _list_orders(self, request, version):
        query = dict(request.query)
        limit = self._limit(query)
        if "page_info" in query:
            extra = set(query) - PAGE_INFO_COMPANIONS
            if extra:
                raise errors(400, {"page_info": [f"{sorted(extra)[0]} cannot be passed when page_info is present"]})
            try:
                filters, offset = read_page_info(query["page_info"])
            except ValueError:
                raise errors(400, {"page_info": ["Invalid value."]}) from None
        else:
            filters, offset = {k: v for k, v in query.items() if k not in PAGE_INFO_COMPANIONS}, 0
        found = self._filtered(filters)
        chunk = found[offset:offset + limit]
        links = self._links(version, filters, offset, limit, len(found))
        orders = [self._fields(self.native(r), query.get("fields")) for r in chunk]
        return Reply(200, {"orders": orders}, headers={"Link": links} if links else {})

    def _count_orders(self, request):
        """``GET orders/count.json``: how many orders the same filters list (default status=open)."""
        filters = {k: v for k, v in request.query.items() if k not in PAGE_INFO_COMPANIONS}
        return Reply(200, {"count": len(self._filtered(filters))})

    @staticmethod
    def _limit(query):
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            raise errors(400, {"limit": ["is not a number"]}) from None
        if not 1 <= limit <= 250:
            raise errors(400, {"limit": ["must be between 1 and 250"]})  # message UNCONFIRMED
        return limit

    def _filtered(self, filters):
        status = filters.get("status", "open")
        bounds = {name: parse_iso(filters[name]) for name in
                  ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max") if filters.get(name)}

        def keep(record):
            state = {"open": not record.cancelled and not record.finished, "closed": bool(record.finished),
                     "cancelled": bool(record.cancelled), "any": True}.get(status, False)
            return state and self._visible(record) and all(
                (getattr(record, "modified" if name.startswith("updated") else "created") >= bound)
                if name.endswith("min") else
                (getattr(record, "modified" if name.startswith("updated") else "created") <= bound)
                for name, bound in bounds.items()) and (
                not filters.get("financial_status") or filters["financial_status"] in ("any", record.status))

        return sorted((r for r in self.records.values() if keep(r)), key=lambda r: (r.created, r.id), reverse=True)

    def _links(self, version, filters, offset, limit, total):
        base = f"{self.base_url}/admin/api/{version}/orders.json"
        links = []
        if offset > 0:
            token = page_info_token(filters, max(0, offset - limit))
            links.append(f'<{base}?{urllib.parse.urlencode({"limit": limit, "page_info": token})}>; rel="previous"')
        if offset + limit < total:
            token = page_info_token(filters, offset + limit)
            links.append(f'<{base}?{urllib.parse.urlencode({"limit": limit, "page_info": token})}>; rel="next"')
        return ", ".join(links)

    @staticmethod
    def _fields(order, fields):
        wanted = [name.strip() for name in (fields or "").split(",") if name.strip()]
        return {name: order[name] for name in wanted if name in order} if wanted else order

    def _order(self, order_id):
        record = self.records.get(str(order_id))
        if record is None or not self._visible(record):
            raise errors(404, "Not Found")
        return record

    def _get_order(self, order_id):
        return Reply(200, {"order": self.native(self._order(order_id))})

    # ----- fulfilment

    @staticmethod
    def fulfillment_order_id(record):
        return int(md5_hex("fo:" + record.id)[:10], 16)

    def _fulfillment_order(self, record):
        remaining = [line for line in record.lines if line.shipped_quantity < line.quantity]
        status = "cancelled" if record.cancelled else "closed" if not remaining else (
            "in_progress" if any(line.shipped_quantity for line in record.lines) else "open")
        return {"id": self.fulfillment_order_id(record), "order_id": int(record.id), "status": status,
                "assigned_location_id": self.options["location_id"], "request_status": "unsubmitted",
                "line_items": [{"id": int(line.line_id) + 1, "line_item_id": int(line.line_id),
                                "quantity": line.quantity,
                                "fulfillable_quantity": line.quantity - line.shipped_quantity}
                               for line in record.lines]}

    def _fulfillment_orders(self, order_id):
        return Reply(200, {"fulfillment_orders": [self._fulfillment_order(self._order(order_id))]})

    def _create_fulfillment(self, request):
        body = (request.json_body() or {}).get("fulfillment") or {}
        groups = body.get("line_items_by_fulfillment_order") or []
        if not groups:
            raise errors(422, {"line_items_by_fulfillment_order": ["can't be blank"]})
        by_fo = {self.fulfillment_order_id(r): r for r in self.records.values()}
        shipped = []
        for group in groups:
            record = by_fo.get(int(group.get("fulfillment_order_id") or 0))
            if record is None:
                raise errors(404, "Not Found")
            shipped.append((record, self._take_quantities(record, group)))
        record = shipped[0][0]
        fulfillment = self._new_fulfillment(record, body.get("tracking_info") or {}, shipped)
        self.touch(record)
        self._auto_push(record, "shipped")
        return Reply(201, {"fulfillment": fulfillment})

    def _take_quantities(self, record, group):
        """Validate the requested quantities against what is left; (line, quantity) pairs."""
        fulfillment_order = self._fulfillment_order(record)
        if fulfillment_order["status"] in ("closed", "cancelled"):
            raise errors(422, [f"Fulfillment order {fulfillment_order['id']} has an unfulfillable status= "
                               f"{fulfillment_order['status']}."])
        by_item = {item["id"]: item for item in fulfillment_order["line_items"]}
        wanted = group.get("fulfillment_order_line_items") or [
            {"id": item["id"], "quantity": item["fulfillable_quantity"]} for item in by_item.values()
            if item["fulfillable_quantity"]]
        lines = {int(line.line_id): line for line in record.lines}
        pairs = []
        for item in wanted:
            known = by_item.get(int(item.get("id", 0)))
            if known is None or not 0 < int(item.get("quantity", 0)) <= known["fulfillable_quantity"]:
                raise errors(422, ["Invalid fulfillment order line item quantity requested."])
            pairs.append((lines[known["line_item_id"]], int(item["quantity"])))
        return pairs

    def _new_fulfillment(self, record, tracking, shipped):
        number = tracking.get("number") or (tracking.get("numbers") or [None])[0]
        fulfillment_id = int(md5_hex(f"f:{record.id}:{len(self.fulfillments)}")[:10], 16)
        earlier = sum(1 for known in self.fulfillments.values() if known["order_id"] == int(record.id))
        for _, pairs in shipped:
            for line, quantity in pairs:
                line.shipped_quantity += quantity
                line.waybill, line.carrier_code = number, tracking.get("company")
        if record.shipped is None:
            record.shipped = self.now()
        fulfillment = {
            "id": fulfillment_id, "order_id": int(record.id), "status": "success", "service": "manual",
            "name": f"#{self._order_numbers[record.id]}.{earlier + 1}",
            "created_at": iso_text(self.now()), "updated_at": iso_text(self.now()),
            "location_id": self.options["location_id"], "tracking_company": tracking.get("company"),
            "tracking_number": number, "tracking_numbers": [number] if number else [],
            "tracking_url": tracking.get("url"), "tracking_urls": [tracking["url"]] if tracking.get("url") else [],
            "line_items": [self._line_item(line) for _, pairs in shipped for line, _ in pairs],
        }
        self.fulfillments[fulfillment_id] = fulfillment
        self.shipments.append({"platform_order_id": record.id, "waybill": number,
                               "carrier_code": tracking.get("company"), "fulfillment_id": fulfillment_id,
                               "line_ids": [line.line_id for _, pairs in shipped for line, _ in pairs],
                               "time": iso_text(self.now())})
        return fulfillment

    def _update_tracking(self, fulfillment_id, request):
        fulfillment = self.fulfillments.get(int(fulfillment_id)) if fulfillment_id.isdigit() else None
        if fulfillment is None:
            raise errors(404, "Not Found")
        tracking = ((request.json_body() or {}).get("fulfillment") or {}).get("tracking_info") or {}
        number = tracking.get("number", fulfillment["tracking_number"])
        fulfillment.update(tracking_number=number, tracking_numbers=[number] if number else [],
                           tracking_company=tracking.get("company", fulfillment["tracking_company"]),
                           tracking_url=tracking.get("url", fulfillment["tracking_url"]),
                           updated_at=iso_text(self.now()))
        record = self.records[str(fulfillment["order_id"])]
        for line in record.lines:
            if line.line_id in {str(item["id"]) for item in fulfillment["line_items"]}:
                line.waybill, line.carrier_code = number, fulfillment["tracking_company"]
        self.shipments.append({"platform_order_id": record.id, "waybill": number,
                               "carrier_code": fulfillment["tracking_company"], "fulfillment_id": fulfillment["id"],
                               "update_tracking": True, "time": iso_text(self.now())})
        self.touch(record)
        return Reply(200, {"fulfillment": fulfillment})

    # ----- OAuth

    def _oauth(self, request):
        params = request.params
        if params.get("client_id") != self.app_key or params.get("client_secret") != self.app_secret:
            return Reply(400, {"error": "invalid_client", "error_description": "Client credentials are invalid"})
        if params.get("grant_type") == "refresh_token":
            granted = self.tokens.refresh(params.get("refresh_token"))
        else:
            granted = params.get("code") == self.auth_code
            if granted:
                self.tokens.issue()
        if not granted:
            return Reply(400, {"error": "invalid_grant", "error_description": "The grant is invalid or expired"})
        return Reply(200, {"access_token": self.tokens.access_token, "scope": "read_orders,write_fulfillments",
                           "expires_in": self.tokens.seconds_left(), "refresh_token": self.tokens.refresh_token,
                           "refresh_token_expires_in": self.tokens.refresh_seconds_left()})

    # ----- webhooks

    def build_push(self, record, event, secret):
        topic = self.native_event(event)
        resource = self._refund(record) if topic == "refunds/create" else self.native(record)
        body = compact_json(resource).encode("utf-8")
        headers = {
            "Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": b64_hmac_sha256(secret, body),
            "X-Shopify-Shop-Domain": self.options["shop_domain"],
            "X-Shopify-API-Version": self.options["api_versions"][-1],
            "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Triggered-At": iso_text(self.now()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
        }
        return body, headers

    def _refund(self, record):
        return {"id": int(md5_hex("refund:" + record.id)[:10], 16), "order_id": int(record.id),
                "created_at": iso_text(self.now()), "note": "买家申请退款", "restock": False,
                "refund_line_items": [{"line_item_id": int(line.line_id), "quantity": line.quantity,
                                       "subtotal": yuan_text(line.amount)} for line in record.lines],
                "transactions": [{"kind": "refund", "status": "success", "amount": yuan_text(record.payment),
                                  "currency": self.options["currency"]}]}
