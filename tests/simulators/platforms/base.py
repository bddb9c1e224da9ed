"""Machinery every platform simulator shares.

A simulator is a threaded HTTP server on loopback that plays one shop platform's open-platform
gateway (signatures, tokens, order lists, ship-back, pushes) after
/work/shared/reference/platform-apis.md. This module holds what does not depend on the platform:
the server and its control endpoints (``/__sim__/...``), request recording, fault injection, a
simulated clock, the order store with its state changes, tokens, deterministic ciphertexts for buyer
data and signed HTTP pushes with retries.

Times: every datetime inside is timezone-aware. A naive ``start_time`` is read as Beijing time
(UTC+8), the zone of the Chinese platforms' string timestamps. Request timestamps are checked
against the simulated clock (skew ±10 min by default). Without ``start_time`` the clock starts at
the real time and keeps running with it, so connectors that sign with the wall clock are accepted;
with a ``start_time`` it stands still unless ``advance`` is called (or ``clock_runs=True``), so
tests are deterministic.
"""

import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .channels import MessageQueue, WebSocket, post_bytes
from .sample_data import random_order_spec
from .wire import BEIJING, BadParam, compact_json, iso_text, md5_hex

FAULT_KINDS = ("timeout", "http500", "rate_limit", "token_expired", "latency", "garbage")
GARBAGE_BODY = b"<html><head><title>502 Bad Gateway</title></head>\x00\xff\xfe{\"trunc"
HTML_500_BODY = b"<html><head><title>500 Internal Server Error</title></head><body>Tengine</body></html>"


# --------------------------------------------------------------------------- clock


class SimClock:
    """Simulated time: ``start`` plus whatever ``advance`` added (plus real elapsed time if ``runs``)."""

    def __init__(self, start=None, runs=None):
        self._runs = start is None if runs is None else runs
        if start is None:
            start = datetime.now(timezone.utc).replace(microsecond=0)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=BEIJING)
        self._start = start
        self._offset = timedelta(0)
        self._real_start = time.monotonic()

    def now(self):
        moment = self._start + self._offset
        if self._runs:
            moment += timedelta(seconds=int(time.monotonic() - self._real_start))
        return moment.astimezone(timezone.utc)

    def advance(self, minutes):
        self._offset += timedelta(minutes=minutes)


# --------------------------------------------------------------------------- HTTP request and reply


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list → JSON; str/bytes sent as they are
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"

    def payload(self):
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return b"" if self.body is None else compact_json(self.body).encode("utf-8")


class ApiError(Exception):
    """Raised anywhere inside a platform handler: the reply is what the platform answers."""

    def __init__(self, reply):
        super().__init__(reply.body)
        self.reply = reply


DROP_CONNECTION = Reply(status=0)


@dataclass
class SimRequest:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def header(self, name, default=None):
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), default)

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    @property
    def form(self):
        content_type = (self.header("Content-Type") or "").lower()
        if not self.body or "x-www-form-urlencoded" not in content_type:
            return {}
        return dict(urllib.parse.parse_qsl(self.text, keep_blank_values=True))

    def json_body(self):
        """The JSON body, or None when it is empty or not JSON."""
        try:
            return json.loads(self.text) if self.body.strip() else None
        except ValueError:
            return None

    @property
    def params(self):
        """Query string plus form fields or JSON object fields (later ones win)."""
        merged = dict(self.query)
        merged.update(self.form)
        body = self.json_body()
        if isinstance(body, dict) and not self.form:
            merged.update(body)
        return merged


def read_request(handler):
    split = urllib.parse.urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    return SimRequest(
        method=handler.command,
        path=split.path,
        query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
        headers=dict(handler.headers.items()),
        body=body,
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self):
        self.server.simulator._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# --------------------------------------------------------------------------- faults, tokens, ciphers


@dataclass
class Fault:
    kind: str
    target: str = None  # a path, a path ending, or an API method name; None = any request
    remaining: int = 1
    seconds: float = 0.0

    def matches(self, path, api_name):
        return self.target in (None, "", api_name, path) or path.endswith(self.target)


