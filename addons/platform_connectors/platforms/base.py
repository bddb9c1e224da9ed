"""Canonical order model, errors, helpers and the abstract client shared by every platform.

Plain Python (stdlib + requests; `cryptography` only to decrypt AES pushes): importable without Odoo. Reference: shared/reference/platform-apis.md.
"""

import abc
import base64
import dataclasses
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import requests

BEIJING = timezone(timedelta(hours=8))
# "No limit" for platforms that do not cap the modified-time window (Shopify, WooCommerce).
UNLIMITED_WINDOW = timedelta(days=3650)
CENT = Decimal("0.01")

# Canonical statuses. §10.2 of the reference has more states than the core keeps; they are folded in as:
# awaiting_shipment, partially_shipped and on_hold -> "paid" (the last two with a risk flag),
# delivered -> "completed", and its "cancelled" row is split into "cancelled" (never paid) and
# "closed" (paid, then closed by a full refund). "refunding" replaces "paid" while a refund is open,
# which is the reference's ship-blocking rule.
UNPAID = "unpaid"
PAID = "paid"
SHIPPED = "shipped"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDING = "refunding"
CLOSED = "closed"
CANONICAL_STATUSES = (UNPAID, PAID, SHIPPED, COMPLETED, CANCELLED, REFUNDING, CLOSED)
# Status-table marker for platform states that mean "ended" whether or not the buyer had paid.
ENDED = "ended"

FLAG_ON_HOLD = "on_hold"
FLAG_PARTIALLY_SHIPPED = "partially_shipped"
FLAG_RISK_CONTROL = "risk_control"
FLAG_UNKNOWN_STATUS = "unknown_status"

PUSH_ORDER = "order"
PUSH_REFUND = "refund"
PUSH_CANCEL = "cancel"
PUSH_OTHER = "other"


# ---------------------------------------------------------------------------------------------------------
# Canonical model
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CanonicalAddress:
    name: str = ""
    mobile: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    zip: str = ""
    country_code: str = "CN"
    encrypted: bool = False
    raw: dict = field(default_factory=dict)


@dataclass
class CanonicalLine:
    platform_line_id: str = ""
    platform_sku_id: str = ""
    merchant_code: str = ""
    title: str = ""
    quantity: int = 0
    unit_price: Decimal = Decimal("0")
    amount: Decimal = Decimal("0")
    refund_status: str = ""


@dataclass
class CanonicalOrder:
    platform: str
    platform_order_id: str
    platform_status: str
    status: str
    buyer_nick: str = ""
    buyer_remark: str = ""
    seller_memo: str = ""
    receiver: CanonicalAddress = field(default_factory=CanonicalAddress)
    lines: list = field(default_factory=list)
    currency: str = "CNY"
    total_amount: Decimal = Decimal("0")
    shipping_amount: Decimal = Decimal("0")
    discount_amount: Decimal = Decimal("0")
    paid_amount: Decimal = Decimal("0")
    created_at: datetime = None
    paid_at: datetime = None
    modified_at: datetime = None
    risk_flags: list = field(default_factory=list)
    # A refund is open on the order or one of its lines (after shipment the status alone does not say so).
    refund_active: bool = False
    raw: dict = field(default_factory=dict)


@dataclass
class FetchPage:
    orders: list
    next_cursor: str = None
    has_more: bool = False


@dataclass
class PushEvent:
    kind: str
    platform_order_id: str = ""
    order: CanonicalOrder = None
    raw: dict = field(default_factory=dict)
    topic: str = ""
    # Platform message id, for de-duplicating redeliveries (§12).
    event_id: str = ""


@dataclass
class TokenInfo:
    access_token: str
    refresh_token: str = None
    expires_at: datetime = None


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


