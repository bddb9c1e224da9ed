"""Taobao / Tmall Open Platform (TOP) — reference §1 and §11.2.

Served: ``POST|GET /router/rest`` (form fields or query), dispatched on ``method``:
taobao.trades.sold.increment.get, taobao.trade.fullinfo.get, taobao.top.oaid.decrypt,
taobao.logistics.offline.send, taobao.logistics.companies.get, taobao.top.auth.token.create,
taobao.top.auth.token.refresh, taobao.tmc.user.permit, taobao.tmc.user.cancel,
taobao.tmc.messages.consume, taobao.tmc.messages.confirm.

Push: TOP has no signed HTTP push. Messages go through TMC; the simulator offers TMC's real HTTP
pull channel (taobao.tmc.messages.consume / confirm, redelivery of unconfirmed messages) and not the
binary websocket. ``push()`` publishes a TMC message (only once the seller was permitted with
taobao.tmc.user.permit, as on TOP) and returns (None, message).
"""

import json
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BadParam, beijing_text, check_window, from_epoch, hmac_hex, int_param, json_param, mask_address, mask_name, md5_hex,
    need, page_of, parse_beijing_text, same_text, sorted_concat, time_param, virtual_number, yuan_text,
)

TOP_MESSAGES = {
    7: "App Call Limited", 15: "Remote Service Error", 21: "Missing Method", 22: "Invalid Method",
    24: "Missing Signature", 25: "Invalid Signature", 26: "Missing Session", 27: "Invalid Session",
    28: "Missing App Key", 29: "Invalid App Key", 30: "Missing Timestamp", 31: "Invalid Timestamp",
    40: "Missing Required Arguments", 41: "Invalid Arguments",
}
# code, name; ids are UNCONFIRMED (only the codes matter to callers)
COMPANIES = [
    (505, "SF", "顺丰速运"), (500, "ZTO", "中通快递"), (101, "YTO", "圆通速递"), (100, "STO", "申通快递"),
    (102, "YUNDA", "韵达快递"), (2, "EMS", "EMS"), (7, "EYB", "EMS经济快递"), (2500, "POSTB", "邮政快递包裹"),
    (5000000110730, "JD", "京东配送"), (502, "HTKY", "百世快递"), (504, "TTKDEX", "天天快递"),
    (103, "ZJS", "宅急送"), (5000000000001, "DBKD", "德邦快递"), (5000000000002, "JTSD", "极兔速递"),
]
REFUND_PENDING = ("WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS")
SIGN_METHODS = {"md5", "hmac", "hmac-sha256"}


def top_signature(params, secret):
    """Reference §1.4: sorted k+v, md5 wrapped in the secret or HMAC keyed with it; upper hex."""
    text = sorted_concat(params)
    method = params.get("sign_method", "md5")
    if method == "md5":
        return md5_hex(secret + text + secret).upper()
    return hmac_hex(secret, text, "md5" if method == "hmac" else "sha256").upper()


def parse_top_time(value):
    """``yyyy-MM-dd HH:mm:ss`` Beijing, or epoch milliseconds as the official Python SDK sends."""
    text = str(value)
    return from_epoch(text, millis=True) if text.isdigit() else parse_beijing_text(text)


def response_key(method):
    name = method[len("taobao."):] if method.startswith("taobao.") else method
    return name.replace(".", "_") + "_response"


def projected(trade, fields):
    """TOP returns only the requested fields; ``orders.x`` selects line fields."""
    wanted = {name.strip() for name in fields.split(",") if name.strip()}
    result = {key: value for key, value in trade.items() if key in wanted}
    line_fields = {name.split(".", 1)[1] for name in wanted if name.startswith("orders.")}
    if "orders" in wanted:
        result["orders"] = trade["orders"]
    elif line_fields:
        lines = [{k: v for k, v in line.items() if k in line_fields} for line in trade["orders"]["order"]]
        result["orders"] = {"order": lines}
    return result


def without_empty(mapping):
    """TOP leaves out fields that have no value."""
    return {key: value for key, value in mapping.items() if value is not None}


