"""JD POP Open Platform (京东宙斯 JOS) — reference §4."""

from datetime import timedelta

from .base import (
    COMPLETED,
    ENDED,
    FLAG_ON_HOLD,
    PAID,
    RATE_LIMIT_WORDS,
    REFUNDING,
    SHIPPED,
    LineFields,
    OrderFields,
    PlatformClient,
    PlatformError,
    address_from,
    as_list,
    compact_json,
    format_beijing,
    join_message,
    mentions,
    platform_error,
    text,
    to_int,
    url_origin,
    wrapped_md5_upper,
)

GATEWAY = "https://api.jd.com/routerjson"
OAUTH_HOST = "https://open-oauth.jd.com"

STATUS_TABLE = {
    "WAIT_SELLER_STOCK_OUT": PAID,
    "WAIT_SELLER_DELIVERY": PAID,
    "SEND_TO_DISTRIBUTION_CENER": SHIPPED,  # sic
    "DISTRIBUTION_CENTER_RECEIVED": SHIPPED,
    "WAIT_GOODS_RECEIVE_CONFIRM": SHIPPED,
    "RECEIPTS_CONFIRM": COMPLETED,
    "FINISHED_L": COMPLETED,
    "TRADE_CANCELED": ENDED,
    # Locked mostly while a cancellation/refund request is pending: never ship it.
    "LOCKED": (REFUNDING, FLAG_ON_HOLD),
    "PAUSE": (PAID, FLAG_ON_HOLD),
    "POP_ORDER_PAUSE": (PAID, FLAG_ON_HOLD),
}
ALL_STATES = ",".join(STATUS_TABLE)

OPTIONAL_FIELDS = ",".join(
    [
        "orderId", "venderId", "orderType", "payType", "orderState", "orderStateRemark", "orderStartTime",
        "paymentConfirmTime", "modified", "orderTotalPrice", "orderSellerPrice", "orderPayment", "freightPrice",
        "sellerDiscount", "orderRemark", "venderRemark", "pin", "open_id_buyer", "consigneeInfo", "itemInfoList",
        "waybill", "logisticsId",
    ]
)  # fmt: skip

ORDER_FIELDS = OrderFields(
    platform_order_id="orderId",
    platform_status="orderState",
    created_at="orderStartTime",
    paid_at="paymentConfirmTime",
    modified_at="modified",
    total_amount="orderTotalPrice",
    shipping_amount="freightPrice",
    discount_amount="sellerDiscount",
    paid_amount="orderPayment",
    buyer_nick=("pin", "open_id_buyer"),
    buyer_remark="orderRemark",
    seller_memo="venderRemark",
)
LINE_FIELDS = LineFields(
    platform_line_id="skuId",
    platform_sku_id="skuId",
    merchant_code="outerSkuId",
    title="skuName",
    quantity="itemTotal",
    unit_price="jdPrice",
)
# JD gives only `fullAddress` (province…street in one string); it is kept whole as the street.
RECEIVER_FIELDS = {
    "name": "fullname",
    "mobile": "mobile",
    "phone": "telephone",
    "province": "province",
    "city": "city",
    "district": "county",
    "street": "fullAddress",
}

INVALID_SIGNATURE = "12"
INVALID_TOKEN = "19"
# UNCONFIRMED: dateType 0 = modified time (§4.6 a).
DATE_TYPE_MODIFIED = "0"


def jd_sign(params, secret):
    """TOP-style MD5 over the envelope including the verbatim `360buy_param_json` (§4.4)."""
    return wrapped_md5_upper(params, secret)


def response_key(method):
    """`jingdong.pop.order.search` -> `jingdong_pop_order_search_responce` (sic)."""
    return method.replace(".", "_") + "_responce"


def jd_error(error):
    code = text(error.get("code"))
    message = join_message(error.get("zh_desc"), error.get("en_desc"))
    return platform_error(
        f"jd: {message}",
        code,
        auth=code == INVALID_TOKEN,
        rate_limited=mentions(message, RATE_LIMIT_WORDS),
        signature=code == INVALID_SIGNATURE,
    )


def check_api_result(result):
    """Business failures sit in a nested `apiResult`/result object with success=false (shape UNCONFIRMED)."""
    api_result = result.get("apiResult") if isinstance(result.get("apiResult"), dict) else result
    if api_result.get("success") is False:
        message = api_result.get("chineseErrCode") or api_result.get("englishErrCode") or compact_json(api_result)
        raise PlatformError(f"jd: {message}", code=text(api_result.get("numberCode")) or None)


