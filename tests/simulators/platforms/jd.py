"""JD POP Open Platform (京东宙斯 JOS) — reference §4 and §11.5.

Served: ``POST|GET /routerjson`` (form or query) with ``method``, business parameters in
``360buy_param_json``: jingdong.pop.order.search, jingdong.pop.order.enSearch (encrypted PII),
jingdong.pop.order.get, jingdong.pop.order.enGet, jingdong.pop.order.shipment,
360buy.order.sop.outstorage (legacy ship), jingdong.jos.order.oaid.decrypt; OAuth
``GET /oauth2/access_token`` and ``GET /oauth2/refresh_token`` (open-oauth.jd.com on the real platform).

PII: the plain APIs return masked consignee fields for protected orders, the ``en*`` APIs opaque
TDE-style ciphertext. Real TDE decryption runs in JD's SDK with keys from JD's key service; the
stub standing in for it is ``POST /__sim__/decrypt {"cipher": …}`` (or ``sim.decrypt(cipher)``).
Push: JD's message product is UNCONFIRMED (reference §4.6g) — there is none; ``push()`` raises.
"""

from datetime import datetime, timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BadParam, beijing_text, check_window, int_param, json_param, mask_address, mask_mobile, mask_name, md5_hex, need,
    page_of, parse_beijing_text, same_text, time_param, wrapped_md5_upper, yuan_text,
)

# code, zh_desc, en_desc — 12, 15 and 19 are attested; the others are UNCONFIRMED (option error_codes)
ERROR_CODES = {
    "sign": ("12", "无效签名", "Invalid signature"),
    "method": ("15", "无效的方法", "Invalid method"),
    "token": ("19", "无效access_token", "Invalid access_token"),
    "missing": ("8", "缺少必选参数", "Missing required arguments"),
    "app_key": ("11", "无效的app_key", "Invalid app_key"),
    "timestamp": ("67", "时间戳无效或已过期", "Invalid timestamp"),
    "rate_limit": ("66", "调用频率超过限制", "Call frequency exceeded"),
}
STATE_TEXT = {
    "WAIT_SELLER_STOCK_OUT": "等待出库", "SEND_TO_DISTRIBUTION_CENER": "发往配送中心",
    "DISTRIBUTION_CENTER_RECEIVED": "配送中心已收货", "WAIT_GOODS_RECEIVE_CONFIRM": "等待确认收货",
    "RECEIPTS_CONFIRM": "收款确认", "WAIT_SELLER_DELIVERY": "等待发货", "FINISHED_L": "完成",
    "TRADE_CANCELED": "取消", "LOCKED": "已锁定", "PAUSE": "暂停", "POP_ORDER_PAUSE": "暂停",
}
# logiCoprId, code, name — only SF 467 is attested; the rest UNCONFIRMED (YTO 463 vs 466 conflict)
COMPANIES = [
    (467, "SF", "顺丰快递"), (463, "YTO", "圆通快递"), (1499, "ZTO", "中通速递"), (1327, "YUNDA", "韵达快递"),
    (470, "STO", "申通快递"), (465, "EMS", "邮政EMS"), (3046, "DBKD", "德邦快递"), (2087, "JD", "京东快递"),
    (1274, "SELF", "厂家自送"),
]
SUCCESS_RESULT = {"success": True, "chineseErr": "", "englishErr": "", "numberCode": 10100000}
BUSINESS_ERROR_NUMBER = 10100001  # UNCONFIRMED: apiResult shape and numbers are not attested


def parse_jos_timestamp(text):
    """The envelope ``timestamp``: ``yyyy-MM-dd HH:mm:ss`` in Beijing time (reference §4.3), or what JD's
    own Python SDK (jd/api/base.py) sends, ``yyyy-MM-dd HH:mm:ss.SSS±HHMM`` (``%Y-%m-%d %H:%M:%S.000%z``
    of the caller's local time), whose offset counts."""
    text = str(text)
    if len(text) == 19:
        return parse_beijing_text(text)
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f%z")


def region_id(name):
    return str(int(md5_hex(name)[:4], 16))  # synthetic


def failed_result(chinese, english):
    return {"success": False, "chineseErr": chinese, "englishErr": english, "numberCode": BUSINESS_ERROR_NUMBER}


