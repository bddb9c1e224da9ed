"""KDNiao (快递鸟) HTTP API client and push helpers, without the ORM.

Facts: ../shared/reference/kdniao-api.md. One form-encoded POST per call (RequestData, EBusinessID,
RequestType, DataSign, DataType=2), JSON answers with PascalCase keys, DataSign =
Base64(lowercase hex MD5(RequestData + ApiKey)).
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import urllib.parse
from datetime import datetime

import requests

_logger = logging.getLogger(__name__)

SANDBOX_GATEWAY = "http://sandboxapi.kdniao.com:8080/kdniaosandbox/gateway/exterfaceInvoke.json"
PRODUCTION_BASE = "https://api.kdniao.com"
# KDNiao routes by RequestType; the path is the documented one for each family.
PATHS = {
    "1007": "/api/EOrderService",
    "1147": "/api/EOrderService",
    "1002": "/Ebusiness/EbusinessOrderHandle.aspx",
    "8001": "/Ebusiness/EbusinessOrderHandle.aspx",
    "8002": "/Ebusiness/EbusinessOrderHandle.aspx",
    "2002": "/Ebusiness/EbusinessOrderHandle.aspx",
    "1008": "/api/dist",
    "8008": "/api/dist",
    "6004": "/api/dist",
    "6006": "/api/dist",
    "1801": "/api/OOrderService",
    "1802": "/api/OOrderService",
}
SUCCESS_CODES = ("100", "106")  # 106: the OrderCode was already ordered, the original waybill comes back
SECRET_FIELDS = ("CustomerPwd", "MonthCode")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Characters KDNiao forbids inside values of order-type calls (reference §1.5).
FORBIDDEN_CHARACTERS = re.compile(r"['\"#&+<>%\\]")


class KdniaoError(Exception):
    """A call did not produce a usable answer. ``retryable`` tells whether trying again later may help."""

    retryable = False

    def __init__(self, message, result_code=None, reason=None):
        super().__init__(message)
        self.result_code = result_code
        self.reason = reason


class KdniaoTransportError(KdniaoError):
    """Timeout, connection failure, HTTP error status or an answer that is not JSON."""

    retryable = True


class KdniaoRateLimited(KdniaoError):
    retryable = True


class KdniaoBusinessError(KdniaoError):
    """KDNiao answered, and said no (ResultCode and Reason tell why)."""


# --------------------------------------------------------------------------- signing


def data_sign(request_data, api_key):
    hex_digest = hashlib.md5((request_data + api_key).encode("utf-8")).hexdigest()
    return base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


def _fully_unquoted(value):
    for _ in range(3):
        if "%" not in value:
            break
        value = urllib.parse.unquote(value)
    return value


def normalise_request_data(request_data):
    """KDNiao's own demos double-encode RequestData; after form decoding it may still be URL-encoded."""
    request_data = request_data or ""
    if request_data[:3].upper() == "%7B":
        request_data = urllib.parse.unquote(request_data)
    return request_data


def verify_sign(request_data, api_key, sign):
    if not (request_data and api_key and sign):
        return False
    expected = data_sign(normalise_request_data(request_data), api_key)
    return hmac.compare_digest(expected.encode(), _fully_unquoted(sign).encode())


