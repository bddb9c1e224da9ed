"""Taobao / Tmall Open Platform (TOP) — reference §1."""

import dataclasses
import hashlib
import hmac
from datetime import timedelta

from .base import (
    CANCELLED,
    CLOSED,
    COMPLETED,
    FLAG_ON_HOLD,
    FLAG_PARTIALLY_SHIPPED,
    PAID,
    SHIPPED,
    UNPAID,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
    as_list,
    format_beijing,
    join_message,
    load_json,
    loads_or_empty,
    platform_error,
    push_kind,
    sorted_key_values,
    stringify_params,
    text,
    to_int,
    truthy,
    wrapped_md5_upper,
)

GATEWAY = "https://gw.api.taobao.com/router/rest"

TRADE_FIELDS = ",".join(
    [
        "tid", "status", "type", "buyer_nick", "buyer_open_uid", "seller_nick", "created", "modified", "pay_time",
        "consign_time", "end_time", "receiver_name", "receiver_mobile", "receiver_phone", "receiver_country",
        "receiver_state", "receiver_city", "receiver_district", "receiver_town", "receiver_address", "receiver_zip",
        "buyer_message", "buyer_memo", "seller_memo", "seller_flag", "total_fee", "post_fee", "discount_fee",
        "adjust_fee", "payment", "oaid", "orders",
    ]
)  # fmt: skip

STATUS_TABLE = {
    "TRADE_NO_CREATE_PAY": UNPAID,
    "WAIT_BUYER_PAY": UNPAID,
    "PAY_PENDING": UNPAID,
    "WAIT_SELLER_SEND_GOODS": PAID,
    "SELLER_CONSIGNED_PART": (PAID, FLAG_PARTIALLY_SHIPPED),
    "PAID_FORBID_CONSIGN": (PAID, FLAG_ON_HOLD),
    "WAIT_PRE_AUTH_CONFIRM": (PAID, FLAG_ON_HOLD),
    "WAIT_BUYER_CONFIRM_GOODS": SHIPPED,
    "TRADE_BUYER_SIGNED": COMPLETED,
    "TRADE_FINISHED": COMPLETED,
    "TRADE_CLOSED": CLOSED,  # closed after payment: full refund or cancellation
    "TRADE_CLOSED_BY_TAOBAO": CANCELLED,  # closed before payment
}
OPEN_REFUND_STATES = {"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"}

ORDER_FIELDS = OrderFields(
    platform_order_id="tid",
    platform_status="status",
    created_at="created",
    paid_at="pay_time",
    modified_at="modified",
    total_amount="total_fee",
    shipping_amount="post_fee",
    discount_amount="discount_fee",
    paid_amount="payment",
    buyer_nick="buyer_nick",
    buyer_remark="buyer_message",
    seller_memo="seller_memo",
)
LINE_FIELDS = LineFields(
    platform_line_id="oid",
    platform_sku_id="sku_id",
    merchant_code=("outer_sku_id", "outer_iid"),
    title="title",
    variant="sku_properties_name",
    quantity="num",
    unit_price="price",
    amount=("payment", "total_fee"),
    refund_status="refund_status",
)
RECEIVER_FIELDS = {
    "name": "receiver_name",
    "mobile": "receiver_mobile",
    "phone": "receiver_phone",
    "province": "receiver_state",
    "city": "receiver_city",
    "district": "receiver_district",
    "street": "receiver_address",
    "zip": "receiver_zip",
}
DECRYPTED_FIELDS = {
    "name": "name",
    "mobile": "mobile",
    "phone": "phone",
    "province": "state",
    "city": "city",
    "district": "district",
    "street": "address_detail",
}

RATE_LIMIT_CODES = {"7"}
SESSION_CODES = {"26", "27"}
SIGNATURE_CODES = {"24", "25"}

# UNCONFIRMED choice: decrypt scene 1004 ("other e-waybill") because labels come from KDNiao, not Cainiao.
DEFAULT_DECRYPT_SCENE = "1004"


def top_sign(params, secret):
    """TOP signature (§1.4): md5 wraps the secret around sorted k+v; hmac/hmac-sha256 key it; upper hex."""
    method = params.get("sign_method", "md5")
    if method == "md5":
        return wrapped_md5_upper(params, secret)
    digestmod = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(secret.encode(), sorted_key_values(params).encode(), digestmod).hexdigest().upper()


def response_key(method):
    """`taobao.trades.sold.increment.get` -> `trades_sold_increment_get_response`."""
    name = method[len("taobao.") :] if method.startswith("taobao.") else method
    return name.replace(".", "_") + "_response"


def top_error(error):
    code = text(error.get("code"))
    sub_code = text(error.get("sub_code"))
    message = join_message(error.get("msg"), sub_code, error.get("sub_msg"))
    return platform_error(
        f"taobao: {message}",
        code,
        auth=code in SESSION_CODES,
        rate_limited=code in RATE_LIMIT_CODES,
        signature=code in SIGNATURE_CODES,
        retryable=sub_code.startswith("isp."),  # isp.* = platform fault, isv.* = ours
    )


