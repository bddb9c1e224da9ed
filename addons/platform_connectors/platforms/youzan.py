"""Youzan Cloud (有赞云) — reference §6.1–6.3."""

import base64
from datetime import timedelta
from urllib.parse import unquote

from .base import (
    COMPLETED,
    ENDED,
    FLAG_ON_HOLD,
    PAID,
    RATE_LIMIT_WORDS,
    SHIPPED,
    UNPAID,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
    aes_cbc_decrypt,
    as_list,
    decimal_amount,
    decrypt_ciphertexts,
    first_text,
    format_beijing,
    from_epoch_millis,
    header,
    load_json,
    loads_or_empty,
    mentions,
    platform_error,
    push_kind,
    text,
    to_int,
)

GATEWAY = "https://open.youzanyun.com"
TRADES_SOLD_GET = ("youzan.trades.sold.get", "4.0.4")
# UNCONFIRMED: the reference names versions 4.0.x for trade.get; 4.0.0 is the first of them.
TRADE_GET = ("youzan.trade.get", "4.0.0")
DECRYPT_BATCH = ("youzan.cloud.secret.decrypt.batch", "1.0.0")
SHIP_CONFIRM = ("youzan.logistics.online.confirm", "3.0.0")
TOKEN_ERRORS = {4201, 4202, 4203}  # 4201 invalid credential, 4203 token not found (4202 UNCONFIRMED)
MSG_IV = b"0102030405060708"

STATUS_TABLE = {
    "WAIT_BUYER_PAY": UNPAID,
    "WAIT_CONFIRM": (PAID, FLAG_ON_HOLD),  # UNCONFIRMED status
    "WAIT_SELLER_SEND_GOODS": PAID,
    "WAIT_BUYER_CONFIRM_GOODS": SHIPPED,
    "TRADE_BUYER_SIGNED": COMPLETED,
    "TRADE_SUCCESS": COMPLETED,
    "TRADE_CLOSED": ENDED,  # closed, cancelled or fully refunded
}
# UNCONFIRMED: order refund_state values 1 (partial refund in progress) and 11 (full refund in progress).
OPEN_REFUND_STATES = {"1", "11"}

HEADER_PARTS = ("order_info", "pay_info", "remark_info", "buyer_info")
ORDER_FIELDS = OrderFields(
    platform_order_id="tid",
    platform_status="status",
    created_at="created",
    paid_at="pay_time",
    modified_at="update_time",
    total_amount="total_fee",
    shipping_amount="post_fee",
    paid_amount="payment",
    buyer_nick="fans_nickname",
    buyer_remark="buyer_message",
    seller_memo="trade_memo",
)
LINE_FIELDS = LineFields(
    platform_line_id="oid",
    platform_sku_id="sku_id",
    merchant_code=("outer_sku_id", "outer_item_id"),
    title="title",
    variant="sku_properties_name",
    quantity="num",
    unit_price="price",
    amount=("payment", "total_fee"),
    refund_status="refund_state",
)
RECEIVER_FIELDS = {
    "name": "receiver_name",
    "mobile": "receiver_tel",
    "province": "delivery_province",
    "city": "delivery_city",
    "district": "delivery_district",
    "street": "delivery_address",
    "zip": "delivery_postal_code",
}


def youzan_error(code, message):
    code = to_int(code) or None
    return platform_error(
        f"youzan: {message}",
        code,
        auth=code in TOKEN_ERRORS,
        rate_limited=mentions(message, RATE_LIMIT_WORDS),
    )


def decrypt_msg(msg_field, client_secret):
    """An AES-encrypted push `msg`: URL-decoded, Base64-decoded, AES-128-CBC with key secret[:16] (§6.3 g)."""
    data = base64.b64decode(unquote(msg_field))
    return aes_cbc_decrypt(client_secret[:16].encode(), MSG_IV, data).decode()