class FaultPlan:
    def __init__(self):
        self._faults = []
        self._lock = threading.Lock()

    def arm(self, kind, target=None, count=1, seconds=0.0):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(Fault(kind, target, int(count), float(seconds)))

    def take(self, path, api_name):
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, api_name):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


class TokenStore:
    """One seller authorisation: the access token in use, its refresh token and their expiries."""

    def __init__(self, clock, access_token, refresh_token, lifetime, refresh_lifetime, prefix=""):
        self._clock = clock
        self._prefix = prefix
        self.lifetime = lifetime
        self.refresh_lifetime = refresh_lifetime
        self.retired = set()
        self.forced_expired = False
        self._set(access_token or self._new(), refresh_token or self._new())

    def _new(self):
        return self._prefix + secrets.token_hex(16)

    def _set(self, access_token, refresh_token):
        now = self._clock.now()
        self.access_token, self.refresh_token = access_token, refresh_token
        self.expires_at = now + self.lifetime if self.lifetime else None
        self.refresh_expires_at = now + self.refresh_lifetime if self.refresh_lifetime else None
        self.forced_expired = False

    def state(self, token):
        """'missing', 'valid', 'expired' (ours but expired or replaced) or 'invalid'."""
        if not token:
            return "missing"
        if token == self.access_token:
            timed_out = self.expires_at is not None and self._clock.now() >= self.expires_at
            return "expired" if self.forced_expired or timed_out else "valid"
        return "expired" if token in self.retired else "invalid"

    def expire(self):
        self.forced_expired = True

    def refresh(self, refresh_token):
        """Issue a new pair when ``refresh_token`` is the current, unexpired one; True on success."""
        expired = self.refresh_expires_at is not None and self._clock.now() >= self.refresh_expires_at
        if not refresh_token or refresh_token != self.refresh_token or expired:
            return False
        self.issue()
        return True

    def issue(self):
        self.retired.add(self.access_token)
        self._set(self._new(), self._new())

    def seconds_left(self):
        return int((self.expires_at - self._clock.now()).total_seconds()) if self.expires_at else None

    def refresh_seconds_left(self):
        if not self.refresh_expires_at:
            return None
        return int((self.refresh_expires_at - self._clock.now()).total_seconds())


class CipherBook:
    """Deterministic stand-in ciphertexts: the same (shop, kind, value) always gives the same token,
    so search indexes and de-duplication work as on the real platforms; the book remembers the
    plaintext and the order each ciphertext was issued for, which is what the decrypt calls need."""

    def __init__(self, shop_key):
        self._key = shop_key.encode("utf-8")
        self._plain = {}

    def token(self, kind, value, length=32):
        digest = hmac.new(self._key, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest + value.encode("utf-8")[:8]).decode()[:length]

    def alnum(self, kind, value, length=32):
        """Like ``token`` but letters and digits only (ids such as OAID or open ids)."""
        return self.token(kind, value, length).translate(str.maketrans("+/=", "xYz"))

    def seal(self, kind, value, order_id, wrap):
        if not value:
            return ""
        cipher = wrap(self.token(kind, value))
        self._plain[cipher] = (value, str(order_id))
        return cipher

    def open(self, cipher):
        """(plaintext, order id) or None for a ciphertext this shop never issued."""
        return self._plain.get(cipher)


# --------------------------------------------------------------------------- orders


@dataclass
class OrderLine:
    line_id: str
    sku_id: str
    item_id: str
    merchant_code: str
    title: str
    spec: str
    quantity: int
    price: Decimal
    shipped_quantity: int = 0
    waybill: str = None
    carrier_code: str = None

    @property
    def amount(self):
        return self.price * self.quantity


@dataclass
class OrderRecord:
    """Platform-neutral state of one order; each simulator renders it into its native JSON."""

    id: str
    status: object  # the platform's own status value
    created: datetime
    modified: datetime
    paid: datetime = None
    shipped: datetime = None
    finished: datetime = None
    cancelled: datetime = None
    buyer_nick: str = ""
    buyer_id: str = ""
    receiver: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)
    remark: str = ""
    seller_memo: str = ""
    seller_flag: int = 0
    post_fee: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    encrypted: bool = True
    virtual_mobile: bool = False
    extra: dict = field(default_factory=dict)  # platform state fields (refund status, risk flag, …)
    overrides: dict = field(default_factory=dict)  # native fields set verbatim by update_order

    @property
    def goods_total(self):
        return sum((line.amount for line in self.lines), Decimal("0"))

    @property
    def payment(self):
        return self.goods_total - self.discount + self.post_fee

    def line_share(self, line):
        """The line's part of the paid goods amount (discount spread by amount)."""
        if not self.goods_total:
            return Decimal("0")
        share = line.amount - self.discount * line.amount / self.goods_total
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- the simulator