class TaobaoClient(PlatformClient):
    code = "taobao"
    production_url = GATEWAY
    max_window = timedelta(days=1)  # hard limit of trades.sold.increment.get (the docs advise 30 minutes)
    page_size = 100

    def __init__(self, *args, sign_method="md5", decrypt_scene=DEFAULT_DECRYPT_SCENE, tmc_group="default", **kwargs):
        super().__init__(*args, **kwargs)
        self.sign_method = sign_method
        self.decrypt_scene = decrypt_scene
        self.tmc_group = tmc_group

    def sign(self, params):
        return top_sign(params, self.app_secret)

    def _call(self, method, business=None, with_session=True):
        params = {
            "method": method,
            "app_key": self.app_key,
            "timestamp": format_beijing(self._now()),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
        }
        if with_session and self.access_token:
            params["session"] = self.access_token
        params.update(stringify_params(business or {}))
        params["sign"] = self.sign(params)
        payload = self._decode_object(self._send("POST", self.base_url, data=params))
        if "error_response" in payload:
            raise top_error(payload["error_response"])
        return payload.get(response_key(method)) or {}

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 1)
        result = self._call(
            "taobao.trades.sold.increment.get",
            {
                "fields": TRADE_FIELDS,
                "start_modified": format_beijing(start),
                "end_modified": format_beijing(end),
                "page_no": page,
                "page_size": self.page_size,
                "use_has_next": "true",
            },
        )
        return self._page(as_list(result.get("trades"), "trade"), page, truthy(result.get("has_next")))

    def fetch_order(self, platform_order_id):
        result = self._call("taobao.trade.fullinfo.get", {"tid": platform_order_id, "fields": TRADE_FIELDS})
        if not result.get("trade"):
            raise PlatformError(f"taobao: trade {platform_order_id} not found")
        return self.parse_order(result["trade"])

    def parse_order(self, trade):
        lines = [LINE_FIELDS.line(order) for order in as_list(trade.get("orders"), "order")]
        return self._canonical_order(
            trade,
            ORDER_FIELDS,
            lines=lines,
            # Masked values (e.g. 张**) are kept as given; `oaid` in raw is the key for decrypt_receiver.
            receiver=address_from(trade, RECEIVER_FIELDS),
            status_table=STATUS_TABLE,
            refund_active=any(line.refund_status in OPEN_REFUND_STATES for line in lines),
        )

    def decrypt_receiver(self, order):
        oaid = order.raw.get("oaid")
        if not (oaid and order.receiver.encrypted):
            return order.receiver
        query = [{"oaid": oaid, "tid": order.platform_order_id, "scene": self.decrypt_scene}]
        result = self._call("taobao.top.oaid.decrypt", {"query_list": query})
        receivers = as_list(result.get("receiver_list"), "receiver")
        if not receivers:
            raise PlatformError(f"taobao: oaid.decrypt returned no receiver for {order.platform_order_id}")
        plain = address_from(receivers[0], DECRYPTED_FIELDS, encrypted=False)
        return dataclasses.replace(plain, zip=order.receiver.zip, country_code=order.receiver.country_code)

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        params = {"tid": platform_order_id, "out_sid": waybill, "company_code": carrier_code}
        if line_ids:
            params.update(is_split=1, sub_tid=",".join(text(line_id) for line_id in line_ids))
        result = self._call("taobao.logistics.offline.send", params)
        if not truthy((result.get("shipping") or {}).get("is_success")):
            raise PlatformError(f"taobao: offline.send did not succeed for {platform_order_id}: {result}")
        return result

    def refresh_access_token(self):
        # Only apps sold through the service market may refresh; others must re-authorise (§1.2).
        result = self._call("taobao.top.auth.token.refresh", {"refresh_token": self.refresh_token}, with_session=False)
        return self._accept_token(loads_or_empty(result.get("token_result")))

    # -- TMC messages ------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """TOP never pushes over HTTP: TMC messages arrive on the authenticated websocket or through
        `taobao.tmc.messages.consume` (see consume_messages), and carry no per-message signature (§1.7 g).
        An HTTP request claiming to be a Taobao push therefore proves nothing and is refused."""
        return False

    def parse_push(self, headers, body):
        """TMC message JSON: one message, a list of them, or a whole messages.consume answer."""
        payload = load_json(body)
        if isinstance(payload, dict) and response_key("taobao.tmc.messages.consume") in payload:
            payload = payload[response_key("taobao.tmc.messages.consume")]
        return [self._tmc_event(message) for message in self._tmc_messages(payload)]

    @staticmethod
    def _tmc_messages(payload):
        if isinstance(payload, list):
            return payload
        if not isinstance(payload, dict):
            return []
        if "messages" in payload:
            # UNCONFIRMED list wrapper name: `messages.tmc_message[]`, a plain list is accepted too.
            return as_list(payload["messages"], "tmc_message")
        return [payload] if "topic" in payload else []  # one message, or an answer with none

    def _tmc_event(self, message):
        content = loads_or_empty(message.get("content"))
        topic = text(message.get("topic"))
        return PushEvent(
            kind=push_kind(topic),
            platform_order_id=text(content.get("tid")),
            raw=message,
            topic=topic,
            event_id=text(message.get("id")),
        )

    def permit_messages(self):
        """Subscribe this seller to the app's TMC topics (`taobao.tmc.user.permit`, once per seller)."""
        return self._call("taobao.tmc.user.permit", {})

    def consume_messages(self, quantity=100):
        """Pull pending TMC messages (HTTP alternative to the websocket); confirm them once handled."""
        result = self._call("taobao.tmc.messages.consume", {"group_name": self.tmc_group, "quantity": quantity})
        return [self._tmc_event(message) for message in self._tmc_messages(result)]

    def confirm_messages(self, message_ids):
        return self._call("taobao.tmc.messages.confirm", {"s_message_ids": ",".join(map(str, message_ids))})

    def tmc_handshake_sign(self, timestamp_ms):
        """The `sign` of the TMC websocket handshake: TOP md5 over app_key, group_name, timestamp (ms)."""
        params = {"app_key": self.app_key, "group_name": self.tmc_group, "timestamp": str(timestamp_ms)}
        return wrapped_md5_upper(params, self.app_secret)
