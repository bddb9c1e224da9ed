"""Kuaishou shop Open Platform (快手小店) — reference §5."""

import base64
import hashlib
import hmac
from datetime import timedelta

from .base import (
    COMPLETED,
    ENDED,
    PAID,
    PUSH_OTHER,
    RATE_LIMIT_WORDS,
    SHIPPED,
    SIGNATURE_WORDS,
    UNPAID,
    FetchPage,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
    aes_cbc_decrypt,
    as_bytes,
    as_list,
    compact_json,
    epoch_millis,
    fen_amount,
    first_text,
    from_epoch_millis,
    load_json,
    loads_or_empty,
    looks_masked,
    md5_hex,
    mentions,
    pick,
    platform_error,
    push_kind,
    replace_ciphertexts,
    text,
    to_int,
    truthy,
)

GATEWAY = "https://openapi.kwaixiaodian.com"
SUCCESS = 1
# UNCONFIRMED: the end-of-list cursor sentinel comes from a single SDK test fixture.
END_CURSOR = "nomore"
# UNCONFIRMED mapping: queryType 2 = by update time.
QUERY_BY_UPDATE_TIME = 2
ALL_STATUSES = 1  # orderViewStatus 1 = all

STATUS_TABLE = {"10": UNPAID, "30": PAID, "40": SHIPPED, "50": COMPLETED, "70": COMPLETED, "80": ENDED}
# Gateway auth failures have no documented numeric code: they are recognised by their message (鉴权失败/TOKEN过期).
AUTH_WORDS = ("鉴权", "token", "授权")
ZERO_IV = bytes(16)


def seller_notes(order):
    notes = [
        note if isinstance(note, str) else pick(note, ("note", "content"))
        for note in as_list(order.get("sellerNoteList"))
    ]
    return "\n".join(text(note) for note in notes if note)


def order_items(order):
    for key in ("orderProductInfoList", "orderItemInfoList", "orderItemInfo"):
        if order.get(key):
            return as_list(order[key])
    return []


ORDER_FIELDS = OrderFields(
    platform_order_id="oid",
    platform_status="status",
    created_at="createTime",
    paid_at="payTime",
    modified_at="updateTime",
    shipping_amount="expressFee",
    discount_amount="discountFee",
    paid_amount="totalFee",
    buyer_nick="buyerNick",
    buyer_remark="remark",
    seller_memo=seller_notes,
    money=fen_amount,
    moment=from_epoch_millis,
)
LINE_FIELDS = LineFields(
    platform_line_id=("id", "oid"),
    platform_sku_id="skuId",
    # UNCONFIRMED: skuNick as the merchant SKU code, relSkuId as fallback.
    merchant_code=("skuNick", "relSkuId"),
    title="itemTitle",
    variant="skuDesc",
    quantity="num",
    unit_price="price",
    refund_status="refundStatus",
    money=fen_amount,
)
RECEIVER_FIELDS = {
    "name": ("encryptedConsignee", "desensitiseConsignee", "consignee"),
    "mobile": ("encryptedMobile", "desensitiseMobile", "mobile"),
    "province": "province",
    "city": "city",
    "district": "district",
    "street": ("encryptedAddress", "desensitiseAddress", "address"),
}


def receiver_from(address):
    # Kuaishou serves buyer data only encrypted or desensitised (§5.6 e), whichever field it comes in.
    receiver = address_from(address, RECEIVER_FIELDS)
    receiver.encrypted = any((receiver.name, receiver.mobile, receiver.street))
    return receiver


def ks_sign(params, sign_secret):
    """Sorted `k=v&…` + `&signSecret=…`; MD5 lower hex, or HMAC-SHA256 keyed with signSecret in Base64 (§5.4)."""
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key != "sign")
    message += f"&signSecret={sign_secret}"
    if params.get("signMethod") == "HMAC_SHA256":
        return base64.b64encode(hmac.new(sign_secret.encode(), message.encode(), hashlib.sha256).digest()).decode()
    return md5_hex(message)


def ks_error(payload):
    code = payload.get("result")
    message = first_text(payload.get("error_msg"), payload.get("errorMsg"), payload.get("subMsg"), payload.get("msg"))
    return platform_error(
        f"kuaishou: {message or payload}",
        code,
        auth=mentions(message, AUTH_WORDS),
        rate_limited=mentions(message, RATE_LIMIT_WORDS),
        signature=mentions(message, SIGNATURE_WORDS),
    )


def decrypt_message(body, message_key):
    """Base64 AES/CBC/PKCS5 body with key = Base64-decoded message key and a zero IV (§5.6 g)."""
    return aes_cbc_decrypt(base64.b64decode(message_key), ZERO_IV, base64.b64decode(body.strip())).decode()


def open_refund(line):
    # UNCONFIRMED: line refundStatus values are not documented; any non-zero value blocks shipping.
    return text(line.refund_status) not in ("", "0")