class PlatformError(Exception):
    default_retryable = False

    def __init__(self, message, code=None, retryable=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = self.default_retryable if retryable is None else retryable


class AuthExpired(PlatformError):
    """The access token is expired or invalid: refresh it (or re-authorise) before retrying."""


class RateLimited(PlatformError):
    default_retryable = True


class SignatureError(PlatformError):
    pass


class TransportError(PlatformError):
    """Timeouts, connection failures, HTTP 5xx and unreadable answers."""

    default_retryable = True


def platform_error(message, code=None, *, auth=False, rate_limited=False, signature=False, retryable=False):
    """The exception matching a platform's error classification."""
    code = None if code in (None, "") else str(code)
    if auth:
        return AuthExpired(message, code)
    if rate_limited:
        return RateLimited(message, code)
    if signature:
        return SignatureError(message, code)
    return PlatformError(message, code, retryable)


def join_message(*parts):
    """A platform error message from its non-empty parts (msg / sub_code / sub_msg …)."""
    return " / ".join(text(part) for part in parts if part not in (None, ""))


def mentions(message, words):
    lowered = (message or "").lower()
    return any(word in lowered for word in words)


# Gateways whose rate-limit and signature error codes are UNCONFIRMED are recognised by their message.
RATE_LIMIT_WORDS = ("频繁", "限流", "频率", "exceed qps", "exceed quota", "call frequency", "too many requests")
SIGNATURE_WORDS = ("签名", "signature")


# ---------------------------------------------------------------------------------------------------------
# Values: text, money, time
# ---------------------------------------------------------------------------------------------------------


def text(value):
    return "" if value is None else str(value)


def first_text(*values):
    """The first non-empty value as text (masked twin fallbacks, merchant-code fallbacks)."""
    for value in values:
        if value not in (None, "", 0, "0"):
            return str(value)
    return ""


def as_list(value, wrapper_key=None):
    """A list from a JSON value that may be None, one object, a list, or a TOP-style wrapper {key: [...]}."""
    if wrapper_key and isinstance(value, dict) and wrapper_key in value:
        value = value[wrapper_key]
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)


def truthy(value):
    return value is True or str(value).lower() in ("true", "1")


def to_int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def decimal_amount(value):
    """Yuan/dollar amounts given as strings or JSON numbers (str() first so floats keep their digits)."""
    if value in (None, ""):
        return Decimal("0")
    return Decimal(str(value))


def fen_amount(value):
    """Integer fen/cents to currency units."""
    return (Decimal(to_int(value)) / 100).quantize(CENT)


def title_with_variant(title, variant):
    return f"{title} {variant}".strip() if variant else text(title)


def utc_naive(moment):
    """Naive UTC from a naive-UTC or an aware datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def utc_now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_beijing(value):
    """`yyyy-MM-dd HH:mm:ss` in Beijing time -> naive UTC."""
    if not value:
        return None
    local = datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    return utc_naive(local)


def format_beijing(moment):
    return utc_naive(moment).replace(tzinfo=timezone.utc).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def from_epoch_seconds(value):
    seconds = to_int(value)
    return datetime(1970, 1, 1) + timedelta(seconds=seconds) if seconds else None


def from_epoch_millis(value):
    millis = to_int(value)
    return datetime(1970, 1, 1) + timedelta(milliseconds=millis) if millis else None


def epoch_seconds(moment):
    return int((utc_naive(moment) - datetime(1970, 1, 1)).total_seconds())


def epoch_millis(moment):
    return int((utc_naive(moment) - datetime(1970, 1, 1)) / timedelta(milliseconds=1))


def parse_iso(value):
    """ISO 8601 -> naive UTC; a value without an offset is taken as UTC (WooCommerce `*_gmt` fields)."""
    if not value:
        return None
    # Python 3.10's fromisoformat does not read a trailing "Z".
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return utc_naive(moment)


def format_iso_utc(moment):
    return utc_naive(moment).replace(tzinfo=timezone.utc).isoformat()


def expiry_in(seconds):
    return utc_now() + timedelta(seconds=to_int(seconds)) if seconds not in (None, "") else None


def dig(data, path):
    """`a.b.c` in nested dicts; None when a step is missing."""
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def pick(data, spec):
    """A value located by `spec`: a key or dotted path, a function of the whole object, a tuple of
    such alternatives (the first non-empty wins), or None (nothing)."""
    if spec is None:
        return None
    if callable(spec):
        return spec(data)
    if isinstance(spec, str):
        return dig(data, spec)
    for alternative in spec:
        value = pick(data, alternative)
        if value not in (None, ""):
            return value
    return None


def split_window(start, end, max_window):
    """Cut [start, end) into consecutive windows no longer than max_window."""
    start, end = utc_naive(start), utc_naive(end)
    windows = []
    while start < end:
        window_end = min(start + max_window, end)
        windows.append((start, window_end))
        start = window_end
    return windows


# ---------------------------------------------------------------------------------------------------------
# Signatures and crypto
# ---------------------------------------------------------------------------------------------------------


def compact_json(value, sort_keys=False):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


def sign_value(value):
    """How the TOP-style gateways write a parameter value: booleans lower-case, structures as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return compact_json(value)
    return str(value)


