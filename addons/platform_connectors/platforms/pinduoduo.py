"""Pinduoduo Open Platform — reference §2."""

import base64
from datetime import timedelta
from urllib.parse import quote

from .base import (
    CANCELLED,
    CLOSED,
    COMPLETED,
    FLAG_ON_HOLD,
    FLAG_RISK_CONTROL,
    PAID,
    RATE_LIMIT_WORDS,
    SHIPPED,
    SIGNATURE_WORDS,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
    as_list,
    canonical_status,
    decrypt_ciphertexts,
    epoch_millis,
    epoch_seconds,
    expiry_in,
    from_epoch_seconds,
    join_message,
    load_json,
    loads_or_empty,
    md5_hex,
    mentions,
    platform_error,
    push_kind,
    stringify_params,
    text,
    to_int,
    truthy,
    wrapped_md5_upper,
)

GATEWAY = "https://gw-api.pinduoduo.com/api/router"
MESSAGE_HOST = "wss://message-api.pinduoduo.com"

ORDER_STATUS_TABLE = {1: PAID, 2: SHIPPED, 3: COMPLETED}
CONFIRM_CANCELLED = 2
CONFIRM_NOT_CONCLUDED = 0
REFUND_OPEN = {2, 3}
REFUND_DONE = 4
AWAITING_SHIPMENT = 1

AUTH_CODES = {10019}
# UNCONFIRMED: only 10019 is documented. 70031/70032 are assumed rate-limit codes; answers whose message
# says 频繁/限流 count as rate limits too.
RATE_LIMIT_CODES = {70031, 70032}
FLAG_GROUP_INCOMPLETE = "group_incomplete"
FLAG_NOT_CONCLUDED = "not_concluded"

ORDER_FIELDS = OrderFields(
    platform_order_id="order_sn",
    platform_status=lambda order: " ".join(
        f"{key}={text(order.get(key))}" for key in ("order_status", "confirm_status", "refund_status")
    ),
    created_at="created_time",
    paid_at=("pay_time", "confirm_time"),
    modified_at="updated_at",
    total_amount="goods_amount",
    shipping_amount="postage",
    discount_amount="discount_amount",
    paid_amount="pay_amount",
    buyer_remark="buyer_memo",
    seller_memo="remark",
)
LINE_FIELDS = LineFields(
    # PDD has no line id: goods_id + sku_id identifies the line (§10.3).
    platform_line_id=lambda item: f"{text(item.get('goods_id'))}:{text(item.get('sku_id'))}",
    platform_sku_id="sku_id",
    merchant_code=("outer_id", "outer_goods_id"),
    title="goods_name",
    variant="goods_spec",
    quantity="goods_count",
    unit_price="goods_price",
)
RECEIVER_FIELDS = {
    "name": ("receiver_name", "receiver_name_mask"),
    "mobile": ("receiver_phone", "receiver_phone_mask"),
    "province": "province",
    "city": "city",
    "district": "town",
    "street": ("receiver_address", "receiver_address_mask"),
}


def ws_digest_path(client_id, timestamp_ms, secret):
    """Path of the message websocket: digest = base64(lower-hex MD5(client_id + ts + secret)), URL-encoded."""
    digest = base64.b64encode(md5_hex(f"{client_id}{timestamp_ms}{secret}").encode()).decode()
    return f"/message/{client_id}/{timestamp_ms}/{quote(digest, safe='')}"


def pdd_error(error):
    code = to_int(error.get("error_code"))
    message = join_message(error.get("error_msg"), error.get("sub_code"), error.get("sub_msg"))
    return platform_error(
        f"pinduoduo: {message}",
        code,
        auth=code in AUTH_CODES,
        rate_limited=code in RATE_LIMIT_CODES or mentions(message, RATE_LIMIT_WORDS),
        signature=mentions(message, SIGNATURE_WORDS),
    )


def pdd_status(order):
    """(status, flags) from order_status + confirm_status + refund_status (§2.7 c, §10.2)."""
    order_status = to_int(order.get("order_status"))
    confirm_status = to_int(order.get("confirm_status"), 1)
    refund_status = to_int(order.get("refund_status"), 1)
    if confirm_status == CONFIRM_CANCELLED:
        status, flags = CANCELLED, []
    elif refund_status == REFUND_DONE:
        # Refunded: before shipment the order is cancelled, after it the parcel is an after-sales case.
        status, flags = CLOSED, []
    else:
        status, flags = canonical_status(ORDER_STATUS_TABLE, order_status, refund_active=refund_status in REFUND_OPEN)
    if to_int(order.get("risk_control_status")) == 1:
        flags += [FLAG_RISK_CONTROL, FLAG_ON_HOLD]
    if text(order.get("group_status")) == "0":
        flags += [FLAG_GROUP_INCOMPLETE, FLAG_ON_HOLD]
    if confirm_status == CONFIRM_NOT_CONCLUDED:
        flags += [FLAG_NOT_CONCLUDED, FLAG_ON_HOLD]
    return status, list(dict.fromkeys(flags))


