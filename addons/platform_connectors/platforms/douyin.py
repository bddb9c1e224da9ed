"""Douyin Shop Open Platform (抖店) — reference §3."""

import hashlib
import hmac
from datetime import timedelta

from .base import (
    COMPLETED,
    ENDED,
    FLAG_ON_HOLD,
    FLAG_PARTIALLY_SHIPPED,
    PAID,
    PUSH_CANCEL,
    PUSH_ORDER,
    PUSH_OTHER,
    PUSH_REFUND,
    SHIPPED,
    UNPAID,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    PushEvent,
    address_from,
    as_list,
    compact_json,
    decrypt_ciphertexts,
    epoch_seconds,
    fen_amount,
    from_epoch_seconds,
    join_message,
    load_json,
    loads_or_empty,
    md5_hex,
    platform_error,
    text,
    to_int,
)

GATEWAY = "https://openapi-fxg.jinritemai.com"
API_VERSION = "2"
SUCCESS = 10000
RATE_LIMITED = 60000
SERVICE_UNAVAILABLE = 20000
TOKEN_SUB_CODES = {
    "isv.access-token-expired",
    "isv.access-token-no-existed",
    "isv.access-token-invalid",
    "isv.access-token-missing",
}
SIGNATURE_SUB_CODES = {"isv.signature-invalid", "isv.signature-missing"}

STATUS_TABLE = {
    "1": UNPAID,
    "105": (PAID, FLAG_ON_HOLD),  # paid, not yet shippable (pre-sale / under review)
    "2": PAID,
    "101": (PAID, FLAG_PARTIALLY_SHIPPED),
    "3": SHIPPED,
    "4": ENDED,
    "5": COMPLETED,
}
OPEN_REFUND_STATES = {1, 2, 3}  # after_sale_info.refund_status: to refund, refunding, refunded

ORDER_TAGS = {100, 101, 102, 103, 104, 105, 108, 109, 110, 111, 113, 126}
CANCEL_TAG = 106
AFTER_SALE_TAGS = range(200, 300)


def param_json(business):
    """Business params serialised as the gateway signs them: keys sorted recursively, compact, no escaping."""
    return business if isinstance(business, str) else compact_json(business, sort_keys=True)


def doudian_sign(params, secret):
    """secret + app_key…method…param_json…timestamp…v… + secret; md5 or hmac-sha256, lower hex (§3.4)."""
    pattern = "".join(
        f"{key}{param_json(params[key]) if key == 'param_json' else params[key]}"
        for key in ("app_key", "method", "param_json", "timestamp", "v")
    )
    message = secret + pattern + secret
    if params.get("sign_method", "md5") == "hmac-sha256":
        return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return md5_hex(message)


def douyin_error(payload):
    code = to_int(payload.get("code"))
    sub_code = text(payload.get("sub_code"))
    message = join_message(payload.get("msg"), sub_code, payload.get("sub_msg"))
    return platform_error(
        f"douyin: {message}",
        code,
        auth=sub_code in TOKEN_SUB_CODES,
        rate_limited=code == RATE_LIMITED,
        signature=sub_code in SIGNATURE_SUB_CODES,
        retryable=code == SERVICE_UNAVAILABLE,
    )


def tag_kind(tag):
    tag = to_int(tag)
    if tag == CANCEL_TAG:
        return PUSH_CANCEL
    if tag in AFTER_SALE_TAGS:
        return PUSH_REFUND
    if tag in ORDER_TAGS:
        return PUSH_ORDER
    return PUSH_OTHER


def spec_text(sku):
    return " ".join(f"{text(item.get('name'))}:{text(item.get('value'))}" for item in as_list(sku.get("spec")))


ORDER_FIELDS = OrderFields(
    platform_order_id="order_id",
    platform_status="order_status",
    created_at="create_time",
    paid_at="pay_time",
    modified_at="update_time",
    total_amount="order_amount",
    shipping_amount="post_amount",
    discount_amount="promotion_amount",
    paid_amount="pay_amount",
    buyer_remark="buyer_words",
    seller_memo="seller_words",
    money=fen_amount,
    moment=from_epoch_seconds,
)
LINE_FIELDS = LineFields(
    platform_line_id="order_id",
    platform_sku_id="sku_id",
    merchant_code=("code", "out_sku_id"),
    title="product_name",
    variant=spec_text,
    quantity="item_num",
    unit_price="origin_amount",
    amount="pay_amount",
    refund_status="after_sale_info.refund_status",
    money=fen_amount,
)
RECEIVER_FIELDS = {
    "name": ("encrypt_post_receiver", "mask_post_receiver", "post_receiver"),
    "mobile": ("encrypt_post_tel", "mask_post_tel", "post_tel"),
    "province": "post_addr.province.name",
    "city": "post_addr.city.name",
    "district": "post_addr.town.name",
    # The street-level part (post_addr.street) stays in raw: a ciphertext cannot be prefixed.
    "street": ("post_addr.encrypt_detail", "post_addr.detail", "mask_post_addr.detail"),
}