class JdClient(PlatformClient):
    code = "jd"
    production_url = GATEWAY
    # UNCONFIRMED: about one month per the docs; one day keeps well inside any plausible cap.
    max_window = timedelta(days=1)
    # UNCONFIRMED: 50 in one doc mirror, 100 elsewhere; 50 is accepted by both.
    page_size = 50

    def __init__(self, *args, oauth_url=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.oauth_url = (oauth_url or self._default_oauth_url()).rstrip("/")

    def _default_oauth_url(self):
        # A simulator given as base_url serves OAuth on its own host too.
        return OAUTH_HOST if self.base_url == GATEWAY else url_origin(self.base_url)

    def sign(self, params):
        return jd_sign(params, self.app_secret)

    def _call(self, method, business):
        params = {
            "method": method,
            "app_key": self.app_key,
            "access_token": self.access_token,
            "timestamp": format_beijing(self._now()),
            "v": "2.0",
            "360buy_param_json": compact_json(business),
        }
        params = {key: value for key, value in params.items() if value}
        params["sign"] = self.sign(params)
        payload = self._decode_object(self._send("POST", self.base_url, data=params))
        if "error_response" in payload:
            raise jd_error(payload["error_response"])
        result = payload.get(response_key(method)) or {}
        if text(result.get("code", "0")) != "0":
            raise PlatformError(f"jd: {method} answered code {result.get('code')}: {result}", code=text(result["code"]))
        return result

    # -- orders ------------------------------------------------------------------------------------------

    def _result(self, method, business, result_key):
        result = self._call(method, business).get(result_key) or {}
        check_api_result(result)
        return result

    def fetch_orders(self, start, end, cursor=None):
        self._check_window(start, end)
        page = to_int(cursor, 1)
        search = {
            "start_date": format_beijing(start),
            "end_date": format_beijing(end),
            "order_state": ALL_STATES,
            "optional_fields": OPTIONAL_FIELDS,
            "page": str(page),
            "page_size": str(self.page_size),
            "dateType": DATE_TYPE_MODIFIED,
        }
        result = self._result("jingdong.pop.order.search", search, "searchorderinfo_result")
        has_more = page * self.page_size < to_int(result.get("orderTotal"))
        return self._page(as_list(result.get("orderInfoList")), page, has_more)

    def fetch_order(self, platform_order_id):
        query = {"order_id": text(platform_order_id), "optional_fields": OPTIONAL_FIELDS, "order_state": ALL_STATES}
        result = self._result("jingdong.pop.order.get", query, "orderDetailInfo")
        if not result.get("orderInfo"):
            raise PlatformError(f"jd: order {platform_order_id} not found")
        return self.parse_order(result["orderInfo"])

    def parse_order(self, order):
        return self._canonical_order(
            order,
            ORDER_FIELDS,
            lines=[LINE_FIELDS.line(item) for item in as_list(order.get("itemInfoList"))],
            receiver=address_from(order.get("consigneeInfo") or {}, RECEIVER_FIELDS),
            status_table=STATUS_TABLE,
        )

    # decrypt_receiver: JD decrypts only with its security SDK inside JD Cloud (§4.6 e), so the base
    # implementation (receiver as given) applies.

    # -- shipping and tokens -----------------------------------------------------------------------------

    def confirm_shipment(self, platform_order_id, waybill, carrier_code, line_ids=None):
        self._refuse_partial_shipment(line_ids)
        result = self._call(
            "jingdong.pop.order.shipment",
            {"orderId": text(platform_order_id), "logiCoprId": text(carrier_code), "logiNo": waybill},
        )
        for value in result.values():
            if isinstance(value, dict):
                check_api_result(value)
        return result

    def refresh_access_token(self):
        response = self._send(
            "GET",
            f"{self.oauth_url}/oauth2/refresh_token",
            params={
                "app_key": self.app_key,
                "app_secret": self.app_secret,
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
            },
        )
        return self._accept_token(self._decode_object(response))

    # -- push --------------------------------------------------------------------------------------------

    def verify_push(self, headers, body):
        """JD's message product has no public, verifiable push format (§4.6 g, UNCONFIRMED): poll instead."""
        return False

    def parse_push(self, headers, body):
        return []