class PinduoduoClient(PlatformClient):
    code = "pinduoduo"
    production_url = GATEWAY
    max_window = timedelta(minutes=30)
    page_size = 100

    def __init__(self, *args, message_host=MESSAGE_HOST, **kwargs):
        super().__init__(*args, **kwargs)
        self.message_host = message_host

    def sign(self, params):
        return wrapped_md5_upper(stringify_params(params), self.app_secret)

    def _call(self, api_type, business, response_key, with_token=True):
        params = {
            "type": api_type,
            "client_id": self.app_key,
            "timestamp": str(epoch_seconds(self._now())),
            "data_type": "JSON",
        }
        if with_token and self.access_token:
            params["access_token"] = self.access_token
        params.update(stringify_params(business))
        params["sign"] = self.sign(params)
        payload = self._decode_object(self._send("POST", self.base_url, json=params))
        if "error_response" in payload:
            raise pdd_error(payload["error_response"])
        return payload.get(response_key) or {}

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 1)
        result = self._call(
            "pdd.order.number.list.increment.get",
            {
                "start_updated_at": epoch_seconds(start),
                "end_updated_at": epoch_seconds(end),
                "order_status": 5,  # all
                "refund_status": 5,  # all
                "is_lucky_flag": 0,
                "page": page,
                "page_size": self.page_size,
                "use_has_next": "true",
            },
            "order_sn_increment_get_response",
        )
        # Despite its name each `order_sn_list` element is a full order (§2.7 a).
        return self._page(as_list(result.get("order_sn_list")), page, truthy(result.get("has_next")))

    def fetch_order(self, platform_order_id):
        result = self._call("pdd.order.information.get", {"order_sn": platform_order_id}, "order_info_get_response")
        if not result.get("order_info"):
            raise PlatformError(f"pinduoduo: order {platform_order_id} not found")
        return self.parse_order(result["order_info"])

    def parse_order(self, order):
        status, flags = pdd_status(order)
        return self._canonical_order(
            order,
            ORDER_FIELDS,
            lines=[LINE_FIELDS.line(item) for item in as_list(order.get("item_list"))],
            # Ciphertexts only while awaiting shipment and not risk-held; the *_mask twins otherwise.
            receiver=address_from(order, RECEIVER_FIELDS),
            status=status,
            risk_flags=flags,
            refund_active=to_int(order.get("refund_status"), 1) in REFUND_OPEN,
        )

    def decrypt_receiver(self, order):
        return decrypt_ciphertexts(
            order.receiver, lambda ciphers: self._decrypt_batch(order.platform_order_id, ciphers)
        )

    def _decrypt_batch(self, order_sn, ciphers):
        data_list = [{"data_tag": order_sn, "encrypted_data": cipher} for cipher in ciphers]
        result = self._call("pdd.open.decrypt.batch", {"data_list": data_list}, "open_decrypt_batch_response")
        return {
            item.get("encrypted_data"): item.get("decrypted_data")
            for item in as_list(result.get("data_decrypt_list"))
            if item.get("decrypted_data")
        }

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        self._refuse_partial_shipment(line_ids)
        result = self._call(
            "pdd.logistics.online.send",
            {"order_sn": platform_order_id, "logistics_id": carrier_code, "tracking_number": waybill},
            "logistics_online_send_response",
        )
        if not truthy(result.get("is_success")):
            raise PlatformError(f"pinduoduo: online.send did not succeed for {platform_order_id}: {result}")
        return result

    def refresh_access_token(self):
        result = self._call(
            "pdd.pop.auth.token.refresh",
            {"refresh_token": self.refresh_token},
            "pop_auth_token_refresh_response",
            with_token=False,
        )
        expires_at = expiry_in(result.get("expires_in")) or from_epoch_seconds(result.get("expires_at"))
        return self._accept_token(result, expires_at)

    # -- message service (websocket) ---------------------------------------------------------------------

    def permit_messages(self):
        """Subscribe this seller to the app's message topics (`pdd.pmc.user.permit`, once per seller)."""
        return self._call("pdd.pmc.user.permit", {}, "pmc_user_permit_response")

    def message_url(self, timestamp_ms):
        return self.message_host.rstrip("/") + ws_digest_path(self.app_key, timestamp_ms, self.app_secret)

    def verify_push(self, headers, body):
        """PDD pushes only over its websocket, authenticated by the digest in the connect URL (message_url);
        frames carry no signature, so an HTTP request claiming to be a PDD push proves nothing."""
        return False

    def parse_push(self, headers, body):
        """Websocket frames (one or a list) or bare messages {type, mallID, content}; heartbeats yield nothing."""
        frames = as_list(load_json(body))
        return [self._frame_event(frame) for frame in frames if frame.get("commandType", "Common") == "Common"]

    @staticmethod
    def _frame_event(frame):
        message = frame.get("message") or frame
        content = loads_or_empty(message.get("content"))
        topic = text(message.get("type"))
        return PushEvent(
            kind=push_kind(topic),
            platform_order_id=text(content.get("tid")),  # tid = order_sn in PDD messages
            raw=frame,
            topic=topic,
            event_id=text(frame.get("id")),
        )

    def ack_frame(self, frame):
        """The Ack a client sends back for a Common frame (field list UNCONFIRMED, §2.7 g)."""
        message = frame.get("message") or {}
        return {
            "commandType": "Ack",
            "id": frame.get("id"),
            "time": epoch_millis(self._now()),
            "sendTime": frame.get("sendTime"),
            "type": message.get("type"),
            "mallID": message.get("mallID"),
        }