class DouyinClient(PlatformClient):
    code = "douyin"
    production_url = GATEWAY
    # UNCONFIRMED: the reference gives no span limit for order.searchList and advises windows ≤ 1 h.
    max_window = timedelta(hours=1)
    page_size = 100

    def __init__(self, *args, sign_method="md5", **kwargs):
        super().__init__(*args, **kwargs)
        self.sign_method = sign_method

    def sign(self, params):
        return doudian_sign(params, self.app_secret)

    def _call(self, method, business, with_token=True):
        body = param_json(business)
        query = {
            "app_key": self.app_key,
            "method": method,
            "param_json": body,
            "timestamp": str(epoch_seconds(self._now())),
            "v": API_VERSION,
            "sign_method": self.sign_method,
        }
        query["sign"] = self.sign(query)
        del query["param_json"]  # travels as the raw body, not in the query string
        if with_token and self.access_token:
            query["access_token"] = self.access_token
        response = self._send(
            "POST",
            f"{self.base_url}/{method.replace('.', '/')}",
            params=query,
            data=body.encode(),
            headers={"Content-Type": "application/json", "x-open-no-old-err-code": "1"},
        )
        payload = self._decode_object(response)
        if to_int(payload.get("code")) != SUCCESS:
            raise douyin_error(payload)
        return payload.get("data") or {}

    # -- orders ------------------------------------------------------------------------------------------

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 0)  # Douyin pages start at 0
        data = self._call(
            "order.searchList",
            {
                "order_by": "update_time",
                "page": page,
                "size": self.page_size,
                "update_time_end": epoch_seconds(end),
                "update_time_start": epoch_seconds(start),
            },
        )
        has_more = (page + 1) * self.page_size < to_int(data.get("total"))
        return self._page(as_list(data.get("shop_order_list")), page, has_more)

    def fetch_order(self, platform_order_id):
        data = self._call("order.orderDetail", {"shop_order_id": text(platform_order_id)})
        if not data.get("shop_order_detail"):
            raise PlatformError(f"douyin: order {platform_order_id} not found")
        return self.parse_order(data["shop_order_detail"])

    def parse_order(self, order):
        lines = [LINE_FIELDS.line(sku) for sku in as_list(order.get("sku_order_list"))]
        return self._canonical_order(
            order,
            ORDER_FIELDS,
            lines=lines,
            receiver=address_from(order, RECEIVER_FIELDS),
            status_table=STATUS_TABLE,
            refund_active=any(to_int(line.refund_status) in OPEN_REFUND_STATES for line in lines),
        )

    def decrypt_receiver(self, order):
        return decrypt_ciphertexts(
            order.receiver, lambda ciphers: self._decrypt_batch(order.platform_order_id, ciphers)
        )

    def _decrypt_batch(self, order_id, ciphers):
        cipher_infos = [{"auth_id": order_id, "cipher_text": cipher} for cipher in ciphers]
        data = self._call("order.batchDecrypt", {"cipher_infos": cipher_infos})
        return {
            info.get("cipher_text"): info.get("decrypt_text")
            for info in as_list(data.get("decrypt_infos"))
            if info.get("decrypt_text") and not to_int(info.get("err_no"))
        }

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        if not line_ids:
            return self._call(
                "order.logisticsAdd",
                {"order_id": text(platform_order_id), "company_code": carrier_code, "logistics_code": waybill},
            )
        pack = {
            "logistics_code": waybill,
            "company_code": carrier_code,
            "shipped_order_info": [
                {"shipped_order_id": line_id, "shipped_num": quantity}
                for line_id, quantity in self._line_quantities(platform_order_id, line_ids).items()
            ],
        }
        # The same order + waybill always gives the same request_id, so a retried call is idempotent.
        return self._call(
            "order.logisticsAddMultiPack",
            {"order_id": text(platform_order_id), "request_id": f"{platform_order_id}-{waybill}", "pack_list": [pack]},
        )

    def _line_quantities(self, platform_order_id, line_ids):
        """{sku order id: quantity}; `line_ids` may already be such a mapping, else the order is re-read."""
        if isinstance(line_ids, dict):
            return {text(key): to_int(value) for key, value in line_ids.items()}
        wanted = {text(line_id) for line_id in line_ids}
        lines = self.fetch_order(platform_order_id).lines
        return {line.platform_line_id: line.quantity for line in lines if line.platform_line_id in wanted}

    def refresh_access_token(self):
        data = self._call(
            "token.refresh", {"grant_type": "refresh_token", "refresh_token": self.refresh_token}, with_token=False
        )
        return self._accept_token(data)

    # -- push --------------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """`event-sign` = lower-hex MD5(app_key + raw body + app_secret), from the app named in `app-id`."""
        return self._body_md5_push_is_authentic(headers, body, "app-id", "event-sign")

    def parse_push(self, headers, body):
        """A JSON array of {tag, msg_id, data (JSON string)}; `p_id` in data is the shop order id."""
        events = []
        for message in as_list(load_json(body)):
            data = loads_or_empty(message.get("data"))
            events.append(
                PushEvent(
                    kind=tag_kind(message.get("tag")),
                    platform_order_id=text(data.get("p_id")),
                    raw=message,
                    topic=text(message.get("tag")),
                    event_id=text(message.get("msg_id")),
                )
            )
        return events
