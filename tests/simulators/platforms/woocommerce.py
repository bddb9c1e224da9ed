"""WooCommerce REST API v3 — reference §8 and §11.9.

Served under ``/wp-json/wc/v3/`` (also ``/?rest_route=/wc/v3/…``): ``GET orders``,
``GET|PUT|POST orders/{id}``, ``GET|POST orders/{id}/notes``, ``POST webhooks``; and the Shipment
Tracking extension ``POST /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings``
(UNCONFIRMED endpoint, reference §8.2f).

Auth: the simulator stands for an HTTPS site, so HTTP Basic (consumer key:secret) and the
``consumer_key``/``consumer_secret`` query pair are accepted; OAuth 1.0a one-legged query signatures
(HMAC-SHA1/HMAC-SHA256, key = consumer secret + "&", base string normalised as WooCommerce core does:
RFC 5849 double encoding) are verified too. WooCommerce has no token
refresh: ``expire_token()`` revokes the key pair and ``regenerate_keys()`` issues a new one, as the
shop admin does in WooCommerce → Settings → Advanced → REST API.

Ship-back = ``PUT orders/{id} {"status":"completed"}`` (+ a customer note) or a shipment tracking;
each is recorded in ``shipments``. WooCommerce core does not police status changes, so repeated or
late ship-backs are accepted, as on a real shop.
Webhooks: order.created / order.updated (a paid order is order.updated with status processing),
headers X-WC-Webhook-Source/Topic/Resource/Event/Signature/ID/Delivery-ID, signature = Base64
HMAC-SHA256 of the raw body with the webhook secret; disabled after 5 failed deliveries in a row.
"""

import base64
import hashlib
import hmac
import math
import secrets
import threading
import urllib.parse
from datetime import timezone

from .base import ApiError, PlatformSimulator, Reply
from .channels import post_bytes
from .wire import BEIJING, b64_hmac_sha256, compact_json, md5_hex, page_of, parse_iso, yuan_text

TOPIC_FOR_EVENT = {"created": "order.created", "paid": "order.updated", "updated": "order.updated",
                   "shipped": "order.updated", "completed": "order.updated", "cancel": "order.updated",
                   "refund": "order.updated", "deleted": "order.deleted", "restored": "order.restored"}


def woo_error(status, code, message, **data):
    return ApiError(Reply(status, {"code": code, "message": message, "data": {"status": status, **data}}))


def oauth_percent(value):
    return urllib.parse.quote(str(value), safe="-._~")


def oauth1_base_strings(method, url, params):
    """Signature base strings by normalisation. "rfc5849" is what WooCommerce checks (its
    WC_REST_Authentication::check_oauth_signature rawurlencodes every key and value, then
    rawurlencodes each "key=value" again and joins them with %26; the legacy wc-api does the same with
    "%" → "%25") and what the official wc-api-python client signs. "single_encoded" (values encoded
    once, joined with %3D/%26) matches neither WooCommerce's REST nor its legacy API check and is only
    an opt-in option; the two differ only for values with reserved characters (":" in dates, "/", " ", …)."""
    pairs = sorted((oauth_percent(k), oauth_percent(v)) for k, v in params.items() if k != "oauth_signature")
    single = "%26".join(f"{k}%3D{v}" for k, v in pairs)
    rfc = oauth_percent("&".join(f"{k}={v}" for k, v in pairs))
    prefix = f"{method.upper()}&{oauth_percent(url)}&"
    return {"single_encoded": prefix + single, "rfc5849": prefix + rfc}


def local_text(moment):
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M:%S") if moment else None