def stringify_params(params):
    return {key: sign_value(value) for key, value in params.items() if value is not None}


def sorted_key_values(params):
    """Sorted `k1v1k2v2…` over all parameters except `sign`, empty values and file (bytes) values."""
    return "".join(
        f"{key}{value}"
        for key, value in sorted(params.items())
        if key != "sign" and value not in (None, "") and not isinstance(value, bytes)
    )


def md5_hex(data):
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


def wrapped_md5_upper(params, secret):
    """TOP (sign_method=md5), Pinduoduo and JD: MD5(secret + sorted k+v + secret), upper hex."""
    return md5_hex(secret + sorted_key_values(params) + secret).upper()


def as_bytes(body):
    return body.encode() if isinstance(body, str) else bytes(body)


def body_md5(left, body, right):
    """Douyin `event-sign` and Youzan `Event-Sign`: lower-hex MD5(left + raw body + right)."""
    return md5_hex(left.encode() + as_bytes(body) + right.encode())


def b64_hmac_sha256(secret, body):
    """Shopify and WooCommerce webhook signatures over the raw body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), as_bytes(body), hashlib.sha256).digest()).decode()


def same_signature(expected, given):
    # Compared as bytes: compare_digest refuses non-ASCII str, and a forged header may carry anything.
    return bool(given) and hmac.compare_digest(str(expected).encode(), str(given).encode())


def aes_cbc_decrypt(key, iv, data):
    """AES-CBC with PKCS#7 padding (Kuaishou pushes, Youzan encrypted `msg`)."""
    # `cryptography` is an Odoo 18 requirement; imported here so that signing-only users do not need it.
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# ---------------------------------------------------------------------------------------------------------
# Statuses, receivers, pushes
# ---------------------------------------------------------------------------------------------------------


def canonical_status(table, raw, *, paid=False, refund_active=False):
    """Map a raw platform status through `table` (raw -> status, or (status, risk flag…)).

    Returns (status, risk_flags). An unknown raw status is treated as not shippable.
    """
    entry = table.get(raw)
    if entry is None:
        return UNPAID, [FLAG_UNKNOWN_STATUS]
    status, *flags = entry if isinstance(entry, tuple) else (entry,)
    if status == ENDED:
        status = CLOSED if paid else CANCELLED
    if status == PAID and refund_active:
        status = REFUNDING
    return status, list(flags)


CIPHER_MARKERS = "~$#"


def looks_encrypted(value):
    """Platform ciphertexts are delimited: PDD `~…~~` / `$…$$`, Douyin `#…#` / `$$…$$`, Youzan `$…$1$`."""
    value = text(value)
    return len(value) > 2 and value[0] in CIPHER_MARKERS and value[-1] in CIPHER_MARKERS


def looks_masked(value):
    return "*" in text(value)