class YouzanClient(PlatformClient):
    """`shop_ref` is the kdt_id, used for silent token grants of self-use apps."""

    code = "youzan"
    production_url = GATEWAY
    # UNCONFIRMED: the reference gives no window limit for trades.sold.get; one day is a cautious choice.
    max_window = timedelta(days=1)
    page_size = 100  # UNCONFIRMED maximum

    def _call(self, api, business):
        name, version = api
        response = self._send(
            "POST", f"{self.base_url}/api/{name}/{version}", params={"access_token": self.access_token}, json=business
        )
        payload = self._decode_object(response)
        if "gw_err_resp" in payload:
            error = payload["gw_err_resp"]
            raise youzan_error(error.get("err_code"), text(error.get("err_msg")))
        if "response" in payload and "success" not in payload:  # older APIs wrap their answer
            return payload["response"] or {}
        if payload.get("success") is False:
            raise youzan_error(payload.get("code"), text(payload.get("message")))
        return payload.get("data") or {}

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 1)
        data = self._call(
            TRADES_SOLD_GET,
            {
                "start_update": format_beijing(start),
                "end_update": format_beijing(end),
                "page_no": page,
                "page_size": self.page_size,
            },
        )
        infos = [item.get("full_order_info") or {} for item in as_list(data.get("full_order_info_list"))]
        return self._page(infos, page, page * self.page_size < to_int(data.get("total_results")))

    def fetch_order(self, platform_order_id):
        data = self._call(TRADE_GET, {"tid": platform_order_id})
        if not data.get("full_order_info"):
            raise PlatformError(f"youzan: trade {platform_order_id} not found")
        return self.parse_order(data["full_order_info"])

    def parse_order(self, full):
        header = {key: value for part in HEADER_PARTS for key, value in (full.get(part) or {}).items()}
        lines = [LINE_FIELDS.line(item) for item in as_list(full.get("orders"))]
        order = self._canonical_order(
            header,
            ORDER_FIELDS,
            raw=full,
            lines=lines,
            receiver=address_from(full.get("address_info") or {}, RECEIVER_FIELDS),
            status_table=STATUS_TABLE,
            refund_active=bool(
                ({text(header.get("refund_state"))} | {line.refund_status for line in lines}) & OPEN_REFUND_STATES
            ),
        )
        # UNCONFIRMED: no documented discount field; derived as goods + freight − paid.
        order.discount_amount = max(order.total_amount + order.shipping_amount - order.paid_amount, decimal_amount(0))
        return order

    def decrypt_receiver(self, order):
        return decrypt_ciphertexts(order.receiver, self._decrypt_batch)

    def _decrypt_batch(self, ciphers):
        # UNCONFIRMED answer shape: data maps each ciphertext to its plaintext.
        data = self._call(DECRYPT_BATCH, {"sources": ciphers})
        return {cipher: plain for cipher, plain in data.items() if plain}

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        params = {"tid": platform_order_id, "out_stype": carrier_code, "out_sid": waybill, "is_no_express": 0}
        if line_ids:
            params["oids"] = ",".join(text(line_id) for line_id in line_ids)
        return self._call(SHIP_CONFIRM, params)

    def refresh_access_token(self):
        """refresh_token grant, or the silent grant (kdt_id = shop_ref) for self-use apps without one."""
        grant = {"client_id": self.app_key, "client_secret": self.app_secret}
        if self.refresh_token:
            grant.update(authorize_type="refresh_token", refresh_token=self.refresh_token)
        else:
            grant.update(authorize_type="silent", grant_id=self.shop_ref, refresh=True)
        payload = self._decode_object(self._send("POST", f"{self.base_url}/auth/token", json=grant))
        data = (payload.get("data") or {}) if payload.get("success") else payload
        return self._accept_token(data, from_epoch_millis(data.get("expires")))  # `expires` is an epoch-ms expiry

    # -- push --------------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """`Event-Sign` = lower-hex MD5(client_id + raw body + client_secret) (§6.3 g)."""
        return self._body_md5_push_is_authentic(headers, body, "Client-Id", "Event-Sign")

    def parse_push(self, headers, body):
        payload = load_json(body)
        topic = text(payload.get("type") or header(headers, "Event-Type"))
        message = self._push_msg(text(payload.get("msg")))
        return [
            PushEvent(
                kind=push_kind(topic),
                platform_order_id=first_text(message.get("tid"), payload.get("id")),
                raw=dict(payload, msg_decoded=message),
                topic=topic,
            )
        ]

    def _push_msg(self, msg):
        """`msg` is URL-encoded JSON, for some message kinds AES-encrypted first."""
        decoded = loads_or_empty(unquote(msg))
        if decoded or not msg:
            return decoded
        try:
            return loads_or_empty(decrypt_msg(msg, self.app_secret))
        except ValueError:  # not Base64 / wrong key / bad padding
            return {}
