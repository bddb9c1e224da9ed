"""Youzan Cloud (有赞云) — reference §6.1–6.3 and §11.7.

Served: ``POST /auth/token`` (JSON: silent / authorization_code / refresh_token) and
``POST /api/{api}/{version}?access_token=…`` with a JSON body: youzan.trades.sold.get (4.0.0, 4.0.4),
youzan.trade.get (4.0.0, 4.0.4), youzan.logistics.online.confirm (3.0.0),
youzan.logistics.express.get (3.0.0), youzan.cloud.secret.decrypt.single (1.0.0),
youzan.cloud.secret.decrypt.batch (1.0.0). No request signature: the token is the credential.

Push: ``POST webhook_url`` JSON with headers ``Event-Sign`` = lower-hex MD5(client_id + body +
client_secret), ``Event-Type``, ``Client-Id``; the receiver must answer ``{"code":0,…}``.
With option ``encrypt_push_msg`` the ``msg`` field is AES-128-CBC encrypted (key = first 16 bytes of
the client secret, IV ``0102030405060708``) before URL-encoding (which messages are encrypted on
the real platform is UNCONFIRMED). Amounts are yuan strings, times ``yyyy-MM-dd HH:mm:ss``.
"""

import base64
import urllib.parse
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BEIJING, BadParam, aes_cbc_encrypt, beijing_text, check_window, compact_json, epoch_millis, epoch_seconds,
    int_param, md5_hex, need, page_of, parse_beijing_text, time_param, yuan_text,
)

APIS = {  # name → (handler, versions)
    "youzan.trades.sold.get": ("_trades_sold", ("4.0.0", "4.0.4")),
    "youzan.trade.get": ("_trade_get", ("4.0.0", "4.0.4")),
    "youzan.logistics.online.confirm": ("_online_confirm", ("3.0.0",)),
    "youzan.logistics.express.get": ("_express_list", ("3.0.0",)),
    "youzan.cloud.secret.decrypt.single": ("_decrypt_single", ("1.0.0",)),
    "youzan.cloud.secret.decrypt.batch": ("_decrypt_batch", ("1.0.0",)),
}
# Youzan express ids (out_stype) — the table is UNCONFIRMED
EXPRESS = [(1, "申通快递"), (2, "圆通速递"), (3, "中通快递"), (4, "韵达快递"), (7, "顺丰速运"), (11, "邮政快递包裹"),
           (12, "EMS"), (138, "京东快递"), (263, "极兔速递")]
PUSH_TYPES = {  # only trade_TradePaid / trade_TradeBuyerPay are attested; the rest UNCONFIRMED
    "created": "trade_TradeCreate", "paid": "trade_TradePaid", "shipped": "trade_TradeSellerShip",
    "completed": "trade_TradeSuccess", "cancel": "trade_TradeClose", "updated": "trade_TradeMemoRemark",
    "refund": "trade_refund_RefundBuyerCreated",
}
PUSH_IV = b"0102030405060708"


def youzan_msg_encrypt(plaintext, client_secret):
    cipher = aes_cbc_encrypt(client_secret[:16].encode("utf-8"), PUSH_IV, plaintext)
    return base64.b64encode(cipher).decode()