def build_address(raw, *, encrypted=None, **parts):
    """A CanonicalAddress; `encrypted` defaults to "any personal field is masked or ciphertext"."""
    values = {key: text(value) for key, value in parts.items()}
    address = CanonicalAddress(raw=raw or {}, **values)
    if encrypted is None:
        personal = (address.name, address.mobile, address.phone, address.street)
        encrypted = any(looks_encrypted(value) or looks_masked(value) for value in personal)
    address.encrypted = encrypted
    return address


def replace_ciphertexts(address, plain_by_cipher):
    """The address with every field found in `plain_by_cipher` replaced by its plaintext."""
    changes = {
        name: plain_by_cipher[getattr(address, name)]
        for name in ("name", "mobile", "phone", "street")
        if getattr(address, name) in plain_by_cipher
    }
    still_protected = any(
        looks_encrypted(getattr(address, name)) for name in ("name", "mobile", "phone", "street") if name not in changes
    )
    return dataclasses.replace(address, encrypted=still_protected, **changes)


def push_kind(topic):
    """Classify a message topic/event name (TMC, PDD, Kuaishou, Youzan, Shopify, WooCommerce)."""
    lowered = text(topic).lower()
    if "refund" in lowered:
        return PUSH_REFUND
    if any(word in lowered for word in ("cancel", "close", "fail", "delete")):
        return PUSH_CANCEL
    if "trade" in lowered or "order" in lowered:
        return PUSH_ORDER
    return PUSH_OTHER


def header(headers, name):
    """Case-insensitive header lookup on a plain dict (or any mapping)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def load_json(body):
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    return json.loads(body)


def loads_or_empty(value):
    """A JSON-object string field (message `content`, `info`, `data`) -> dict; {} when it is not one."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def gateway_url(base_url, production_url):
    """An overriding base URL; a bare `scheme://host[:port]` gets the production gateway's path appended."""
    if urlsplit(base_url).path in ("", "/"):
        return base_url.rstrip("/") + urlsplit(production_url).path.rstrip("/")
    return base_url.rstrip("/")


def url_origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# ---------------------------------------------------------------------------------------------------------
# Field maps: where each platform keeps the canonical values (the columns of §10.3), as `pick` specs
# ---------------------------------------------------------------------------------------------------------

ORDER_TEXTS = ("platform_order_id", "platform_status", "buyer_nick", "buyer_remark", "seller_memo", "currency")
ORDER_AMOUNTS = ("total_amount", "shipping_amount", "discount_amount", "paid_amount")
ORDER_TIMES = ("created_at", "paid_at", "modified_at")


@dataclass(frozen=True)
class OrderFields:
    platform_order_id: object
    platform_status: object
    created_at: object = None
    paid_at: object = None
    modified_at: object = None
    total_amount: object = None
    shipping_amount: object = None
    discount_amount: object = None
    paid_amount: object = None
    buyer_nick: object = None
    buyer_remark: object = None
    seller_memo: object = None
    currency: object = None
    money: object = decimal_amount  # or fen_amount
    moment: object = parse_beijing  # or from_epoch_seconds, from_epoch_millis, parse_iso

    def values(self, header):
        values = {name: text(pick(header, getattr(self, name))) for name in ORDER_TEXTS}
        values.update((name, self.money(pick(header, getattr(self, name)))) for name in ORDER_AMOUNTS)
        values.update((name, self.moment(pick(header, getattr(self, name)))) for name in ORDER_TIMES)
        return values


@dataclass(frozen=True)
class LineFields:
    platform_line_id: object
    platform_sku_id: object
    merchant_code: object  # fallbacks in order; empty and 0 are skipped
    title: object
    variant: object = None
    quantity: object = None
    unit_price: object = None
    amount: object = None  # when absent: unit_price × quantity
    refund_status: object = None
    money: object = decimal_amount

    def line(self, item):
        unit_price = self.money(pick(item, self.unit_price))
        quantity = to_int(pick(item, self.quantity))
        amount = pick(item, self.amount)
        codes = self.merchant_code if isinstance(self.merchant_code, tuple) else (self.merchant_code,)
        return CanonicalLine(
            platform_line_id=text(pick(item, self.platform_line_id)),
            platform_sku_id=text(pick(item, self.platform_sku_id)),
            merchant_code=first_text(*(pick(item, code) for code in codes)),
            title=title_with_variant(text(pick(item, self.title)), text(pick(item, self.variant))),
            quantity=quantity,
            unit_price=unit_price,
            amount=unit_price * quantity if amount is None else self.money(amount),
            refund_status=text(pick(item, self.refund_status)),
        )