class JdSimulator(PlatformSimulator):
    code = "jd"
    DEFAULT_CREDENTIALS = {"app_key": "JD_DEMO_APPKEY", "app_secret": "jd_demo_secret", "access_token": "jd_demo_token"}
    TOKEN_LIFETIME = timedelta(days=1)  # UNCONFIRMED
    REFRESH_LIFETIME = timedelta(days=365)  # UNCONFIRMED
    STATUS_KINDS = {
        "WAIT_SELLER_STOCK_OUT": "paid", "WAIT_SELLER_DELIVERY": "paid",
        "SEND_TO_DISTRIBUTION_CENER": "shipped", "DISTRIBUTION_CENTER_RECEIVED": "shipped",
        "WAIT_GOODS_RECEIVE_CONFIRM": "shipped", "RECEIPTS_CONFIRM": "delivered", "FINISHED_L": "completed",
        "TRADE_CANCELED": "cancelled", "LOCKED": "on_hold", "PAUSE": "on_hold", "POP_ORDER_PAUSE": "on_hold",
    }
    STATUS_ALIASES = {
        "paid": {"status": "WAIT_SELLER_STOCK_OUT"}, "shipped": {"status": "WAIT_GOODS_RECEIVE_CONFIRM"},
        "delivered": {"status": "RECEIPTS_CONFIRM"}, "completed": {"status": "FINISHED_L"},
        "cancelled": {"status": "TRADE_CANCELED"}, "on_hold": {"status": "LOCKED"},
        # JD locks an order while a refund/cancellation request is open
        "refund_requested": {"status": "LOCKED"},
    }
    PUSH_CHANNEL = None
    OPTIONS = {
        "max_page_size": 50,  # UNCONFIRMED: 50 in one doc mirror, 100 elsewhere
        "max_window_days": 30,  # UNCONFIRMED (~1 month)
        "error_codes": ERROR_CODES,
        "vender_id": "10086001",
    }
    API = {  # method → (handler, result key, whether the result nests an apiResult)
        "jingdong.pop.order.search": ("_search", "searchorderinfo_result", True),
        "jingdong.pop.order.enSearch": ("_search", "searchorderinfo_result", True),
        "jingdong.pop.order.get": ("_get", "orderDetailInfo", True),
        "jingdong.pop.order.enGet": ("_get", "orderDetailInfo", True),
        "jingdong.pop.order.shipment": ("_shipment", "sopjosshipment_result", False),
        "360buy.order.sop.outstorage": ("_outstorage", "order_sop_outstorage_response", False),
        "jingdong.jos.order.oaid.decrypt": ("_oaid_decrypt", "returnType", False),
    }

    # ----- gateway

    def api_name(self, request):
        return request.params.get("method") or request.path

    def handle(self, request):
        if request.path in ("/oauth2/access_token", "/oauth2/refresh_token"):
            return self._oauth(request)
        if request.path != "/routerjson":
            return Reply(404, "Not Found", content_type="text/plain")
        params = request.params
        self._check_envelope(params)
        method = params["method"]
        self._check_token(params.get("access_token"))
        handler, result_key, nested = self.API[method]
        try:
            business = json_param(params, "360buy_param_json", default={})
            result = getattr(self, handler)(business, method.split(".")[-1].startswith("en"))
        except BadParam as problem:
            failure = failed_result(problem.message, "Invalid business arguments")
            result = {result_key: {"apiResult": failure} if nested else failure}
        return Reply(200, {self.response_key(method): {"code": "0", **result}})

    @staticmethod
    def response_key(method):
        return method.replace(".", "_") + "_responce"  # sic: JOS spells it this way

    def _check_envelope(self, params):
        if not params.get("app_key") or not params.get("method") or not params.get("timestamp"):
            raise self.error("missing")
        if params["app_key"] != self.app_key:
            raise self.error("app_key")
        try:
            moment = parse_jos_timestamp(params["timestamp"])
        except ValueError:
            raise self.error("timestamp") from None
        if not self.timestamp_ok(moment):
            raise self.error("timestamp")
        if not params.get("sign") or not same_text(wrapped_md5_upper(params, self.app_secret), params["sign"]):
            raise self.error("sign")
        if params["method"] not in self.API:
            raise self.error("method")

    def _check_token(self, token):
        if self.token_state(token) != "valid":
            raise self.error("token")  # JOS answers 19 for missing, unknown and expired tokens alike

    def error(self, name):
        code, chinese, english = self.options["error_codes"][name]
        return ApiError(Reply(200, {"error_response": {"code": code, "zh_desc": chinese, "en_desc": english}}))

    def fault_reply(self, kind):
        return self.error("rate_limit" if kind == "rate_limit" else "token").reply

    # ----- orders

    def new_order_id(self, rng):
        return f"29{rng.randint(10**9, 10**10 - 1)}"

    def render(self, record, encrypted_api=False):
        return {
            "orderId": record.id, "venderId": self.options["vender_id"], "orderType": "22",
            "payType": "4-在线支付", "orderState": record.status, "orderStateRemark": STATE_TEXT[record.status],
            "orderStartTime": beijing_text(record.created), "paymentConfirmTime": beijing_text(record.paid) or "",
            "modified": beijing_text(record.modified), "orderEndTime": beijing_text(record.finished) or "",
            "orderTotalPrice": yuan_text(record.goods_total),
            "orderSellerPrice": yuan_text(record.goods_total - record.discount),
            "orderPayment": yuan_text(record.payment), "freightPrice": yuan_text(record.post_fee),
            "sellerDiscount": yuan_text(record.discount), "balanceUsed": "0.00",
            "orderRemark": record.remark, "venderRemark": record.seller_memo,
            "pin": mask_name(record.buyer_nick) if record.encrypted else record.buyer_nick,
            "open_id_buyer": self.ciphers.alnum("open_id", record.buyer_id, 32),
            "oaid": self.oaid(record),  # UNCONFIRMED field name for the OAID-style flow
            "consigneeInfo": self._consignee(record, encrypted_api),
            "itemInfoList": [
                {"skuId": line.sku_id, "outerSkuId": line.merchant_code, "skuName": line.title,
                 "jdPrice": yuan_text(line.price), "itemTotal": str(line.quantity), "wareId": line.item_id,
                 "productNo": line.merchant_code, "giftPoint": "0"} for line in record.lines],
            "waybill": record.lines[0].waybill or "", "logisticsId": self._company_id(record),
        }

    def oaid(self, record):
        return self.ciphers.alnum("oaid", f"{record.receiver['name']}|{record.receiver['mobile']}", 48)

    def _consignee(self, record, encrypted_api):
        receiver = record.receiver
        place = {"province": receiver["province"], "city": receiver["city"], "county": receiver["district"],
                 "town": receiver.get("town", ""), "provinceId": region_id(receiver["province"]),
                 "cityId": region_id(receiver["city"]), "countyId": region_id(receiver["district"]),
                 "townId": region_id(receiver.get("town", ""))}
        region_text = receiver["province"] + receiver["city"] + receiver["district"] + receiver.get("town", "")
        if not record.encrypted:
            return {**place, "fullname": receiver["name"], "mobile": receiver["mobile"],
                    "telephone": receiver.get("phone", ""), "fullAddress": region_text + receiver["address"]}
        if encrypted_api:
            seal = lambda kind, value: self.seal(record, kind, value, lambda token: token)  # noqa: E731
            return {**place, "fullname": seal("name", receiver["name"]), "mobile": seal("mobile", receiver["mobile"]),
                    "telephone": seal("phone", receiver.get("phone", "")),
                    "fullAddress": seal("address", region_text + receiver["address"])}
        return {**place, "fullname": mask_name(receiver["name"]), "mobile": mask_mobile(receiver["mobile"]),
                "telephone": "", "fullAddress": region_text + mask_address(receiver["address"])}

    @staticmethod
    def _company_id(record):
        code = record.lines[0].carrier_code
        return str(next((cid for cid, known, _ in COMPANIES if known == code), "")) if code else ""

    def projected(self, record, fields, encrypted_api):
        info = {**self.render(record, encrypted_api), **record.overrides}
        wanted = {name.strip() for name in (fields or "").split(",") if name.strip()}
        return {key: value for key, value in info.items() if key in wanted} if wanted else info

    # ----- order APIs

    def _search(self, params, encrypted_api):
        start = time_param(params, "start_date", parse_beijing_text)
        end = time_param(params, "end_date", parse_beijing_text)
        check_window(start, end, timedelta(days=self.options["max_window_days"]))
        states = set(need(params, "order_state").split(","))
        if not states <= set(STATE_TEXT):
            raise BadParam("invalid", "order_state", f"未知的订单状态: {','.join(sorted(states - set(STATE_TEXT)))}")
        page = int_param(params, "page", 1, low=1)
        page_size = int_param(params, "page_size", 20, low=1, high=self.options["max_page_size"])
        stamp = "created" if str(params.get("dateType", "0")) == "1" else "modified"  # dateType meaning UNCONFIRMED
        found = self.records_between(start, end, stamp=stamp, newest_first=str(params.get("sortType")) == "1",
                                     keep=lambda r: r.status in states)
        chunk, _, total = page_of(found, page, page_size)
        orders = [self.projected(r, params.get("optional_fields"), encrypted_api) for r in chunk]
        return {"searchorderinfo_result": {"orderTotal": total, "orderInfoList": orders,
                                           "apiResult": SUCCESS_RESULT}}

    def _get(self, params, encrypted_api):
        record = self.order_or_bad_param(need(params, "order_id"), "order_id")
        info = self.projected(record, params.get("optional_fields"), encrypted_api)
        return {"orderDetailInfo": {"orderInfo": info, "apiResult": SUCCESS_RESULT}}

    def _shipment(self, params, _encrypted_api):
        return self._ship(need(params, "orderId"), int_param(params, "logiCoprId"), need(params, "logiNo"),
                          "sopjosshipment_result")

    def _outstorage(self, params, _encrypted_api):
        return self._ship(need(params, "order_id"), int_param(params, "logistics_id"), need(params, "waybill"),
                          "order_sop_outstorage_response")

    def _ship(self, order_id, company_id, waybill, result_key):
        """Result keys of both ship calls are UNCONFIRMED; refusals come back as success=false."""
        record = self.records.get(str(order_id))
        company = next((code for cid, code, _ in COMPANIES if cid == company_id), None)
        if record is None or company is None:
            return {result_key: failed_result("订单或物流公司不存在", "Order or logistics company not found")}
        refusal = self.ship_refusal(record)
        if refusal:
            return {result_key: failed_result(refusal, "Order state does not allow shipment")}
        self.record_shipment(record, waybill, company, logi_copr_id=company_id)
        self.set_status(record, "WAIT_GOODS_RECEIVE_CONFIRM")
        self.touch(record)
        return {result_key: SUCCESS_RESULT}

    def _oaid_decrypt(self, params, _encrypted_api):
        """Reference §4.6e request shape; the response shape is UNCONFIRMED."""
        request = params.get("request") or {}
        infos = request.get("orderInfos") or []
        if not infos or not request.get("scenesType"):
            raise BadParam("missing", "orderInfos", "缺少 orderInfos 或 scenesType")
        if not self.take_decrypt_quota(len(infos)):
            return {"returnType": failed_result("解密额度不足", "Decrypt quota exceeded")}
        return {"returnType": {**SUCCESS_RESULT, "data": [self._decrypt_info(info) for info in infos]}}

    def _decrypt_info(self, info):
        record = self.records.get(str(info.get("orderId")))
        matched = bool(record) and info.get("oaid") == self.oaid(record)
        self.decrypt_log.append({"order_id": str(info.get("orderId")), "cipher": info.get("oaid"), "ok": matched})
        if not matched:
            return {"orderId": info.get("orderId"), "oaid": info.get("oaid"), "success": False}
        receiver = record.receiver
        return {"orderId": info.get("orderId"), "oaid": info.get("oaid"), "success": True,
                "consName": receiver["name"], "consMobile": receiver["mobile"],
                "consTelephone": receiver.get("phone", ""), "consAddress": receiver["address"],
                "province": receiver["province"], "city": receiver["city"], "county": receiver["district"],
                "town": receiver.get("town", "")}

    # ----- OAuth (open-oauth.jd.com)

    def _oauth(self, request):
        """Field list of the token JSON and its error shape are partly UNCONFIRMED."""
        params = request.params
        if params.get("app_key") != self.app_key or params.get("app_secret") != self.app_secret:
            return Reply(200, {"code": 2001, "msg": "app_key或app_secret错误"})
        if request.path.endswith("access_token"):
            ok = params.get("grant_type") == "authorization_code" and params.get("code") == self.auth_code
            if ok:
                self.tokens.issue()
        else:
            ok = params.get("grant_type") == "refresh_token" and self.tokens.refresh(params.get("refresh_token"))
        if not ok:
            return Reply(200, {"code": 2002, "msg": "code或refresh_token无效"})
        return Reply(200, {"access_token": self.tokens.access_token, "expires_in": self.tokens.seconds_left(),
                           "refresh_token": self.tokens.refresh_token, "scope": "snsapi_base",
                           "open_id": self.ciphers.alnum("vender", self.options["vender_id"], 32),
                           "uid": self.options["vender_id"], "time": int(self.now().timestamp() * 1000),
                           "token_type": "bearer"})

    def build_push(self, record, event, secret):
        raise RuntimeError("JD has no verifiable public push channel (reference §4.6g); poll instead")