class TaobaoSimulator(PlatformSimulator):
    code = "taobao"
    DEFAULT_CREDENTIALS = {"app_key": "12345678", "app_secret": "helloworld"}
    TOKEN_PREFIX = "6100"
    TOKEN_LIFETIME = timedelta(days=1)  # UNCONFIRMED: depends on the app type on TOP
    REFRESH_LIFETIME = timedelta(days=30)  # UNCONFIRMED
    STATUS_KINDS = {
        "TRADE_NO_CREATE_PAY": "unpaid", "WAIT_BUYER_PAY": "unpaid", "PAY_PENDING": "unpaid",
        "WAIT_PRE_AUTH_CONFIRM": "on_hold", "PAID_FORBID_CONSIGN": "on_hold",
        "WAIT_SELLER_SEND_GOODS": "paid", "SELLER_CONSIGNED_PART": "partially_shipped",
        "WAIT_BUYER_CONFIRM_GOODS": "shipped", "TRADE_BUYER_SIGNED": "delivered", "TRADE_FINISHED": "completed",
        "TRADE_CLOSED": "cancelled", "TRADE_CLOSED_BY_TAOBAO": "cancelled",
    }
    STATUS_ALIASES = {
        "unpaid": {"status": "WAIT_BUYER_PAY"}, "paid": {"status": "WAIT_SELLER_SEND_GOODS"},
        "on_hold": {"status": "PAID_FORBID_CONSIGN"}, "shipped": {"status": "WAIT_BUYER_CONFIRM_GOODS"},
        "delivered": {"status": "TRADE_BUYER_SIGNED"}, "completed": {"status": "TRADE_FINISHED"},
        "cancelled": {"status": "TRADE_CLOSED"}, "refund_requested": {"refund_status": "WAIT_SELLER_AGREE"},
        "refund_rejected": {"refund_status": "SELLER_REFUSE_BUYER"},
        "refunded": {"status": "TRADE_CLOSED", "refund_status": "SUCCESS"},
    }
    STATE_FIELDS = ("refund_status",)
    PUSH_CHANNEL = "queue"
    PUSH_EVENTS = {
        "created": "taobao_trade_TradeCreate", "paid": "taobao_trade_TradeBuyerPay",
        "shipped": "taobao_trade_TradeSellerShip", "completed": "taobao_trade_TradeSuccess",
        "cancel": "taobao_trade_TradeClose", "updated": "taobao_trade_TradeLogisticsAddressChanged",
        "memo": "taobao_trade_TradeMemoModified", "refund": "taobao_refund_RefundCreated",
        "refund_success": "taobao_refund_RefundSuccess",
    }
    OPTIONS = {
        "max_window_minutes": 24 * 60,  # reference: span ≤ 1 day
        "history_days": 90,  # only trades modified in the last 3 months
        # UNCONFIRMED whether use_has_next=true leaves total_results out; default keeps it.
        "omit_total_with_has_next": False,
        # UNCONFIRMED codes for business refusals (window too wide, ship refused, …)
        "window_error": (41, "isv.invalid-parameter"),
        "ship_error_sub_code": "isv.logistics-offline-service-error",
        "refuse_ship_during_refund": True,
        "tmc_redeliver_minutes": 1,  # UNCONFIRMED: delay before an unconfirmed TMC message is served again
        "seller_nick": "好物优选旗舰店", "seller_id": 2200123456789,
        "trade_type": "fixed",
    }
    API = {  # method → (handler, needs the seller session)
        "taobao.trades.sold.increment.get": ("_trades_increment", True),
        "taobao.trade.fullinfo.get": ("_trade_fullinfo", True),
        "taobao.top.oaid.decrypt": ("_oaid_decrypt", True),
        "taobao.logistics.offline.send": ("_offline_send", True),
        "taobao.logistics.companies.get": ("_companies", False),
        "taobao.top.auth.token.create": ("_token_create", False),
        "taobao.top.auth.token.refresh": ("_token_refresh", False),
        "taobao.tmc.user.permit": ("_tmc_permit", True),
        "taobao.tmc.user.cancel": ("_tmc_cancel", True),
        "taobao.tmc.messages.consume": ("_tmc_consume", False),
        "taobao.tmc.messages.confirm": ("_tmc_confirm", False),
    }

    # ----- gateway

    def api_name(self, request):
        return request.params.get("method") or request.path

    def handle(self, request):
        if request.path != "/router/rest":
            return Reply(404, "<html><body>404 Not Found</body></html>", content_type="text/html")
        params = request.params
        method = params.get("method")
        self._check_envelope(params)
        if method not in self.API:
            raise self.error(22)
        handler, needs_session = self.API[method]
        if needs_session:
            self._check_session(params.get("session"))
        try:
            body = getattr(self, handler)(params)
        except BadParam as problem:
            raise self.error(40 if problem.kind == "missing" else 41,
                             f"isv.{'missing' if problem.kind == 'missing' else 'invalid'}-parameter:{problem.name}",
                             problem.message) from None
        return Reply(200, {response_key(method): {**body, "request_id": self._request_id()}})

    def _check_envelope(self, params):
        if not params.get("method"):
            raise self.error(21)
        if not params.get("app_key"):
            raise self.error(28)
        if params["app_key"] != self.app_key:
            raise self.error(29)
        if not params.get("timestamp"):
            raise self.error(30)
        try:
            moment = parse_top_time(params["timestamp"])
        except (ValueError, OverflowError):
            raise self.error(31, "isv.invalid-timestamp", "时间戳格式错误") from None
        if not self.timestamp_ok(moment):
            raise self.error(31, "isv.invalid-timestamp", "时间戳与服务器时间相差超过允许范围")
        if not params.get("sign"):
            raise self.error(24)
        if params.get("sign_method", "md5") not in SIGN_METHODS:
            raise self.error(25, "isv.invalid-signature-method", "不支持的签名方法")
        if not same_text(top_signature(params, self.app_secret), params["sign"]):
            raise self.error(25)

    def _check_session(self, session):
        state = self.token_state(session)
        if state == "missing":
            raise self.error(26)
        if state == "expired":
            # UNCONFIRMED: the reference only shows invalid-sessionkey, also used for expiry here.
            raise self.error(27, "invalid-sessionkey", "SessionKey已过期")
        if state == "invalid":
            raise self.error(27, "invalid-sessionkey", "SessionKey非法")

    def error(self, code, sub_code=None, sub_msg=None):
        body = {"code": code, "msg": TOP_MESSAGES[code]}
        if sub_code:
            body.update(sub_code=sub_code, sub_msg=sub_msg or "")
        body["request_id"] = self._request_id()
        return ApiError(Reply(200, {"error_response": body}))

    def business_error(self, sub_code, sub_msg):
        return self.error(15, sub_code, sub_msg)

    def _request_id(self):
        return md5_hex(f"{len(self.requests)}:{self.now()}")[:12]

    def fault_reply(self, kind):
        if kind == "rate_limit":
            # sub_code UNCONFIRMED; the message format (ban seconds) follows the reference
            return self.error(7, "accesscontrol.limited-by-api-access-count",
                              "This ban will last for 1 more seconds").reply
        return self.error(27, "invalid-sessionkey", "SessionKey已过期").reply

    # ----- orders

    def new_order_id(self, rng):
        return f"4{rng.randint(10**17, 10**18 - 1)}"

    def refund_pending(self, record):
        return record.extra.get("refund_status") in REFUND_PENDING

    def oaid(self, record):
        receiver = record.receiver
        identity = f"{receiver.get('name')}|{receiver.get('mobile')}|{receiver.get('address')}"
        return self.ciphers.alnum("oaid", identity, 40)

    def render(self, record):
        receiver, masked = record.receiver, record.encrypted
        trade = {
            "tid": int(record.id), "status": record.status, "type": self.options["trade_type"],
            "buyer_nick": mask_name(record.buyer_nick) if masked else record.buyer_nick,
            "buyer_open_uid": "AAH" + self.ciphers.alnum("uid", record.buyer_id, 21),
            "seller_nick": self.options["seller_nick"],
            "created": beijing_text(record.created), "modified": beijing_text(record.modified),
            "pay_time": beijing_text(record.paid), "consign_time": beijing_text(record.shipped),
            "end_time": beijing_text(record.finished or record.cancelled),
            "receiver_name": mask_name(receiver["name"]) if masked else receiver["name"],
            "receiver_mobile": ("*******" + receiver["mobile"][-4:]) if masked else receiver["mobile"],
            "receiver_phone": receiver.get("phone") or None,
            "receiver_country": "", "receiver_state": receiver["province"], "receiver_city": receiver["city"],
            "receiver_district": receiver["district"], "receiver_town": receiver.get("town"),
            "receiver_address": mask_address(receiver["address"]) if masked else receiver["address"],
            "receiver_zip": receiver.get("zip") or "000000",
            "buyer_message": record.remark or None, "seller_memo": record.seller_memo or None,
            "seller_flag": record.seller_flag,
            "total_fee": yuan_text(record.goods_total), "post_fee": yuan_text(record.post_fee),
            "discount_fee": yuan_text(record.discount), "adjust_fee": "0.00", "payment": yuan_text(record.payment),
            "num": sum(line.quantity for line in record.lines), "oaid": self.oaid(record),
            "orders": {"order": [self._render_line(record, line) for line in record.lines]},
        }
        return without_empty(trade)

    def _render_line(self, record, line):
        share = record.line_share(line)
        return without_empty({
            "oid": int(line.line_id), "num_iid": int(line.item_id), "sku_id": line.sku_id,
            "outer_iid": line.merchant_code.rsplit("-", 1)[0] if line.merchant_code else None,
            "outer_sku_id": line.merchant_code or None, "title": line.title,
            "sku_properties_name": line.spec or None, "num": line.quantity, "price": yuan_text(line.price),
            "total_fee": yuan_text(line.amount), "payment": yuan_text(share), "divide_order_fee": yuan_text(share),
            "discount_fee": yuan_text(line.amount - share), "adjust_fee": "0.00",
            "status": self._line_status(record, line),
            "refund_status": record.extra.get("refund_status", "NO_REFUND"),  # NO_REFUND literal UNCONFIRMED
            "logistics_company": self._company_name(line.carrier_code), "invoice_no": line.waybill,
            "shipping_type": "express",
        })

    def _line_status(self, record, line):
        if record.status == "SELLER_CONSIGNED_PART":
            return "WAIT_BUYER_CONFIRM_GOODS" if line.shipped_quantity else "WAIT_SELLER_SEND_GOODS"
        return record.status

    @staticmethod
    def _company_name(code):
        return next((name for _, known, name in COMPANIES if known == code), None) if code else None

    # ----- order APIs

    def _window(self, params):
        start = time_param(params, "start_modified", parse_top_time)
        end = time_param(params, "end_modified", parse_top_time)
        try:
            check_window(start, end, timedelta(minutes=self.options["max_window_minutes"]),
                         self.now() - timedelta(days=self.options["history_days"]))
        except BadParam as problem:
            code, sub_code = self.options["window_error"]
            raise self.error(code, sub_code, problem.message) from None
        return start, end

    def _trades_increment(self, params):
        fields = need(params, "fields")
        start, end = self._window(params)
        page_no = int_param(params, "page_no", 1, low=1)
        page_size = int_param(params, "page_size", 40, low=1, high=100)
        wanted_status = params.get("status")
        types = set(params["type"].split(",")) if params.get("type") else None
        trades = self.records_between(start, end, newest_first=True, keep=lambda r: (
            (not wanted_status or r.status == wanted_status)
            and (not params.get("buyer_nick") or r.buyer_nick == params["buyer_nick"])
            and (types is None or self.options["trade_type"] in types)
        ))
        chunk, has_next, total = page_of(trades, page_no, page_size)
        body = {}
        use_has_next = params.get("use_has_next") == "true"
        if not (use_has_next and self.options["omit_total_with_has_next"]):
            body["total_results"] = total
        if use_has_next:
            body["has_next"] = has_next
        if chunk:
            body["trades"] = {"trade": [projected(self.native(r), fields) for r in chunk]}
        return body

    def _trade_fullinfo(self, params):
        fields = need(params, "fields")
        return {"trade": projected(self.native(self._trade(params)), fields)}

    def _trade(self, params):
        tid = need(params, "tid")
        if str(tid) not in self.records:
            raise self.business_error("isv.trade-not-exist", f"交易{tid}不存在")
        return self.records[str(tid)]

    def _oaid_decrypt(self, params):
        queries = json_param(params, "query_list")
        if not isinstance(queries, list) or not 1 <= len(queries) <= 20:
            raise self.error(41, "isv.invalid-parameter:query_list", "query_list 须为1到20个查询")
        if any(not query.get("scene") for query in queries):
            raise self.error(40, "isv.missing-parameter:scene", "缺少解密场景 scene")
        if not self.take_decrypt_quota(len(queries)):
            raise self.business_error("isv.oaid-decrypt-quota-exceeded", "解密额度已用完")  # sub_code UNCONFIRMED
        return {"receiver_list": {"receiver": [self._decrypted_receiver(query) for query in queries]}}

    def _decrypted_receiver(self, query):
        record = self.records.get(str(query.get("tid")))
        matched = bool(record) and query.get("oaid") == self.oaid(record)
        self.decrypt_log.append({"order_id": str(query.get("tid")), "cipher": query.get("oaid"),
                                 "purpose": str(query.get("scene")), "ok": matched})
        answer = {"oaid": query.get("oaid"), "tid": query.get("tid"), "matched": matched}
        if not matched:
            return answer
        receiver = record.receiver
        mobile = virtual_number(receiver["mobile"]) if record.virtual_mobile else receiver["mobile"]
        return {**answer, "name": receiver["name"], "mobile": mobile, "phone": receiver.get("phone") or "",
                "state": receiver["province"], "city": receiver["city"], "district": receiver["district"],
                "town": receiver.get("town", ""), "address_detail": receiver["address"]}

    def _offline_send(self, params):
        record = self._trade(params)
        waybill, company = need(params, "out_sid"), need(params, "company_code")
        if company not in {code for _, code, _ in COMPANIES}:
            raise self.business_error(self.options["ship_error_sub_code"], f"物流公司编码{company}不存在")
        split = params.get("is_split") == "1"
        refusal = self.ship_refusal(record, allow_partial=split)
        if refusal:
            raise self.business_error(self.options["ship_error_sub_code"], refusal)
        lines = self._lines_to_ship(record, params.get("sub_tid"), split)
        self.record_shipment(record, waybill, company, lines=lines, tid=record.id)
        all_shipped = self.all_lines_shipped(record)
        self.set_status(record, "WAIT_BUYER_CONFIRM_GOODS" if all_shipped else "SELLER_CONSIGNED_PART")
        self.touch(record)
        self._auto_push(record, "shipped")
        return {"shipping": {"is_success": True}}

    def _lines_to_ship(self, record, sub_tid, split):
        unshipped = [line for line in record.lines if not line.shipped_quantity]
        if not split:
            return unshipped
        wanted = {oid.strip() for oid in (sub_tid or "").split(",") if oid.strip()}
        lines = [line for line in unshipped if line.line_id in wanted]
        if not wanted or len(lines) != len(wanted):
            raise self.business_error(self.options["ship_error_sub_code"], "sub_tid 含已发货或不属于该交易的子订单")
        return lines

    def _companies(self, params):
        companies = [{"id": cid, "code": code, "name": name, "reg_mail_no": "^[A-Za-z0-9]{8,20}$"}
                     for cid, code, name in COMPANIES]
        return {"logistics_companies": {"logistics_company": companies}}

    # ----- tokens

    def _token_create(self, params):
        if need(params, "code") != self.auth_code:
            raise self.business_error("isv.invalid-code", "授权码无效或已过期")  # sub_code UNCONFIRMED
        self.tokens.issue()
        return {"token_result": json.dumps(self._token_result(), ensure_ascii=False)}

    def _token_refresh(self, params):
        if not self.tokens.refresh(need(params, "refresh_token")):
            raise self.business_error("isv.refresh-token-invalid", "refresh_token无效或已过期")  # UNCONFIRMED
        return {"token_result": json.dumps(self._token_result(), ensure_ascii=False)}

    def _token_result(self):
        tokens = self.tokens
        return {
            "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_in": tokens.seconds_left(), "re_expires_in": tokens.refresh_seconds_left(),
            "expire_time": int(tokens.expires_at.timestamp() * 1000), "token_type": "Bearer",
            "taobao_user_nick": self.options["seller_nick"], "taobao_user_id": str(self.options["seller_id"]),
        }

    # ----- TMC (message service) over its HTTP pull API

    def _tmc_permit(self, params):
        self.messages_permitted = True
        return {"is_success": True}

    def _tmc_cancel(self, params):
        self.messages_permitted = False
        return {"is_success": True}

    def _tmc_consume(self, params):
        quantity = int_param(params, "quantity", 100, low=10, high=200)
        hold = timedelta(minutes=self.options["tmc_redeliver_minutes"])
        messages = self.queue.lease(quantity, self.now(), hold)
        return {"messages": {"tmc_message": messages}} if messages else {}

    def _tmc_confirm(self, params):
        ids = [item for item in need(params, "s_message_ids").split(",") if item.strip()]
        self.queue.confirm(ids)
        return {"is_success": True}

    def build_push(self, record, event, secret):
        topic = self.native_event(event)
        content = {"tid": int(record.id), "oid": int(record.lines[0].line_id), "status": record.status,
                   "buyer_nick": self.native(record).get("buyer_nick"), "payment": yuan_text(record.payment),
                   "type": self.options["trade_type"], "seller_nick": self.options["seller_nick"]}
        if "refund" in topic:
            content.update(refund_id=int(record.id) % 10**15, refund_fee=yuan_text(record.payment))
        return {"topic": topic, "content": json.dumps(content, ensure_ascii=False),
                "pub_time": beijing_text(self.now()), "pub_app_key": self.app_key,
                "user_id": self.options["seller_id"], "user_nick": self.options["seller_nick"]}


class TmallSimulator(TaobaoSimulator):
    """Tmall shops use the same TOP gateway; only the shop differs."""

    code = "tmall"
    OPTIONS = {**TaobaoSimulator.OPTIONS, "seller_nick": "好物优选天猫旗舰店", "seller_id": 2200987654321}