class YouzanSimulator(PlatformSimulator):
    code = "youzan"
    DEFAULT_CREDENTIALS = {"app_key": "yz_demo_client", "app_secret": "yz_demo_secret"}
    TOKEN_LIFETIME = timedelta(days=7)  # UNCONFIRMED
    REFRESH_LIFETIME = timedelta(days=28)  # UNCONFIRMED
    STATUS_KINDS = {
        "WAIT_BUYER_PAY": "unpaid", "WAIT_CONFIRM": "on_hold", "WAIT_SELLER_SEND_GOODS": "paid",
        "WAIT_BUYER_CONFIRM_GOODS": "shipped", "TRADE_BUYER_SIGNED": "delivered", "TRADE_SUCCESS": "completed",
        "TRADE_CLOSED": "cancelled",
    }
    STATUS_ALIASES = {
        "unpaid": {"status": "WAIT_BUYER_PAY"}, "on_hold": {"status": "WAIT_CONFIRM"},
        "paid": {"status": "WAIT_SELLER_SEND_GOODS"}, "shipped": {"status": "WAIT_BUYER_CONFIRM_GOODS"},
        "delivered": {"status": "TRADE_BUYER_SIGNED"}, "completed": {"status": "TRADE_SUCCESS"},
        "cancelled": {"status": "TRADE_CLOSED"},
        "refund_requested": {"refund_state": 1}, "refunded": {"status": "TRADE_CLOSED", "refund_state": 12},
    }
    STATE_FIELDS = ("refund_state",)  # order-level refund_state values UNCONFIRMED: 0 none, 1 requested, 12 done
    PUSH_EVENTS = PUSH_TYPES
    PUSH_SUCCESS = ("code", 0)
    PUSH_RETRY_MINUTES = (1, 5, 10, 30, 60)  # UNCONFIRMED
    OPTIONS = {
        "max_page_size": 100,  # UNCONFIRMED
        "max_window_days": 31,  # UNCONFIRMED
        "business_error_code": 101500001,  # UNCONFIRMED: only the success:false/code/message shape is known
        "rate_limit_code": 4291,  # UNCONFIRMED gateway code
        "encrypt_push_msg": False,
        "refuse_ship_during_refund": True,
        "kdt_id": 12345, "kdt_name": "好物优选有赞店",
    }

    # ----- gateway

    def api_name(self, request):
        parts = request.path.strip("/").split("/")
        return parts[1] if len(parts) == 3 and parts[0] == "api" else request.path

    def handle(self, request):
        if request.path == "/auth/token":
            return self._auth_token(request)
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api":
            raise self.gateway_error(4001, "非法的请求地址")
        name, version = parts[1], parts[2]
        if name not in APIS or version not in APIS[name][1]:
            raise self.gateway_error(4005, f"非法的API: {name}/{version}")
        if request.method != "POST":
            raise self.gateway_error(4007, "非法的请求方法")
        self._check_token(request.query.get("access_token"))
        body = request.json_body() if request.body else {}
        if not isinstance(body, dict):
            raise self.business_error("请求体须为JSON对象")
        try:
            data = getattr(self, APIS[name][0])(body)
        except BadParam as problem:
            raise self.business_error(problem.message) from None
        return Reply(200, {"success": True, "code": 200, "data": data, "message": "successful",
                           "trace_id": self._trace_id()})

    def _check_token(self, token):
        state = self.token_state(token)
        if state == "expired":
            raise self.gateway_error(4201, "无效的凭证: access_token已过期")
        if state != "valid":
            raise self.gateway_error(4203, "Token不存在")

    def gateway_error(self, code, message):
        return ApiError(Reply(200, {"gw_err_resp": {"trace_id": self._trace_id(), "err_code": code,
                                                    "err_msg": message}}))

    def business_error(self, message):
        return ApiError(Reply(200, {"success": False, "code": self.options["business_error_code"],
                                    "message": message, "trace_id": self._trace_id()}))

    def _trace_id(self):
        return f"yz7-0a{md5_hex(str(len(self.requests)))[:6]}-{epoch_millis(self.now())}-1"

    def fault_reply(self, kind):
        if kind == "rate_limit":
            return self.gateway_error(self.options["rate_limit_code"], "请求过于频繁，已被限流").reply
        return self.gateway_error(4201, "无效的凭证: access_token已过期").reply

    def _auth_token(self, request):
        body = request.json_body() or {}
        if body.get("client_id") != self.app_key or body.get("client_secret") != self.app_secret:
            return Reply(200, {"success": False, "code": 1103, "message": "Client 不存在"})
        kind = body.get("authorize_type")
        if kind == "refresh_token":
            granted = self.tokens.refresh(body.get("refresh_token"))
        else:
            granted = (kind == "silent" and str(body.get("grant_id")) == str(self.options["kdt_id"])) or (
                kind == "authorization_code" and body.get("code") == self.auth_code)
            if granted:
                self.tokens.issue()
        if not granted:  # code UNCONFIRMED
            return Reply(200, {"success": False, "code": 1104, "message": "授权无效或refresh_token已过期"})
        data = {"access_token": self.tokens.access_token, "expires": epoch_millis(self.tokens.expires_at),
                "scope": "trade logistics", "authority_id": str(self.options["kdt_id"])}
        if body.get("refresh") or kind == "refresh_token":
            data["refresh_token"] = self.tokens.refresh_token
        return Reply(200, {"success": True, "code": 200, "data": data, "message": None})

    # ----- orders

    def new_order_id(self, rng):
        return f"E{self.now().astimezone(BEIJING).strftime('%Y%m%d%H%M%S')}{rng.randint(10**8, 10**9 - 1)}"

    def new_line_id(self, order_id, index, count):
        return str(int(md5_hex(order_id)[:12], 16) * 10 + index)

    def refund_pending(self, record):
        return record.extra.get("refund_state") == 1

    def _secret(self, record, kind, value):
        if not record.encrypted or not value:
            return value
        return self.seal(record, kind, value, lambda token: f"${token}$1$")

    def render(self, record):
        receiver = record.receiver
        return {
            "order_info": {
                "tid": record.id, "status": record.status, "type": 0, "created": beijing_text(record.created),
                "pay_time": beijing_text(record.paid) or "", "update_time": beijing_text(record.modified),
                "consign_time": beijing_text(record.shipped) or "", "success_time": beijing_text(record.finished) or "",
                "refund_state": record.extra.get("refund_state", 0), "order_tags": {"is_payed": bool(record.paid)},
            },
            "address_info": {
                "receiver_name": self._secret(record, "name", receiver["name"]),
                "receiver_tel": self._secret(record, "tel", receiver["mobile"]),
                "delivery_province": receiver["province"], "delivery_city": receiver["city"],
                "delivery_district": receiver["district"],
                "delivery_address": self._secret(record, "address", receiver["address"]),
                "delivery_postal_code": receiver.get("zip", ""), "address_extra": "{}",
            },
            "remark_info": {"buyer_message": record.remark, "trade_memo": record.seller_memo,
                            "star": record.seller_flag},
            "pay_info": {"total_fee": yuan_text(record.goods_total), "post_fee": yuan_text(record.post_fee),
                         "payment": yuan_text(record.payment), "real_payment": yuan_text(record.payment)},
            "buyer_info": {"buyer_phone": self._secret(record, "tel", receiver["mobile"]),
                           "fans_nickname": self._secret(record, "nick", record.buyer_nick),
                           "yz_open_id": self.ciphers.alnum("yz_open_id", record.buyer_id, 26),
                           "fans_id": int(md5_hex(record.buyer_id)[:8], 16)},
            "orders": [{
                "oid": line.line_id, "item_id": int(line.item_id), "sku_id": int(line.sku_id), "title": line.title,
                "num": line.quantity, "price": yuan_text(line.price), "total_fee": yuan_text(line.amount),
                "payment": yuan_text(record.line_share(line)), "outer_item_id": line.merchant_code.rsplit("-", 1)[0],
                "outer_sku_id": line.merchant_code, "sku_properties_name": line.spec, "item_type": 0,
            } for line in record.lines],
        }

    # ----- APIs

    def _trades_sold(self, params):
        by_update = bool(params.get("start_update") or params.get("end_update"))
        prefix, stamp = ("update", "modified") if by_update else ("created", "created")
        start = time_param(params, f"start_{prefix}", parse_beijing_text)
        end = time_param(params, f"end_{prefix}", parse_beijing_text, default=self.now())
        check_window(start, end, timedelta(days=self.options["max_window_days"]))
        page_no = int_param(params, "page_no", 1, low=1)
        page_size = int_param(params, "page_size", 20, low=1, high=self.options["max_page_size"])
        wanted = params.get("status")
        found = self.records_between(start, end, stamp=stamp, newest_first=True,
                                     keep=lambda r: wanted in (None, "", r.status))
        chunk, _, total = page_of(found, page_no, page_size)
        return {"total_results": total,
                "full_order_info_list": [{"full_order_info": self.native(r)} for r in chunk]}

    def _trade_get(self, params):
        return {"full_order_info": self.native(self.order_or_bad_param(need(params, "tid"), "tid"))}

    def _online_confirm(self, params):
        record = self.order_or_bad_param(need(params, "tid"), "tid")
        no_express = str(params.get("is_no_express", "0")) == "1"
        company = None if no_express else int_param(params, "out_stype")
        waybill = None if no_express else need(params, "out_sid")
        if company is not None and company not in {cid for cid, _ in EXPRESS}:
            raise BadParam("invalid", "out_stype", f"快递公司不存在: {company}")
        refusal = self.ship_refusal(record)
        if refusal:
            raise BadParam("invalid", "tid", refusal)
        self.record_shipment(record, waybill, None if company is None else str(company))
        self.set_status(record, "WAIT_BUYER_CONFIRM_GOODS")
        self.touch(record)
        self._auto_push(record, "shipped")
        return {"is_success": True}  # data shape UNCONFIRMED

    def _express_list(self, params):
        return {"allExpress": [{"id": cid, "name": name, "display": 1} for cid, name in EXPRESS]}  # UNCONFIRMED

    def _decrypt_single(self, params):
        cipher = need(params, "source")
        if not self.take_decrypt_quota(1):
            raise BadParam("invalid", "source", "解密额度不足")
        return self.reveal(cipher, None, "youzan.cloud.secret.decrypt.single")

    def _decrypt_batch(self, params):
        sources = params.get("sources")
        if not isinstance(sources, list) or not sources:
            raise BadParam("missing", "sources", "缺少必填参数: sources")
        if not self.take_decrypt_quota(len(sources)):
            raise BadParam("invalid", "sources", "解密额度不足")
        return {source: self.reveal(source, None, "youzan.cloud.secret.decrypt.batch") for source in sources}

    # ----- push

    def build_push(self, record, event, secret):
        message = compact_json({"tid": record.id, "status": record.status,
                                "update_time": beijing_text(record.modified)})  # msg keys UNCONFIRMED
        if self.options["encrypt_push_msg"]:
            message = youzan_msg_encrypt(message, self.app_secret)
        kind = self.native_event(event)
        body = compact_json({
            "client_id": self.app_key, "id": record.id, "kdt_id": self.options["kdt_id"],
            "kdt_name": self.options["kdt_name"], "status": record.status, "type": kind,
            "msg": urllib.parse.quote(message, safe=""), "sendCount": 0, "test": False,
            "version": epoch_seconds(record.modified), "mode": 1,
        })
        headers = {"Content-Type": "application/json", "Event-Sign": md5_hex(self.app_key + body + secret),
                   "Event-Type": kind, "Client-Id": self.app_key}
        return body.encode("utf-8"), headers