def address_from(source, fields, *, encrypted=None, raw=None):
    """A CanonicalAddress from a {part: pick spec} map applied to `source` (kept as raw unless given)."""
    parts = {part: pick(source, spec) for part, spec in fields.items()}
    return build_address(source if raw is None else raw, encrypted=encrypted, **parts)


def joined(*paths):
    """A pick spec joining several text fields with spaces (address lines, first + last name)."""
    return lambda data: " ".join(text(dig(data, path)) for path in paths if dig(data, path))


def decrypt_ciphertexts(receiver, decrypt_batch):
    """Decrypt the ciphertext fields of `receiver` with `decrypt_batch(ciphers) -> {cipher: plaintext}`."""
    ciphers = [
        value for value in (receiver.name, receiver.mobile, receiver.phone, receiver.street) if looks_encrypted(value)
    ]
    if not ciphers:
        return receiver
    return replace_ciphertexts(receiver, decrypt_batch(ciphers))


# ---------------------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------------------


class PlatformClient(abc.ABC):
    """One seller's connection to one platform.

    Datetimes in and out are naive UTC. `webhook_secret` is the push/webhook key where a platform uses one
    other than the app secret (WooCommerce webhook secret, Kuaishou message key, Shopify custom-app key).
    """

    code = ""
    production_url = ""
    max_window = UNLIMITED_WINDOW
    page_size = 100
    currency = "CNY"

    def __init__(
        self,
        app_key,
        app_secret,
        access_token=None,
        refresh_token=None,
        base_url=None,
        shop_ref=None,
        timeout=20,
        *,
        webhook_secret=None,
        page_size=None,
    ):
        self.app_key = app_key
        if page_size:
            # Smaller pages for shops that hit the platform's rate limits; never above what the platform allows.
            self.page_size = min(int(page_size), type(self).page_size)
        self.app_secret = app_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.shop_ref = shop_ref
        self.timeout = timeout
        self.webhook_secret = webhook_secret
        self.base_url = gateway_url(base_url, self.production_url) if base_url else self._production_url().rstrip("/")
        self._session = requests.Session()

    def _production_url(self):
        return self.production_url

    # -- the interface -----------------------------------------------------------------------------------

    @abc.abstractmethod
    def fetch_orders(self, start, end, cursor=None):
        """One page of orders modified in [start, end) (naive UTC, at most `max_window` apart)."""

    @abc.abstractmethod
    def fetch_order(self, platform_order_id):
        """The current state of one order."""

    @abc.abstractmethod
    def parse_order(self, raw):
        """The canonical order of one platform order payload; `CanonicalOrder.raw` parses back the same way."""

    @abc.abstractmethod
    def verify_push(self, headers, body):
        """True when a pushed HTTP request is authentic."""

    @abc.abstractmethod
    def parse_push(self, headers, body):
        """The events in a (verified) push."""

    @abc.abstractmethod
    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        """Tell the platform the order (or the given lines) left with `waybill` of `carrier_code`."""

    @abc.abstractmethod
    def refresh_access_token(self):
        """Get a new access token; the client keeps using it and the caller stores the returned TokenInfo."""

    def decrypt_receiver(self, order):
        """The receiver in plaintext where the platform offers a decrypt call; otherwise as given."""
        return order.receiver

    def sign(self, params):
        raise NotImplementedError(f"{self.code} does not sign API requests")

    def split_window(self, start, end):
        return split_window(start, end, self.max_window)

    # -- helpers for subclasses --------------------------------------------------------------------------

    def _now(self):
        return utc_now()

    def _check_window(self, start, end):
        if end <= start:
            raise ValueError(f"{self.code}: the window end {end} is not after its start {start}")
        if end - start > self.max_window:
            raise ValueError(f"{self.code}: window {start} – {end} is longer than {self.max_window}; use split_window")

    def _refuse_partial_shipment(self, line_ids):
        if line_ids:
            raise PlatformError(f"{self.code}: the ship call covers whole orders; partial shipment is not supported")

    def _keep_token(self, token):
        self.access_token = token.access_token
        if token.refresh_token:
            self.refresh_token = token.refresh_token
        return token

    def _send(self, method, url, **kwargs):
        """One HTTP exchange; network failures and 5xx become TransportError."""
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise TransportError(f"{self.code}: no answer from {url} within {self.timeout}s") from exc
        except requests.RequestException as exc:
            raise TransportError(f"{self.code}: cannot reach {url}: {exc}") from exc
        if response.status_code >= 500:
            raise TransportError(
                f"{self.code}: HTTP {response.status_code} from {url}: {response.text[:200]}",
                code=str(response.status_code),
            )
        return response

    def _decode(self, response):
        try:
            return response.json()
        except ValueError as exc:
            message = f"{self.code}: HTTP {response.status_code}, not JSON: {response.text[:200]!r}"
            if response.ok:
                raise TransportError(message) from exc
            raise PlatformError(message, code=str(response.status_code)) from exc

    def _decode_object(self, response):
        payload = self._decode(response)
        if not isinstance(payload, dict):
            raise TransportError(f"{self.code}: expected a JSON object, got {type(payload).__name__}")
        return payload

    def _canonical_order(
        self, header, fields, *, lines, receiver, raw=None, status_table=None, refund_active=False, **overrides
    ):
        """A CanonicalOrder from a header mapped by `fields`; with `status_table` the status comes from it
        (paid = a payment time is known), otherwise `status` and `risk_flags` must be in `overrides`."""
        values = fields.values(header)
        if status_table is not None:
            values["status"], values["risk_flags"] = canonical_status(
                status_table, values["platform_status"], paid=values["paid_at"] is not None, refund_active=refund_active
            )
        values.update(
            platform=self.code,
            currency=values["currency"] or self.currency,
            lines=lines,
            receiver=receiver,
            raw=header if raw is None else raw,
            refund_active=bool(refund_active),
        )
        values.update(overrides)
        return CanonicalOrder(**values)

    def _body_md5_push_is_authentic(self, headers, body, app_header, sign_header):
        """Douyin/Youzan style: lower-hex MD5(app key + raw body + app secret), sent by our own app."""
        sender = header(headers, app_header)
        if sender and sender != str(self.app_key):
            return False
        expected = body_md5(str(self.app_key), body, self.app_secret)
        return same_signature(expected, text(header(headers, sign_header)).lower())

    def _hmac_push_is_authentic(self, headers, body, sign_header):
        """Shopify/WooCommerce style: base64(HMAC-SHA256(webhook secret, raw body))."""
        expected = b64_hmac_sha256(self.webhook_secret or self.app_secret, body)
        return same_signature(expected, header(headers, sign_header))

    def _accept_token(self, payload, expires_at=None):
        """Keep and return the token of a refresh answer; no token means the grant was refused."""
        if not payload.get("access_token"):
            raise AuthExpired(f"{self.code}: token refresh refused: {payload}", text(payload.get("code")) or None)
        expires_at = expires_at or expiry_in(payload.get("expires_in"))
        return self._keep_token(TokenInfo(payload["access_token"], payload.get("refresh_token"), expires_at))

    def _page(self, orders, page, has_more):
        """A FetchPage for page-numbered APIs: the cursor is the next page number."""
        return FetchPage([self.parse_order(order) for order in orders], str(page + 1) if has_more else None, has_more)