def gmt_text(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") if moment else None


class WooCommerceSimulator(PlatformSimulator):
    code = "woocommerce"
    DEFAULT_CREDENTIALS = {"app_key": "ck_demo_consumer_key", "app_secret": "cs_demo_consumer_secret"}
    PLAIN_PII = True
    TOKEN_LIFETIME = None
    REFRESH_LIFETIME = None
    STATUS_KINDS = {"pending": "unpaid", "checkout-draft": "unpaid", "processing": "paid", "on-hold": "on_hold",
                    "completed": "completed", "cancelled": "cancelled", "refunded": "cancelled",
                    "failed": "cancelled", "trash": "cancelled"}
    STATUS_ALIASES = {"unpaid": {"status": "pending"}, "paid": {"status": "processing"},
                      "on_hold": {"status": "on-hold"}, "shipped": {"status": "completed"},
                      "completed": {"status": "completed"}, "cancelled": {"status": "cancelled"},
                      "refunded": {"status": "refunded"}}
    PUSH_EVENTS = TOPIC_FOR_EVENT
    WEBHOOK_FAILURE_LIMIT = 5  # threshold UNCONFIRMED (≈5)
    OPTIONS = {
        "webhook_secret": None,  # default: the consumer secret
        "webhook_id": 1,
        "first_order_id": 727,
        "oauth_timestamp_minutes": 15,  # UNCONFIRMED window of oauth_timestamp
        "oauth1_forms": ("rfc5849",),  # base-string normalisations accepted (see oauth1_base_strings)
        "ping_form_encoded": True,  # UNCONFIRMED: ping body webhook_id=N (form) or {"webhook_id":N}
        "currency": "CNY",
    }
    REST_PREFIX = "/wp-json/wc/v3/"
    TRACKING_PREFIX = "/wp-json/wc-shipment-tracking/v3/orders/"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.revoked_keys = set()
        self.notes = {}
        self._used_nonces = set()
        self._next_order_id = self.options["first_order_id"]
        self._deliveries = 0

    @property
    def webhook_secret(self):
        return self.options["webhook_secret"] or self.app_secret

    def push_secret(self):
        return self.webhook_secret

    # ----- keys

    def expire_token(self):
        with self.lock:
            self.revoked_keys.add(self.app_key)

    def regenerate_keys(self):
        """A new consumer key/secret pair (the old one stays revoked); returns (key, secret)."""
        with self.lock:
            self.revoked_keys.add(self.app_key)
            self.app_key, self.app_secret = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
            return self.app_key, self.app_secret

    def _authenticate(self, request):
        header = request.header("Authorization") or ""
        query = request.query
        if header.startswith("Basic "):
            key, _, secret = base64.b64decode(header[6:]).decode("utf-8", errors="replace").partition(":")
            self._check_keys(key, secret)
        elif "oauth_signature" in query:
            self._check_oauth(request)
        elif "consumer_key" in query:
            self._check_keys(query["consumer_key"], query.get("consumer_secret"))
        else:
            verb = "list resources" if request.method == "GET" else "edit this resource"
            code = "woocommerce_rest_cannot_view" if request.method == "GET" else "woocommerce_rest_cannot_edit"
            raise woo_error(401, code, f"Sorry, you cannot {verb}.")

    def _check_key(self, key):
        if key != self.app_key or key in self.revoked_keys:
            raise woo_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")

    def _check_keys(self, key, secret):
        self._check_key(key)
        if not hmac.compare_digest(str(secret or ""), self.app_secret):
            raise woo_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    def _check_oauth(self, request):
        params = dict(request.query)
        self._check_key(params.get("oauth_consumer_key"))
        algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}.get(params.get("oauth_signature_method"))
        if algorithm is None:
            raise woo_error(401, "woocommerce_rest_authentication_error",
                            "Invalid signature - signature method is invalid.")
        try:
            stamp = int(params.get("oauth_timestamp", ""))
        except ValueError:
            stamp = 0
        window = self.options["oauth_timestamp_minutes"] * 60
        if abs(stamp - self.now().timestamp()) > window:
            raise woo_error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        url = f"http://{request.header('Host', '')}{request.path}"
        key = (self.app_secret + "&").encode()
        strings = oauth1_base_strings(request.method, url, params)
        expected = [base64.b64encode(hmac.new(key, strings[form].encode(), algorithm).digest()).decode()
                    for form in self.options["oauth1_forms"]]
        if params.get("oauth_signature") not in expected:
            raise woo_error(401, "woocommerce_rest_authentication_error",
                            "Invalid signature - provided signature does not match.")
        nonce = (params.get("oauth_nonce"), stamp)
        if nonce in self._used_nonces:
            raise woo_error(401, "woocommerce_rest_authentication_error",
                            "Invalid nonce - nonce has already been used.")
        self._used_nonces.add(nonce)

    # ----- gateway

    def api_name(self, request):
        return self._route_path(request)

    @staticmethod
    def _route_path(request):
        if request.path in ("", "/") and request.query.get("rest_route"):
            return "/wp-json" + request.query["rest_route"]
        return request.path

    def handle(self, request):
        path = self._route_path(request)
        if not path.startswith((self.REST_PREFIX, self.TRACKING_PREFIX)):
            raise woo_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        self._authenticate(request)
        if path.startswith(self.TRACKING_PREFIX):
            return self._shipment_tracking(request, path[len(self.TRACKING_PREFIX):])
        segments = path[len(self.REST_PREFIX):].strip("/").split("/")
        routes = {
            ("GET", "orders", 1): lambda: self._list(request),
            ("GET", "orders", 2): lambda: Reply(200, self.native(self._order(segments[1]))),
            ("PUT", "orders", 2): lambda: self._update(request, segments[1]),
            ("POST", "orders", 2): lambda: self._update(request, segments[1]),
            ("GET", "orders", 3): lambda: Reply(200, self.notes.get(self._order(segments[1]).id, [])),
            ("POST", "orders", 3): lambda: self._add_note(request, segments[1]),
            ("POST", "webhooks", 1): lambda: self._create_webhook(request),
        }
        action = routes.get((request.method, segments[0], len(segments)))
        if action is None or (len(segments) == 3 and segments[2] != "notes"):
            raise woo_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        return action()

    def fault_reply(self, kind):
        if kind == "rate_limit":  # WooCommerce core has none; a host/WAF 429 in WP's error shape (UNCONFIRMED)
            return Reply(429, {"code": "rest_too_many_requests", "message": "Too many requests.",
                               "data": {"status": 429}}, headers={"Retry-After": "2"})
        return Reply(401, {"code": "woocommerce_rest_authentication_error", "message": "Consumer key is invalid.",
                           "data": {"status": 401}})

    # ----- orders

    def new_order_id(self, rng):
        self._next_order_id += 1
        return str(self._next_order_id - 1)

    def new_line_id(self, order_id, index, count):
        return str(int(order_id) * 10 + index + 1)

    def _person(self, record, with_email):
        receiver = record.receiver
        person = {"first_name": receiver["name"][1:], "last_name": receiver["name"][:1], "company": "",
                  "address_1": receiver["district"] + receiver["address"], "address_2": receiver.get("town", ""),
                  "city": receiver["city"], "state": receiver["province"], "postcode": receiver.get("zip", ""),
                  "country": "CN", "phone": receiver["mobile"]}
        return {**person, "email": f"{record.buyer_id}@example.com"} if with_email else person

    def render(self, record):
        return {
            "id": int(record.id), "parent_id": 0, "number": record.id, "status": record.status,
            "order_key": "wc_order_" + md5_hex(record.id)[:13], "created_via": "checkout",
            "currency": self.options["currency"], "prices_include_tax": False,
            "date_created": local_text(record.created), "date_created_gmt": gmt_text(record.created),
            "date_modified": local_text(record.modified), "date_modified_gmt": gmt_text(record.modified),
            "date_paid": local_text(record.paid), "date_paid_gmt": gmt_text(record.paid),
            "date_completed": local_text(record.finished), "date_completed_gmt": gmt_text(record.finished),
            "discount_total": yuan_text(record.discount), "discount_tax": "0.00",
            "shipping_total": yuan_text(record.post_fee), "shipping_tax": "0.00", "cart_tax": "0.00",
            "total": yuan_text(record.payment), "total_tax": "0.00",
            "customer_id": int(md5_hex(record.buyer_id)[:6], 16), "customer_note": record.remark,
            "billing": self._person(record, True), "shipping": self._person(record, False),
            "payment_method": "alipay", "payment_method_title": "支付宝", "transaction_id": "",
            "meta_data": [], "tax_lines": [], "fee_lines": [], "coupon_lines": [],
            "line_items": [{
                "id": int(line.line_id), "name": line.title, "product_id": int(line.item_id) % 10**6,
                "variation_id": int(line.sku_id) % 10**6, "quantity": line.quantity, "tax_class": "",
                "subtotal": yuan_text(line.amount), "subtotal_tax": "0.00",
                "total": yuan_text(record.line_share(line)), "total_tax": "0.00", "taxes": [], "meta_data": [],
                "sku": line.merchant_code, "price": float(line.price),
            } for line in record.lines],
            "shipping_lines": [{"id": int(record.id) * 10, "method_title": "快递", "method_id": "flat_rate",
                                "total": yuan_text(record.post_fee), "total_tax": "0.00"}],
            "refunds": [{"id": int(record.id) + 1, "reason": "", "total": "-" + yuan_text(record.payment)}]
            if record.status == "refunded" else [],
        }

    def _order(self, order_id):
        record = self.records.get(str(order_id))
        if record is None:
            raise woo_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return record

    def _date_filter(self, query, name):
        if not query.get(name):
            return None
        zone = timezone.utc if query.get("dates_are_gmt") == "true" else BEIJING
        try:
            return parse_iso(query[name], naive_zone=zone)
        except ValueError:
            raise woo_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
                            params={name: f"{name} is not a valid date."}) from None

    def _per_page(self, query):
        try:
            per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        except ValueError:
            per_page = page = 0
        if not 1 <= per_page <= 100 or page < 1:
            raise woo_error(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                            params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"})
        return per_page, page

    def _list(self, request):
        query = request.query
        per_page, page = self._per_page(query)
        bounds = {name: self._date_filter(query, name)
                  for name in ("after", "before", "modified_after", "modified_before")}
        statuses = set(query.get("status", "any").split(","))
        found = [r for r in self.records.values() if self._matches(r, bounds, statuses)]
        orderby = {"modified": "modified", "id": "id"}.get(query.get("orderby"), "created")
        found.sort(key=lambda r: (int(r.id) if orderby == "id" else getattr(r, orderby), int(r.id)),
                   reverse=query.get("order", "desc") == "desc")
        total, pages = len(found), max(1, math.ceil(len(found) / per_page))
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = self._links(request, page, pages)
        if links:
            headers["Link"] = links
        chunk = page_of(found, page, per_page)[0]
        return Reply(200, [self.native(r) for r in chunk], headers=headers)

    @staticmethod
    def _matches(record, bounds, statuses):
        checks = [("after", record.created, 1), ("before", record.created, -1),
                  ("modified_after", record.modified, 1), ("modified_before", record.modified, -1)]
        for name, moment, direction in checks:
            bound = bounds[name]
            if bound and ((moment <= bound) if direction == 1 else (moment >= bound)):
                return False
        return "any" in statuses or record.status in statuses

    def _links(self, request, page, pages):
        base = f"{self.base_url}{self._route_path(request)}"
        query = {k: v for k, v in request.query.items() if k not in ("consumer_key", "consumer_secret")
                 and not k.startswith("oauth_")}
        links = []
        if page > 1:
            links.append(f'<{base}?{urllib.parse.urlencode({**query, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urllib.parse.urlencode({**query, "page": page + 1})}>; rel="next"')
        return ", ".join(links)

    def _update(self, request, order_id):
        record = self._order(order_id)
        body = request.json_body() or {}
        status = body.get("status")
        if status is not None and status not in self.STATUS_KINDS:
            raise woo_error(400, "rest_invalid_param", "Invalid parameter(s): status",
                            params={"status": f"status is not one of {', '.join(self.STATUS_KINDS)}."})
        if "customer_note" in body:
            record.remark = body["customer_note"]
        if status is not None:
            self.set_status(record, status)
            if status == "completed":
                self.record_shipment(record, None, None, via="status")
        self.touch(record)
        if status is not None:
            self._auto_push(record, "updated")
        return Reply(200, self.native(record))

    def _add_note(self, request, order_id):
        record = self._order(order_id)
        body = request.json_body() or {}
        if not body.get("note"):
            raise woo_error(400, "rest_missing_callback_param", "Missing parameter(s): note",
                            params=["note"])
        notes = self.notes.setdefault(record.id, [])
        note = {"id": int(record.id) * 100 + len(notes) + 1, "author": "WooCommerce",
                "date_created": local_text(self.now()), "date_created_gmt": gmt_text(self.now()),
                "note": body["note"], "customer_note": bool(body.get("customer_note"))}
        notes.append(note)
        return Reply(201, note)

    def _shipment_tracking(self, request, rest):
        order_id, _, resource = rest.partition("/")
        if request.method != "POST" or resource.strip("/") != "shipment-trackings":
            raise woo_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        record = self._order(order_id)
        body = request.json_body() or {}
        if not body.get("tracking_number"):
            raise woo_error(400, "rest_missing_callback_param", "Missing parameter(s): tracking_number",
                            params=["tracking_number"])
        provider = body.get("tracking_provider") or body.get("custom_tracking_provider")
        self.record_shipment(record, body["tracking_number"], provider, via="shipment-tracking",
                             date_shipped=body.get("date_shipped"))
        self.touch(record)
        shipped_on = body.get("date_shipped") or self.now().astimezone(BEIJING).strftime("%Y-%m-%d")
        return Reply(201, {"tracking_id": md5_hex(f"{record.id}:{body['tracking_number']}")[:32],
                           "tracking_provider": provider, "tracking_link": "",
                           "tracking_number": body["tracking_number"], "date_shipped": shipped_on})

    # ----- webhooks

    def _create_webhook(self, request):
        body = request.json_body() or {}
        if not body.get("topic") or not body.get("delivery_url"):
            raise woo_error(400, "rest_missing_callback_param", "Missing parameter(s): topic, delivery_url",
                            params=["topic", "delivery_url"])
        self.webhook_url = body["delivery_url"]
        if body.get("secret"):
            self.options["webhook_secret"] = body["secret"]
        self.webhook_active = body.get("status", "active") == "active"
        webhook_id = self.options["webhook_id"]
        threading.Thread(target=self.ping_webhook, daemon=True).start()
        resource, _, event = body["topic"].partition(".")
        return Reply(201, {"id": webhook_id, "name": body.get("name", ""), "status": body.get("status", "active"),
                           "topic": body["topic"], "resource": resource, "event": event,
                           "delivery_url": body["delivery_url"], "date_created": local_text(self.now())})

    def ping_webhook(self):
        """The delivery WooCommerce makes when a webhook is saved; (status, body)."""
        webhook_id = self.options["webhook_id"]
        if self.options["ping_form_encoded"]:
            body, content_type = f"webhook_id={webhook_id}".encode(), "application/x-www-form-urlencoded"
        else:
            body, content_type = compact_json({"webhook_id": webhook_id}).encode(), "application/json"
        return post_bytes(self.webhook_url, body, {"Content-Type": content_type}, self.PUSH_TIMEOUT)

    def build_push(self, record, event, secret):
        topic = self.native_event(event)
        body = compact_json(self.native(record)).encode("utf-8")
        self._deliveries += 1
        headers = {
            "Content-Type": "application/json", "X-WC-Webhook-Source": self.base_url + "/",
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": topic.split(".")[0],
            "X-WC-Webhook-Event": topic.split(".")[1], "X-WC-Webhook-Signature": b64_hmac_sha256(secret, body),
            "X-WC-Webhook-ID": str(self.options["webhook_id"]), "X-WC-Webhook-Delivery-ID": str(self._deliveries),
        }
        return body, headers