def encode_request_data(payload):
    """Strict compact JSON, UTF-8 text kept as is (KDNiao signs the exact characters sent)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def redact(payload):
    """A copy of a request or answer safe for logs: carrier passwords and monthly codes masked."""
    if isinstance(payload, dict):
        return {key: ("***" if key in SECRET_FIELDS and value else redact(value)) for key, value in payload.items()}
    if isinstance(payload, list):
        return [redact(item) for item in payload]
    return payload


def sanitize(payload, pickup=False):
    """A copy of an order-type payload without the characters KDNiao rejects (3#楼 becomes 3号楼); pickup
    orders (1801) also refuse '/'."""
    if isinstance(payload, dict):
        return {key: sanitize(value, pickup) for key, value in payload.items()}
    if isinstance(payload, list):
        return [sanitize(item, pickup) for item in payload]
    if isinstance(payload, str):
        text = FORBIDDEN_CHARACTERS.sub(" ", payload.replace("#", "号"))
        return (text.replace("/", " ") if pickup else text).strip()
    return payload


def forbidden_characters(payload, path=""):
    """Names of the string values that hold characters KDNiao rejects in order-type calls."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            found += forbidden_characters(value, f"{path}.{key}" if path else key)
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            found += forbidden_characters(value, f"{path}[{index}]")
    elif isinstance(payload, str) and FORBIDDEN_CHARACTERS.search(payload):
        found.append(path)
    return found


# --------------------------------------------------------------------------- client


class KdniaoClient:
    def __init__(self, ebusiness_id, api_key, environment="sandbox", base_url=None, timeout=20, debug_logger=None):
        self.ebusiness_id = ebusiness_id
        self.api_key = api_key
        self.environment = environment
        self.base_url = (base_url or "").rstrip("/")
        self.timeout = timeout
        self.debug_logger = debug_logger

    def url_for(self, request_type):
        if self.base_url:
            if self.base_url.endswith(".json"):  # a gateway URL serves every RequestType
                return self.base_url
            return self.base_url + PATHS.get(request_type, "/api/dist")
        if self.environment == "production":
            return PRODUCTION_BASE + PATHS.get(request_type, "/api/dist")
        return SANDBOX_GATEWAY

    def call(self, request_type, payload):
        """POST one request; returns the decoded JSON answer. Raises KdniaoTransportError on no usable answer."""
        request_data = encode_request_data(payload)
        form = {
            "RequestData": request_data,
            "EBusinessID": self.ebusiness_id,
            "RequestType": request_type,
            "DataSign": data_sign(request_data, self.api_key),
            "DataType": "2",
        }
        url = self.url_for(request_type)
        self._debug(f"KDNiao {request_type} request to {url}", redact(payload))
        try:
            response = requests.post(
                url,
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            raise KdniaoTransportError(f"timeout after {self.timeout}s", reason=str(error)) from error
        except requests.RequestException as error:
            raise KdniaoTransportError(f"connection failed: {error}", reason=str(error)) from error
        if response.status_code != 200:
            raise KdniaoTransportError(f"HTTP {response.status_code}", reason=response.text[:500])
        try:
            answer = response.json()
        except ValueError as error:
            raise KdniaoTransportError("answer is not JSON", reason=response.text[:500]) from error
        if not isinstance(answer, dict):
            raise KdniaoTransportError("answer is not a JSON object", reason=response.text[:500])
        self._debug(f"KDNiao {request_type} answer", redact(answer))
        return answer

    def _debug(self, title, payload):
        if self.debug_logger:
            self.debug_logger(f"{title}\n{json.dumps(payload, ensure_ascii=False, indent=1)}")

    def call_checked(self, request_type, payload):
        """Like ``call``, but a refusal (Success false or a failing ResultCode) raises KdniaoBusinessError."""
        answer = self.call(request_type, payload)
        result_code = str(answer.get("ResultCode") or "")
        success = answer.get("Success") is True or str(answer.get("Success")).lower() == "true"
        if success and (not result_code or result_code in SUCCESS_CODES):
            return answer
        reason = str(answer.get("Reason") or "")
        if is_rate_limit(result_code, reason):
            raise KdniaoRateLimited(f"rate limited: {reason}", result_code=result_code, reason=reason)
        raise KdniaoBusinessError(reason or f"ResultCode {result_code}", result_code=result_code, reason=reason)

    # ------------------------------------------------------------------ operations

    def create_waybill(self, order):
        """1007: ``order`` is the RequestData dict (OrderCode, ShipperCode, Sender, Receiver, Commodity ...)."""
        return self.call_checked("1007", order)

    def cancel_waybill(self, shipper_code, order_code, waybill, customer_name=None, customer_pwd=None):
        payload = {"ShipperCode": shipper_code, "OrderCode": order_code, "ExpNo": waybill}
        if customer_name:
            payload["CustomerName"] = customer_name
        if customer_pwd:
            payload["CustomerPwd"] = customer_pwd
        return self.call_checked("1147", payload)

    def track(self, shipper_code, waybill, customer_name=None, order_code="", paid=True):
        """8001 (paid tier, with StateEx and event codes) or 1002 (free tier)."""
        payload = {"OrderCode": order_code or "", "ShipperCode": shipper_code, "LogisticCode": waybill}
        if customer_name:
            payload["CustomerName"] = customer_name
        return self.call_checked("8001" if paid else "1002", payload)

    def subscribe(self, shipper_code, waybill, customer_name=None, order_code="", callback="", paid=True):
        payload = {"ShipperCode": shipper_code, "LogisticCode": waybill, "OrderCode": order_code or ""}
        if customer_name:
            payload["CustomerName"] = customer_name
        if callback:
            payload["Callback"] = callback
        return self.call_checked("8008" if paid else "1008", payload)

    def recognise(self, waybill):
        """2002: candidate express companies for a waybill number, most likely first."""
        answer = self.call_checked("2002", {"LogisticCode": waybill})
        return [
            {"code": shipper.get("ShipperCode"), "name": shipper.get("ShipperName")}
            for shipper in answer.get("Shippers") or []
            if shipper.get("ShipperCode")
        ]

    def book_pickup(self, order):
        """1801 door-to-door pickup (上门取件); ``order`` as for 1007 with StartDate/EndDate."""
        return self.call_checked("1801", order)

    def cancel_pickup(self, order_code, reason=""):
        return self.call_checked("1802", {"OrderCode": order_code, "CancelType": "11", "CancelMsg": reason or "取消"})

    def predict_delivery(self, shipper_code, sender, receiver, waybill=None, catch_time=None):
        """6006 once shipped (with the waybill), else 6004: the expected delivery date."""
        payload = {
            "ShipperCode": shipper_code,
            "SendProvince": sender["ProvinceName"],
            "SendCity": sender["CityName"],
            "SendArea": sender["ExpAreaName"],
            "SendAddress": sender.get("Address", ""),
            "ReceiveProvince": receiver["ProvinceName"],
            "ReceiveCity": receiver["CityName"],
            "ReceiveArea": receiver["ExpAreaName"],
            "ReceiveAddress": receiver.get("Address", ""),
        }
        if catch_time:
            payload["CatchTime"] = catch_time.strftime(TIME_FORMAT)
        if waybill:
            payload["LogisticCode"] = waybill
        answer = self.call_checked("6006" if waybill else "6004", payload)
        return answer.get("Data") or {}


def is_rate_limit(result_code, reason):
    # KDNiao documents no throttling code (UNCONFIRMED); its reasons speak of frequency or limits.
    text = (reason or "").lower()
    return any(word in text for word in ("频繁", "频率", "限流", "超出", "rate limit", "too many"))


# --------------------------------------------------------------------------- push


PUSH_TYPES = ("101", "102", "103")  # track push (free / paid tier), pickup status push


class KdniaoPushError(ValueError):
    """A push that must be refused; ``reason`` is what KDNiao gets back."""


def parse_push(form, api_key_for):
    """Check and decode a KDNiao push (101/102 tracks, 103 pickups) from its form fields.

    ``api_key_for(ebusiness_id)`` returns the merchant key of an account, or None when unknown.
    Returns ``(ebusiness_id, request_type, data)``; raises KdniaoPushError for a forged or malformed push.
    """
    request_data = normalise_request_data(form.get("RequestData") or "")
    sign = form.get("DataSign") or ""
    request_type = str(form.get("RequestType") or "")
    if not request_data or not sign:
        raise KdniaoPushError("RequestData and DataSign are required")
    try:
        data = json.loads(request_data)
    except ValueError as error:
        raise KdniaoPushError("RequestData is not JSON") from error
    if not isinstance(data, dict) or not isinstance(data.get("Data"), list):
        raise KdniaoPushError("RequestData has no Data list")
    ebusiness_id = str(form.get("EBusinessID") or data.get("EBusinessID") or "")
    api_key = api_key_for(ebusiness_id) if ebusiness_id else None
    if not api_key:
        raise KdniaoPushError(f"unknown EBusinessID {ebusiness_id!r}")
    if not verify_sign(request_data, api_key, sign):
        raise KdniaoPushError("DataSign mismatch")
    if request_type not in PUSH_TYPES:
        raise KdniaoPushError(f"RequestType {request_type!r} is not a track or pickup push")
    return ebusiness_id, request_type, data


def push_answer(ebusiness_id, success, reason="", now=None):
    return {
        "EBusinessID": ebusiness_id or "",
        "UpdateTime": (now or datetime.now()).strftime(TIME_FORMAT),
        "Success": bool(success),
        "Reason": reason or "",
    }


def parse_time(value):
    """AcceptTime in the modern (2024-05-01 18:02:11) or the old (2014/06/25 08:05:37) form."""
    value = (value or "").strip().replace("/", "-")
    for pattern in (TIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise ValueError(f"unreadable AcceptTime {value!r}")