class KuaishouClient(PlatformClient):
    """`sign_secret` signs API calls (falls back to app_secret); `webhook_secret` is the message key."""

    code = "kuaishou"
    production_url = GATEWAY
    max_window = timedelta(days=7)
    page_size = 100

    def __init__(self, *args, sign_secret=None, sign_method="HMAC_SHA256", **kwargs):
        super().__init__(*args, **kwargs)
        self.sign_secret = sign_secret or self.app_secret
        self.sign_method = sign_method

    def sign(self, params):
        return ks_sign(params, self.sign_secret)

    def _call(self, method, business):
        param = compact_json(business, sort_keys=True)
        envelope = {
            "appkey": self.app_key,
            "method": method,
            "version": "1",
            "access_token": self.access_token,
            "timestamp": str(epoch_millis(self._now())),
            "signMethod": self.sign_method,
        }
        envelope["sign"] = self.sign(dict(envelope, param=param))
        # Form-encoded only; for POST `param` travels in the body and the envelope in the query (§5.1).
        response = self._send(
            "POST", f"{self.base_url}/{method.replace('.', '/')}", params=envelope, data={"param": param}
        )
        payload = self._decode_object(response)
        if to_int(payload.get("result")) != SUCCESS:
            raise ks_error(payload)
        return payload.get("data") or {}

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        data = self._call(
            "open.order.cursor.list",
            {
                "beginTime": epoch_millis(start),
                "cursor": cursor or "",
                "endTime": epoch_millis(end),
                "orderViewStatus": ALL_STATUSES,
                "pageSize": self.page_size,
                "queryType": QUERY_BY_UPDATE_TIME,
            },
        )
        next_cursor = text(data.get("cursor"))
        has_more = next_cursor not in ("", END_CURSOR)
        orders = [self.parse_order(order) for order in as_list(data.get("orderList"))]
        return FetchPage(orders, next_cursor if has_more else None, has_more)

    def fetch_order(self, platform_order_id):
        data = self._call("open.order.detail", {"oid": to_int(platform_order_id)})
        if not data:
            raise PlatformError(f"kuaishou: order {platform_order_id} not found")
        return self.parse_order(data)

    def parse_order(self, order):
        """Accepts the nested cursor-list item (orderBaseInfo, orderItemInfo, orderAddress…) and the flat
        seller detail view (oid, status, orderProductInfoList…)."""
        lines = [LINE_FIELDS.line(item) for item in order_items(order)]
        return self._canonical_order(
            order.get("orderBaseInfo") or order,
            ORDER_FIELDS,
            raw=order,
            lines=lines,
            receiver=receiver_from(order.get("orderAddress") or order),
            status_table=STATUS_TABLE,
            refund_active=any(open_refund(line) for line in lines) or bool(order.get("orderRefundList")),
            # No goods total field: the sum of price × quantity (§10.3).
            total_amount=sum((line.unit_price * line.quantity for line in lines), fen_amount(0)),
        )

    def decrypt_receiver(self, order):
        receiver = order.receiver
        ciphers = [
            value for value in (receiver.name, receiver.mobile, receiver.street) if value and not looks_masked(value)
        ]
        if not ciphers:
            return receiver
        batch = [{"bizId": to_int(order.platform_order_id), "encryptedData": cipher} for cipher in ciphers]
        data = self._call("open.order.decrypt.batch", {"batchDecryptList": batch})
        # UNCONFIRMED answer list name: decryptList or decryptResult, items {bizId, encryptedData, decryptedData}.
        plain = {
            item.get("encryptedData"): item.get("decryptedData")
            for item in as_list(data.get("decryptList") or data.get("decryptResult"))
            if item.get("decryptedData")
        }
        address = replace_ciphertexts(receiver, plain)
        # Kuaishou ciphertexts have no recognisable shape: what is still encrypted is what was not replaced.
        address.encrypted = any(value in ciphers for value in (address.name, address.mobile, address.street))
        return address

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        # open.order.goods.split.deliver exists but its parameters are UNCONFIRMED.
        self._refuse_partial_shipment(line_ids)
        return self._call(
            "open.seller.order.goods.deliver",
            {"orderId": to_int(platform_order_id), "expressNo": waybill, "expressCode": to_int(carrier_code)},
        )

    def refresh_access_token(self):
        response = self._send(
            "POST",
            f"{self.base_url}/oauth2/refresh_token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "app_id": self.app_key,
                "app_secret": self.app_secret,
            },
        )
        payload = self._decode_object(response)
        if to_int(payload.get("result")) != SUCCESS:
            raise ks_error(payload)
        return self._accept_token(payload)

    # -- push --------------------------------------------------------------------------------------------

    def _decrypt_push(self, body):
        """The decrypted message list, or None when the body does not decrypt with our message key."""
        if not self.webhook_secret:
            return None
        try:
            messages = load_json(decrypt_message(as_bytes(body).decode(), self.webhook_secret))
        except ValueError:  # bad text, Base64, key, padding or JSON
            return None
        messages = [messages] if isinstance(messages, dict) else messages
        if not (isinstance(messages, list) and all(isinstance(message, dict) for message in messages)):
            return None
        return messages

    def verify_push(self, headers, body):
        """No signature header: a push is authentic when it decrypts with the app's message key (§5.6 g)."""
        return self._decrypt_push(body) is not None

    def parse_push(self, headers, body):
        messages = self._decrypt_push(body)
        if messages is None:
            raise PlatformError("kuaishou: push body does not decrypt with the message key")
        return [self._push_event(message) for message in messages]

    @staticmethod
    def _push_event(message):
        info = loads_or_empty(message.get("info"))
        topic = text(message.get("event"))
        return PushEvent(
            # A console connectivity probe (test=true) is acknowledged but not acted on.
            kind=PUSH_OTHER if truthy(message.get("test")) else push_kind(topic),
            platform_order_id=first_text(message.get("bizId"), info.get("oid")),
            raw=message,
            topic=topic,
            event_id=first_text(message.get("msgId"), message.get("eventId")),
        )
