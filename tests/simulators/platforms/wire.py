"""Wire-level helpers the platform simulators share: time and money formats, signature building
blocks, business-parameter parsing (raising BadParam, which each platform turns into its own error),
opaque cursors and the masks platforms apply to buyer data."""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

BEIJING = timezone(timedelta(hours=8))


# --------------------------------------------------------------------------- time, money, signatures


def beijing_text(moment):
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time; None stays None."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def parse_beijing_text(text):
    return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)


def epoch_seconds(moment):
    return int(moment.timestamp()) if moment else None


def epoch_millis(moment):
    return int(moment.timestamp() * 1000) if moment else None


def from_epoch(value, millis=False):
    number = int(value)
    return datetime.fromtimestamp(number / 1000 if millis else number, tz=timezone.utc)


def iso_text(moment, zone=BEIJING):
    """ISO 8601 with offset, seconds precision (Shopify style)."""
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None


def parse_iso(text, naive_zone=BEIJING):
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=naive_zone)


def yuan_text(amount):
    return str(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fen(amount):
    return int((Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def hmac_hex(secret, text, algorithm):
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), algorithm).hexdigest()


def b64_hmac_sha256(secret, raw):
    raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()).decode()


def sign_value_text(value):
    """How TOP-style gateways write a value into the string to sign (PDD: JSON for nested, true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def sorted_concat(params):
    """``k1v1k2v2…`` over every param but ``sign``, sorted by name, empty values skipped."""
    return "".join(
        f"{key}{sign_value_text(value)}" for key, value in sorted(params.items())
        if key != "sign" and value not in (None, "")
    )


def wrapped_md5_upper(params, secret):
    """TOP (md5), PDD and JD: MD5(secret + sorted k+v + secret), upper hex."""
    return md5_hex(secret + sorted_concat(params) + secret).upper()


def same_text(expected, given):
    return hmac.compare_digest(str(expected).encode("utf-8"), str(given or "").encode("utf-8"))


def compact_json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def aes_cbc_encrypt(key, iv, plaintext):
    """AES/CBC/PKCS#7 (= PKCS5Padding) as the Kuaishou and Youzan message channels use."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


# --------------------------------------------------------------------------- business parameters


class BadParam(Exception):
    """A business parameter problem; each platform turns it into its own error reply.

    ``kind``: missing, invalid, window (span over the limit), reversed (end before start),
    too_old (start beyond the history the platform serves).
    """

    def __init__(self, kind, name, message):
        super().__init__(message)
        self.kind, self.name, self.message = kind, name, message


def need(params, name):
    value = params.get(name)
    if value in (None, ""):
        raise BadParam("missing", name, f"缺少必填参数: {name}")
    return value


def int_param(params, name, default=None, low=None, high=None):
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise BadParam("missing", name, f"缺少必填参数: {name}")
        raw = default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadParam("invalid", name, f"参数 {name} 格式错误: {raw}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadParam("invalid", name, f"参数 {name} 超出范围 [{low}, {high}]: {value}")
    return value


def time_param(params, name, parse, default=None):
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise BadParam("missing", name, f"缺少必填参数: {name}")
        return default
    try:
        return parse(raw)
    except (TypeError, ValueError, OverflowError):
        raise BadParam("invalid", name, f"参数 {name} 时间格式错误: {raw}") from None


def check_window(start, end, max_span, oldest=None):
    if end < start:
        raise BadParam("reversed", "end", "结束时间不能早于开始时间")
    if max_span is not None and end - start > max_span:
        raise BadParam("window", "end", f"查询时间跨度不能超过 {format_span(max_span)}")
    if oldest is not None and start < oldest:
        raise BadParam("too_old", "start", "开始时间超出可查询的历史范围")


def format_span(span):
    minutes = int(span.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}天"
    return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


def json_param(params, name, default=None):
    """A parameter that travels as a JSON string (or already decoded, from a JSON body)."""
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise BadParam("missing", name, f"缺少必填参数: {name}")
        return default
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise BadParam("invalid", name, f"参数 {name} 不是合法的JSON") from None


# --------------------------------------------------------------------------- paging and masks


def page_of(items, page, size):
    """(items of 1-based ``page``, has_next, total)."""
    start = (page - 1) * size
    return items[start:start + size], start + size < len(items), len(items)


def encoded_cursor(offset):
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decoded_cursor(cursor):
    """The offset inside an opaque cursor; ValueError when the cursor was not issued here."""
    padded = cursor + "=" * (-len(cursor) % 4)
    text = base64.urlsafe_b64decode(padded.encode()).decode()
    if not text.startswith("o:"):
        raise ValueError(cursor)
    return int(text[2:])


def mask_name(name):
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def mask_mobile(mobile):
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "*" * len(mobile)


def mask_address(address):
    return (address[:3] + "****") if address else ""


def virtual_number(mobile):
    """A privacy (virtual) number as platforms hand out instead of the buyer's own: ``number-extension``."""
    digest = int(md5_hex(mobile)[:8], 16)
    return f"1{7 + digest % 3}{digest % 10**9:09d}-{digest % 9000 + 1000}"