class PlatformSimulator:
    """Base class: a platform module sets the class attributes and implements the hooks below."""

    code = None
    DEFAULT_CREDENTIALS = {}  # app_key/app_secret/access_token/refresh_token from the reference's examples
    TOKEN_LIFETIME = timedelta(days=1)
    REFRESH_LIFETIME = timedelta(days=30)
    TOKEN_PREFIX = ""
    STATUS_KINDS = {}  # native status → unpaid/paid/partially_shipped/shipped/delivered/completed/cancelled/on_hold
    STATUS_ALIASES = {}  # generic name (paid, shipped, refund_requested, …) → changes in native terms
    STATE_FIELDS = ()  # update_order keys that are platform state (kept in record.extra, not copied verbatim)
    PLAIN_PII = False  # True where the platform serves buyer data in clear (Shopify, WooCommerce)
    PUSH_CHANNEL = "http"  # or "queue" (TOP TMC pull, PDD websocket)
    PUSH_EVENTS = {}  # generic event → native topic/tag
    PUSH_SUCCESS = None  # (field, value) the receiver's JSON reply must carry for the push to count
    PUSH_TIMEOUT = 5.0
    PUSH_RETRY_MINUTES = ()
    WEBHOOK_FAILURE_LIMIT = None  # consecutive failed pushes after which the subscription is disabled
    MAX_LINES = None  # Kuaishou: one product per order
    OPTIONS = {}  # platform switches (UNCONFIRMED behaviours are kept configurable here)

    def __init__(self, app_key=None, app_secret=None, access_token=None, refresh_token=None,
                 webhook_url=None, start_time=None, host="127.0.0.1", port=0, clock_runs=None,
                 timestamp_skew_minutes=10, encrypt_pii=None, auto_push=False, decrypt_quota=1000,
                 webhook_failure_limit=None, messages_permitted=False, auth_code="sim-auth-code", **options):
        unknown = set(options) - set(self.OPTIONS)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no option {', '.join(sorted(unknown))}")
        defaults = self.DEFAULT_CREDENTIALS
        self.app_key = app_key or defaults.get("app_key", "sim_app_key")
        self.app_secret = app_secret or defaults.get("app_secret", "sim_app_secret")
        self.options = {**self.OPTIONS, **options}
        self.clock = SimClock(start_time, runs=clock_runs)
        self.tokens = TokenStore(
            self.clock, access_token or defaults.get("access_token"), refresh_token or defaults.get("refresh_token"),
            self.TOKEN_LIFETIME, self.REFRESH_LIFETIME, self.TOKEN_PREFIX,
        )
        self.auth_code = auth_code
        self.webhook_url = webhook_url
        self.host, self.requested_port = host, port
        self.timestamp_skew = timedelta(minutes=timestamp_skew_minutes) if timestamp_skew_minutes is not None else None
        self.encrypt_pii = (not self.PLAIN_PII) if encrypt_pii is None else encrypt_pii
        self.auto_push = auto_push
        self.decrypt_quota = decrypt_quota
        self.webhook_failure_limit = webhook_failure_limit or self.WEBHOOK_FAILURE_LIMIT
        self.messages_permitted = messages_permitted
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self.ciphers = CipherBook(f"{self.code}:{self.app_key}:{self.app_secret}")
        self.queue = MessageQueue()
        self.records = {}
        self.requests = []
        self.shipments = []
        self.pushes = []
        self.decrypt_log = []
        self.tamper_next_push = False
        self.duplicate_next_push = False
        self.webhook_active = True
        self._failed_pushes_in_a_row = 0
        self._retries = []
        self._server = None
        self._thread = None

    # ----- lifecycle

    def start(self):
        if not self._server:
            self._server = _Server((self.host, self.requested_port), _Handler)
            self._server.simulator = self
            self.requested_port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, name=f"sim-{self.code}", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self):
        return self.requested_port

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    def now(self):
        return self.clock.now()

    # ----- hooks a platform implements

    def api_name(self, request):
        """The API method a request calls (for fault targeting); the path by default."""
        return request.path

    def handle(self, request):
        raise NotImplementedError

    def render(self, record):
        raise NotImplementedError

    def new_order_id(self, rng):
        raise NotImplementedError

    def fault_reply(self, kind):
        """The platform's own reply for the 'rate_limit' and 'token_expired' faults."""
        raise NotImplementedError

    def build_push(self, record, event, secret):
        """(raw body bytes, headers) of an HTTP push, or the message dict for a queue channel."""
        raise NotImplementedError

    def push_accepted(self, status, body):
        if status is None or not 200 <= status < 300:
            return False
        if not self.PUSH_SUCCESS:
            return True
        field_name, value = self.PUSH_SUCCESS
        try:
            return json.loads(body).get(field_name) == value
        except (ValueError, AttributeError):
            return False

    def on_record_created(self, record):
        """Platform-specific initial state (extra fields, line ids)."""

    # ----- orders: Python interface

    @property
    def orders(self):
        """Snapshot ``{order id (str): native order}``; change orders with update_order."""
        with self.lock:
            return {order_id: self.native(record) for order_id, record in self.records.items()}

    def native(self, record):
        return {**self.render(record), **record.overrides}

    def order_or_bad_param(self, platform_order_id, param_name):
        """The order a business parameter names; BadParam (the platform's business error) if unknown."""
        record = self.records.get(str(platform_order_id))
        if record is None:
            raise BadParam("invalid", param_name, f"订单不存在: {platform_order_id}")
        return record

    def record(self, platform_order_id):
        try:
            return self.records[str(platform_order_id)]
        except KeyError:
            raise KeyError(f"{self.code} simulator has no order {platform_order_id!r}") from None

    def add_order(self, platform_order_id=None, status="paid", buyer_nick=None, receiver=None, lines=None,
                  remark="", seller_memo="", encrypted=None, created=None, **details):
        """Add one order; ``status`` is a generic alias (paid, unpaid, shipped, …) or a native value.

        ``receiver`` keys: name, mobile, phone, country, province, city, district, town, address, zip.
        ``lines`` items: sku_id, merchant_code, title, quantity, price (+ optional item_id, spec, line_id).
        Other keywords: post_fee, discount, seller_flag, buyer_id, virtual_mobile, paid, and native
        fields (copied into the rendered order verbatim).
        """
        rng = random.Random(f"{self.code}:{len(self.records)}:{platform_order_id}")
        spec = random_order_spec(rng)
        wanted = self.resolve_status(status)
        if "status" not in wanted:  # e.g. refund_requested: a paid order with an open refund
            wanted = {**self.resolve_status("paid"), **wanted}
        with self.lock:
            now = self.now()
            order_id = str(platform_order_id) if platform_order_id is not None else self._unique_id(rng)
            record = OrderRecord(
                id=order_id, status=None, created=created or now, modified=now,
                buyer_nick=buyer_nick or spec["buyer_nick"], buyer_id=details.pop("buyer_id", spec["buyer_id"]),
                receiver={**spec["receiver"], **(receiver or {})},
                lines=self._lines(order_id, lines or spec["lines"]),
                remark=remark or "", seller_memo=seller_memo or "",
                encrypted=self.encrypt_pii if encrypted is None else bool(encrypted),
            )
            self.on_record_created(record)
            self._apply_changes(record, {**wanted, **details})
            record.modified = max(t for t in (record.created, record.paid, record.shipped, record.finished,
                                              record.cancelled) if t)
            self.records[order_id] = record
            native = self.native(record)
        self._auto_push(record, "created")
        return native

    def generate_orders(self, count, seed=0, status="paid", spread_minutes=20):
        """``count`` realistic random orders, created over the last ``spread_minutes`` of simulated time.

        ``status`` may be a list: each order then takes one of its entries at random (a seed mix such
        as ["paid", "paid", "shipped", "refund_requested", "on_hold"]).
        """
        rng = random.Random(f"{self.code}:{seed}")
        choices = list(status) if isinstance(status, (list, tuple)) else [status]
        made = []
        for _ in range(int(count)):
            spec = random_order_spec(rng)
            chosen = rng.choice(choices)
            created = self.now() - timedelta(seconds=rng.randint(60, max(61, int(spread_minutes * 60))))
            paid = None if self._unpaid(chosen) else created + timedelta(seconds=rng.randint(5, 50))
            made.append(self.add_order(
                platform_order_id=self._unique_id(rng), status=chosen, created=created, paid=paid,
                buyer_id=spec["buyer_id"], buyer_nick=spec["buyer_nick"], receiver=spec["receiver"],
                lines=spec["lines"][:self.MAX_LINES], remark=spec["remark"], seller_memo=spec["seller_memo"],
                seller_flag=spec["seller_flag"], post_fee=spec["post_fee"], discount=spec["discount"],
                virtual_mobile=spec["virtual_mobile"],
            ))
        return made

    def _unpaid(self, status):
        native = self.resolve_status(status).get("status")
        return native is not None and self.STATUS_KINDS.get(native) == "unpaid"

    def update_order(self, platform_order_id, status=None, **changes):
        """Change an order now (simulated time): ``status`` native or alias, plus fields; bumps modified."""
        with self.lock:
            record = self.record(platform_order_id)
            before = (record.status, self.refund_pending(record))
            wanted = self.resolve_status(status) if status is not None else {}
            self._apply_changes(record, {**wanted, **changes})
            self.touch(record)
            native = self.native(record)
        self._auto_push(record, self._event_for_change(record, *before))
        return native

    def advance(self, minutes):
        self.clock.advance(minutes)
        self._deliver_due_retries()

    def touch(self, record):
        record.modified = self.now()

    def resolve_status(self, status):
        if status is None:
            return {}
        if status in self.STATUS_ALIASES:
            return dict(self.STATUS_ALIASES[status])
        for native in self.STATUS_KINDS:
            if str(native) == str(status):
                return {"status": native}
        choices = [*self.STATUS_ALIASES, *map(str, self.STATUS_KINDS)]
        raise ValueError(f"{self.code}: unknown status {status!r}; use one of {', '.join(choices)}")

    def set_status(self, record, status):
        """Move to a native status and stamp the times the move implies."""
        kind = self.STATUS_KINDS[status]
        now = self.now()
        record.status = status
        if kind not in ("unpaid", "cancelled") and record.paid is None:
            record.paid = now
        if kind in ("shipped", "partially_shipped", "delivered", "completed") and record.shipped is None:
            record.shipped = now
        if kind == "completed" and record.finished is None:
            record.finished = now
        if kind == "cancelled" and record.cancelled is None:
            record.cancelled = now

    def kind(self, record):
        return self.STATUS_KINDS.get(record.status)

    def apply_change(self, record, key, value):
        """Platform hook for changes the generic rules below do not cover; True when handled."""
        return False

    def _apply_changes(self, record, changes):
        for key, value in changes.items():
            if self.apply_change(record, key, value):
                continue
            if key == "status":
                self.set_status(record, value)
            elif key == "receiver":
                record.receiver = {**record.receiver, **value}
            elif key in ("post_fee", "discount"):
                setattr(record, key, Decimal(str(value)))
            elif key in ("paid", "shipped", "finished", "cancelled", "remark", "seller_memo", "seller_flag",
                         "buyer_nick", "buyer_id", "encrypted", "virtual_mobile"):
                setattr(record, key, value)
            elif key in self.STATE_FIELDS:
                record.extra[key] = value
            else:
                record.overrides[key] = value

    def _lines(self, order_id, items):
        if self.MAX_LINES and len(items) > self.MAX_LINES:
            raise ValueError(f"{self.code} orders carry at most {self.MAX_LINES} product line(s)")
        return [self._line(order_id, index, item, len(items)) for index, item in enumerate(items)]

    def _line(self, order_id, index, item, count):
        sku_id = str(item.get("sku_id") or int(md5_hex(f"{item.get('title')}:{index}")[:9], 16))
        return OrderLine(
            line_id=str(item.get("line_id") or self.new_line_id(order_id, index, count)),
            sku_id=sku_id,
            item_id=str(item.get("item_id") or sku_id),
            merchant_code=item.get("merchant_code") or "",
            title=item.get("title") or "商品",
            spec=item.get("spec") or "",
            quantity=int(item.get("quantity", 1)),
            price=Decimal(str(item.get("price", "0"))),
        )

    def new_line_id(self, order_id, index, count):
        """Numeric ids follow the order id (a single line shares it, as on TOP and Douyin)."""
        if order_id.isdigit():
            return str(int(order_id) + (index + 1 if count > 1 else 0))
        return f"{order_id.replace('-', '')}{index + 1:02d}"

    def _unique_id(self, rng):
        while True:
            candidate = str(self.new_order_id(rng))
            if candidate not in self.records:
                return candidate

    # ----- ship-back bookkeeping

    def record_shipment(self, record, waybill, carrier_code, lines=None, **details):
        shipped_lines = lines if lines is not None else record.lines
        for line in shipped_lines:
            line.shipped_quantity = line.quantity
            line.waybill, line.carrier_code = waybill, carrier_code
        entry = {
            "platform_order_id": record.id, "waybill": waybill, "carrier_code": carrier_code,
            "line_ids": [line.line_id for line in shipped_lines], "time": iso_text(self.now()), **details,
        }
        self.shipments.append(entry)
        return entry

    def ship_refusal(self, record, allow_partial=False):
        """Why the platform refuses to ship this order now (Chinese message), or None."""
        kind = self.kind(record)
        if kind == "paid" or (allow_partial and kind == "partially_shipped"):
            if self.refund_pending(record) and self.options.get("refuse_ship_during_refund", True):
                return "订单有进行中的退款，不能发货"
            return None
        return {
            "cancelled": "订单已关闭，不能发货", "unpaid": "订单未付款，不能发货", "on_hold": "订单暂不可发货",
            "partially_shipped": "订单已部分发货", "shipped": "订单已发货，不能重复发货",
            "delivered": "订单已签收", "completed": "订单已完成",
        }.get(kind, "订单状态不允许发货")

    def refund_pending(self, record):
        return False

    def records_between(self, start, end, stamp="modified", newest_first=False, keep=None):
        """Orders whose ``stamp`` time lies in [start, end], sorted by it (ties by id)."""
        chosen = [r for r in self.records.values()
                  if getattr(r, stamp) and start <= getattr(r, stamp) <= end and (keep is None or keep(r))]
        return sorted(chosen, key=lambda r: (getattr(r, stamp), r.id), reverse=newest_first)

    def all_lines_shipped(self, record):
        return all(line.shipped_quantity >= line.quantity for line in record.lines)

    # ----- buyer data protection

    def seal(self, record, kind, value, wrap):
        """Ciphertext of ``value`` in the platform's format (``wrap`` adds the markers)."""
        return self.ciphers.seal(kind, value, record.id, wrap)

    def reveal(self, cipher, order_id, purpose=""):
        """Plaintext for a decrypt call, audited; None when unknown or issued for another order."""
        opened = self.ciphers.open(cipher)
        ok = bool(opened) and (order_id is None or opened[1] == str(order_id))
        self.decrypt_log.append({"order_id": str(order_id), "cipher": cipher, "purpose": purpose, "ok": ok,
                                 "time": iso_text(self.now())})
        return opened[0] if ok else None

    def take_decrypt_quota(self, count):
        """False when the shop's decrypt quota cannot cover ``count`` more values."""
        if self.decrypt_quota is None:
            return True
        if count > self.decrypt_quota:
            return False
        self.decrypt_quota -= count
        return True

    def decrypt(self, cipher):
        """Test helper: the plaintext behind any ciphertext this simulator issued (no audit, no quota)."""
        opened = self.ciphers.open(cipher)
        return opened[0] if opened else None

    # ----- authentication helpers

    def timestamp_ok(self, moment):
        return self.timestamp_skew is None or abs(moment - self.now()) <= self.timestamp_skew

    def token_state(self, token):
        return self.tokens.state(token)

    def expire_token(self):
        """The current access token stops working until the platform's refresh call is made."""
        with self.lock:
            self.tokens.expire()

    def inject(self, fault, path_or_method=None, count=1, seconds=0.0):
        self.faults.arm(fault, path_or_method, count, seconds)

    # ----- pushes

    def push(self, platform_order_id, event="paid"):
        """Send the platform's push for ``event``; returns (receiver HTTP status, receiver body text).

        Queue channels (TOP TMC, PDD websocket) publish instead and return (None, message).
        """
        with self.lock:
            record = self.record(platform_order_id)
            tamper, self.tamper_next_push = self.tamper_next_push, False
            duplicate, self.duplicate_next_push = self.duplicate_next_push, False
            secret = "tampered-" + self.push_secret() if tamper else self.push_secret()
            built = self.build_push(record, event, secret)
        if self.PUSH_CHANNEL == "queue":
            return self._publish(built)
        body, headers = built
        result = self._deliver(body, headers, attempt=1)
        if duplicate:
            self._deliver(body, headers, attempt=1)
        return result

    def push_secret(self):
        return self.app_secret

    def native_event(self, event):
        if event in self.PUSH_EVENTS:
            return self.PUSH_EVENTS[event]
        if event in self.PUSH_EVENTS.values():
            return event
        raise ValueError(f"{self.code}: unknown push event {event!r}; use one of {', '.join(self.PUSH_EVENTS)}")

    def _publish(self, message):
        if not self.messages_permitted:
            return None, {"dropped": "the seller has not been permitted for messages yet"}
        return None, self.queue.publish(message)

    def _deliver(self, body, headers, attempt):
        if not self.webhook_url:
            raise RuntimeError(f"{self.code} simulator has no webhook_url to push to")
        if not self.webhook_active:
            return None, "webhook disabled after repeated failures"
        status, text = post_bytes(self.webhook_url, body, headers, self.PUSH_TIMEOUT)
        accepted = self.push_accepted(status, text)
        with self.lock:
            self.pushes.append({"url": self.webhook_url, "headers": headers, "body": body.decode("utf-8"),
                                "status": status, "response": text, "attempt": attempt, "accepted": accepted})
            self._count_delivery(accepted)
            if not accepted and attempt <= len(self.PUSH_RETRY_MINUTES):
                due = self.now() + timedelta(minutes=self.PUSH_RETRY_MINUTES[attempt - 1])
                self._retries.append((due, body, headers, attempt + 1))
        return status, text

    def _count_delivery(self, accepted):
        self._failed_pushes_in_a_row = 0 if accepted else self._failed_pushes_in_a_row + 1
        limit = self.webhook_failure_limit
        if limit and self._failed_pushes_in_a_row >= limit:
            self.webhook_active = False

    def _deliver_due_retries(self):
        with self.lock:
            now = self.now()
            due = [retry for retry in self._retries if retry[0] <= now]
            self._retries = [retry for retry in self._retries if retry[0] > now]
        for _, body, headers, attempt in due:
            self._deliver(body, headers, attempt)

    def _event_for_change(self, record, status_before, refund_pending_before):
        if record.status == status_before:
            return "refund" if self.refund_pending(record) and not refund_pending_before else "updated"
        return {"paid": "paid", "shipped": "shipped", "partially_shipped": "shipped", "completed": "completed",
                "cancelled": "cancel"}.get(self.kind(record), "updated")

    def _auto_push(self, record, event):
        wanted = self.PUSH_CHANNEL == "queue" or self.webhook_url
        if self.auto_push and wanted:
            threading.Thread(target=self._push_quietly, args=(record.id, event), daemon=True).start()

    def _push_quietly(self, order_id, event):
        try:
            self.push(order_id, event)
        except (ValueError, RuntimeError, KeyError):
            pass

    # ----- HTTP serving

    def _serve(self, handler):
        request = read_request(handler)
        if request.header("Upgrade", "").lower() == "websocket":
            self._serve_websocket(handler, request)
            return
        if request.path.startswith("/__sim__/"):
            reply = self._control(request)
        else:
            reply = self._answer(request)
            self._record_exchange(request, reply)
        if reply is DROP_CONNECTION:
            handler.close_connection = True
            return
        self._write(handler, reply)

    @staticmethod
    def _write(handler, reply):
        payload = reply.payload()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, request):
        fault = self.faults.take(request.path, self.api_name(request))
        if fault and fault.kind == "timeout":
            time.sleep(fault.seconds or 5.0)
            return DROP_CONNECTION
        if fault and fault.kind == "latency":
            time.sleep(fault.seconds or 1.0)
        elif fault:
            return self._fault_reply(fault.kind)
        with self.lock:
            try:
                return self.handle(request)
            except ApiError as error:
                return error.reply
            except Exception as error:  # a simulator bug must not look like a network fault
                return Reply(500, {"simulator_error": repr(error), "trace": traceback.format_exc(limit=5)})

    def _fault_reply(self, kind):
        if kind == "http500":
            return Reply(500, HTML_500_BODY, content_type="text/html")
        if kind == "garbage":
            return Reply(200, GARBAGE_BODY)
        return self.fault_reply(kind)

    def _record_exchange(self, request, reply):
        payload = reply.payload() if reply is not DROP_CONNECTION else b""
        try:
            response = json.loads(payload) if payload else None
        except ValueError:
            response = payload.decode("utf-8", errors="replace")
        with self.lock:
            self.requests.append({
                "method": request.method, "path": request.path, "params": request.params,
                "headers": request.headers, "body": request.text, "response_status": reply.status or None,
                "response": response,
            })

    # ----- websocket serving

    def websocket_refusal(self, request):
        """None to accept the websocket upgrade, else the Reply that refuses it."""
        return Reply(404, {"error": "no websocket here"})

    def websocket_session(self, socket_, request):
        raise NotImplementedError

    def _serve_websocket(self, handler, request):
        refusal = self.websocket_refusal(request)
        self._record_exchange(request, refusal or Reply(101))
        if refusal:
            handler.close_connection = True
            self._write(handler, refusal)
            return
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", WebSocket.accept_key(request.header("Sec-WebSocket-Key", "")))
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        self.websocket_session(WebSocket(handler), request)

    # ----- control endpoints for other processes

    def _control(self, request):
        body = request.json_body() or {}
        route = (request.method, request.path[len("/__sim__/"):].strip("/"))
        actions = {
            ("POST", "orders"): self._control_orders,
            ("POST", "update"): lambda b: {"order": self.update_order(
                b["order_id"], status=b.get("status"), **b.get("changes", {}))},
            ("POST", "advance"): self._control_advance,
            ("POST", "push"): self._control_push,
            ("POST", "fault"): lambda b: self.inject(
                b["fault"], b.get("path_or_method"), b.get("count", 1), b.get("seconds", 0.0)) or {"armed": b["fault"]},
            ("POST", "decrypt"): lambda b: {"plain": self.decrypt(b["cipher"])},
            ("POST", "expire_token"): lambda b: self.expire_token() or {"expired": True},
            ("GET", "requests"): lambda b: {"requests": list(self.requests)},
            ("GET", "shipments"): lambda b: {"shipments": list(self.shipments)},
            ("GET", "orders"): lambda b: {"orders": self.orders},
            ("GET", "pushes"): lambda b: {"pushes": list(self.pushes)},
            ("GET", "clock"): lambda b: {"now": iso_text(self.now())},
            ("GET", "tokens"): lambda b: {"access_token": self.tokens.access_token,
                                          "refresh_token": self.tokens.refresh_token},
        }
        try:
            if route not in actions:
                raise KeyError(f"no control endpoint {route[0]} /__sim__/{route[1]}")
            return Reply(200, actions[route](body))
        except (KeyError, ValueError, TypeError, RuntimeError) as error:
            return Reply(400, {"error": str(error)})

    def _control_orders(self, body):
        if "generate" in body:
            return {"orders": self.generate_orders(int(body["generate"]), seed=body.get("seed", 0),
                                                   status=body.get("status", "paid"))}
        return {"orders": [self.add_order(**body.get("order", {}))]}

    def _control_advance(self, body):
        self.advance(float(body.get("minutes", 0)))
        return {"now": iso_text(self.now())}

    def _control_push(self, body):
        self.tamper_next_push = bool(body.get("tamper", self.tamper_next_push))
        status, text = self.push(body["order_id"], body.get("event", "paid"))
        return {"status": status, "body": text}
