"""Pinduoduo Open Platform — reference §2 and §11.3.

Served: ``POST|GET /api/router`` (JSON body, form fields or query), dispatched on ``type``:
pdd.order.number.list.increment.get, pdd.order.information.get, pdd.open.decrypt.batch,
pdd.logistics.online.send, pdd.logistics.companies.get, pdd.pop.auth.token.create,
pdd.pop.auth.token.refresh, pdd.pmc.user.permit; and the message websocket
``GET /message/{client_id}/{timestamp_ms}/{digest}`` (digest checked; HeartBeat frames, ``Common``
data frames, ``Ack`` handling, unacknowledged messages redelivered on the next connection).

``push()`` publishes a message to the websocket channel (once the seller is permitted through
pdd.pmc.user.permit) and returns (None, message).

Amounts are yuan numbers (reference §2.7d and §10: "PDD = yuan numbers"), times in orders are
``yyyy-MM-dd HH:mm:ss`` strings, request times are unix seconds.
"""

import base64
import json
import threading
import time
import urllib.parse
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BEIJING, BadParam, beijing_text, check_window, epoch_millis, epoch_seconds, from_epoch, int_param, json_param,
    mask_address, mask_mobile, mask_name, md5_hex, need, page_of, same_text, time_param, virtual_number,
    wrapped_md5_upper,
)

# Only 10019 (token expired) is confirmed; every other code is UNCONFIRMED and can be replaced
# through the ``error_codes`` option.
ERROR_CODES = {
    "param": (10000, "参数错误"),
    "client_id": (10016, "client_id不存在"),
    "type": (10001, "type不存在"),
    "timestamp": (10012, "timestamp已过期"),
    "sign": (10014, "签名sign校验失败"),
    "token_expired": (10019, "access_token已过期"),
    "token_invalid": (10019, "access_token已过期"),
    "rate_limit": (70031, "调用过于频繁，请调整调用频率"),
    "business": (50000, "业务处理失败"),
}
# id, code, name — SF 44 / YTO 85 / ZTO 115 / STO 1 are the well attested ones
COMPANIES = [
    (1, "STO", "申通快递"), (3, "HT", "百世快递"), (44, "SF", "顺丰快递"), (85, "YTO", "圆通快递"),
    (115, "ZTO", "中通快递"), (117, "YS", "优速快递"), (118, "EMS", "邮政EMS"), (119, "TT", "天天快递"),
    (120, "JD", "京东配送"), (121, "YUNDA", "韵达快递"), (131, "DB", "德邦快递"), (132, "YZXB", "邮政快递包裹"),
    (180, "SELF", "其他"), (183, "KYE", "跨越速运"),
]
API_WRAPPERS = {
    "pdd.order.number.list.increment.get": ("_increment", "order_sn_increment_get_response", True),
    "pdd.order.information.get": ("_information", "order_info_get_response", True),
    "pdd.open.decrypt.batch": ("_decrypt_batch", "open_decrypt_batch_response", True),
    "pdd.logistics.online.send": ("_online_send", "logistics_online_send_response", True),
    "pdd.logistics.companies.get": ("_companies", "logistics_companies_get_response", False),
    "pdd.pop.auth.token.create": ("_token_create", "pop_auth_token_create_response", False),
    "pdd.pop.auth.token.refresh": ("_token_refresh", "pop_auth_token_refresh_response", False),
    "pdd.pmc.user.permit": ("_pmc_permit", "pmc_user_permit_response", True),
}


def websocket_digest(client_id, timestamp_ms, secret):
    """Reference §2.7g: base64 of the lower-hex MD5 of client_id + ts + secret."""
    return base64.b64encode(md5_hex(f"{client_id}{timestamp_ms}{secret}").encode()).decode()


def region_id(name):
    return int(md5_hex(name)[:5], 16)  # synthetic: stable ids, not PDD's real region table


class PinduoduoSimulator(PlatformSimulator):
    code = "pinduoduo"
    DEFAULT_CREDENTIALS = {"app_key": "pdd_demo_client", "app_secret": "pdd_demo_secret",
                           "access_token": "pdd_demo_token"}
    TOKEN_LIFETIME = timedelta(days=1)  # UNCONFIRMED
    REFRESH_LIFETIME = timedelta(days=30)  # UNCONFIRMED
    STATUS_KINDS = {1: "paid", 2: "shipped", 3: "completed"}
    STATUS_ALIASES = {
        "paid": {"status": 1, "confirm_status": 1}, "shipped": {"status": 2}, "delivered": {"status": 3},
        "completed": {"status": 3}, "on_hold": {"risk_control_status": 1},
        "refund_requested": {"refund_status": 2, "after_sales_status": 2},
        "refunded": {"refund_status": 4, "after_sales_status": 10},
        # a cancelled PDD order = refunded before shipment (reference §2.7c)
        "cancelled": {"refund_status": 4, "after_sales_status": 10},
    }
    STATE_FIELDS = ("confirm_status", "refund_status", "after_sales_status", "risk_control_status", "group_status")
    PUSH_CHANNEL = "queue"
    PUSH_EVENTS = {
        "created": "pdd_trade_TradeConfirmed", "paid": "pdd_trade_TradeConfirmed",
        "shipped": "pdd_trade_TradeSellerShip", "completed": "pdd_trade_TradeSuccess",
        "updated": "pdd_trade_TradeLogisticsAddressChanged", "refund": "pdd_refund_RefundCreated",
        "cancel": "pdd_refund_RefundAgreeAgreement", "refund_closed": "pdd_refund_RefundClosed",
    }
    OPTIONS = {
        "max_window_minutes": 30,
        "error_codes": ERROR_CODES,
        "refuse_ship_during_refund": True,
        "mall_id": 987654321, "owner_name": "好物优选的店",
        "heartbeat_seconds": 5.0,  # HeartBeat frame fields beyond commandType are UNCONFIRMED
    }

    # ----- gateway

    def api_name(self, request):
        return request.params.get("type") or request.path

    def handle(self, request):
        if request.path != "/api/router":
            return Reply(404, {"error_response": {"error_msg": "Not Found"}})
        params = request.params
        self._check_envelope(params)
        handler, wrapper, needs_token = API_WRAPPERS[params["type"]]
        if needs_token:
            self._check_token(params.get("access_token"))
        try:
            body = getattr(self, handler)(params)
        except BadParam as problem:
            raise self.error("param", problem.message) from None
        return Reply(200, {wrapper: {**body, "request_id": self._request_id()}})

    def _check_envelope(self, params):
        if not params.get("type"):
            raise self.error("param", "缺少必填参数: type")
        if params.get("client_id") != self.app_key:
            raise self.error("client_id", f"client_id不存在: {params.get('client_id')}")
        try:
            moment = from_epoch(need(params, "timestamp"))
        except (BadParam, ValueError, OverflowError):
            raise self.error("param", "timestamp 须为unix秒") from None
        if not self.timestamp_ok(moment):
            raise self.error("timestamp", "timestamp与服务器时间相差过大")
        if not params.get("sign") or not same_text(wrapped_md5_upper(params, self.app_secret), params["sign"]):
            raise self.error("sign", "签名sign校验失败")
        if params["type"] not in API_WRAPPERS:
            raise self.error("type", f"type不存在: {params['type']}")

    def _check_token(self, token):
        state = self.token_state(token)
        if state == "missing":
            raise self.error("param", "缺少必填参数: access_token")
        if state != "valid":
            raise self.error("token_expired" if state == "expired" else "token_invalid", "access_token已过期")

    def error(self, name, sub_msg=""):
        code, message = self.options["error_codes"][name]
        body = {"error_code": code, "error_msg": message, "sub_code": str(code), "sub_msg": sub_msg,
                "request_id": self._request_id()}
        return ApiError(Reply(200, {"error_response": body}))

    def _request_id(self):
        return f"{epoch_millis(self.now())}{len(self.requests) % 10000:04d}"

    def fault_reply(self, kind):
        if kind == "rate_limit":
            return self.error("rate_limit", "接口调用超过限流").reply
        return self.error("token_expired", "access_token已过期").reply

    # ----- orders

    def new_order_id(self, rng):
        return f"{self.now().astimezone(BEIJING).strftime('%y%m%d')}-{rng.randint(10**14, 10**15 - 1)}"

    def refund_pending(self, record):
        return record.extra.get("refund_status", 1) != 1

    def on_record_created(self, record):
        record.extra.update(confirm_status=1, refund_status=1, after_sales_status=0, risk_control_status=0,
                            group_status=1)

    def render(self, record):
        extra, receiver = record.extra, record.receiver
        return {
            "order_sn": record.id, "order_status": record.status, "confirm_status": extra["confirm_status"],
            "refund_status": extra["refund_status"], "after_sales_status": extra["after_sales_status"],
            "group_status": extra["group_status"], "risk_control_status": extra["risk_control_status"],
            "trade_type": 0, "created_time": beijing_text(record.created),
            "confirm_time": beijing_text(record.paid), "pay_time": beijing_text(record.paid),
            "shipping_time": beijing_text(record.shipped), "receive_time": beijing_text(record.finished),
            "updated_at": beijing_text(record.modified),
            "last_ship_time": beijing_text(record.paid + timedelta(hours=48)) if record.paid else None,
            **self._receiver_fields(record),
            "country": "中国", "country_id": 0,
            "province": receiver["province"], "province_id": region_id(receiver["province"]),
            "city": receiver["city"], "city_id": region_id(receiver["city"]),
            "town": receiver["district"], "town_id": region_id(receiver["district"]),
            "buyer_memo": record.remark, "remark": record.seller_memo,
            "remark_tag": record.seller_flag or None, "remark_tag_name": None,
            "goods_amount": float(record.goods_total), "discount_amount": float(record.discount),
            "platform_discount": 0.0, "seller_discount": float(record.discount), "capital_free_discount": 0.0,
            "postage": float(record.post_fee), "pay_amount": float(record.payment), "order_change_amount": 0.0,
            "logistics_id": self._company_id(record), "tracking_number": record.lines[0].waybill or "",
            "extra_delivery_list": [],
            "item_list": [self._render_line(line) for line in record.lines],
        }

    def _receiver_fields(self, record):
        """Ciphertext only while awaiting shipment and not risk-held; the *_mask twins always."""
        receiver = record.receiver
        full_address = receiver["province"] + receiver["city"] + receiver["district"] + receiver["address"]
        plain = {"receiver_name": receiver["name"], "receiver_phone": receiver["mobile"],
                 "receiver_address": receiver["address"], "address": full_address}
        served = record.status == 1 and record.extra["risk_control_status"] != 1
        fields = {}
        for name, value in plain.items():
            if not served:
                fields[name] = ""
            elif not record.encrypted:
                fields[name] = value
            else:
                fields[name] = self.seal(record, name, value, self._phone_cipher if name == "receiver_phone"
                                         else self._text_cipher)
        fields.update(receiver_name_mask=mask_name(receiver["name"]), receiver_phone_mask=mask_mobile(
            receiver["mobile"]), receiver_address_mask=mask_address(receiver["address"]),
            address_mask=mask_address(full_address))
        return fields

    @staticmethod
    def _text_cipher(token):
        return f"~{token}~{token[-8:].translate(str.maketrans('+/=', 'xyz'))}~1~~"

    @staticmethod
    def _phone_cipher(token):
        return f"${token[-8:].translate(str.maketrans('+/=', 'xyz'))}${token}$1$$"

    @staticmethod
    def _render_line(line):
        return {"goods_id": int(line.item_id), "goods_name": line.title, "sku_id": int(line.sku_id),
                "goods_spec": line.spec, "goods_count": line.quantity, "goods_price": float(line.price),
                "outer_id": line.merchant_code, "outer_goods_id": line.merchant_code.rsplit("-", 1)[0],
                "goods_img": f"https://img.pddpic.com/goods/{line.item_id}.jpeg"}

    @staticmethod
    def _company_id(record):
        code = record.lines[0].carrier_code
        return next((cid for cid, known, _ in COMPANIES if known == code), 0)

    # ----- order APIs

    def _increment(self, params):
        start = time_param(params, "start_updated_at", from_epoch)
        end = time_param(params, "end_updated_at", from_epoch)
        check_window(start, end, timedelta(minutes=self.options["max_window_minutes"]))
        order_status = int_param(params, "order_status", low=1, high=5)
        refund_status = int_param(params, "refund_status", low=1, high=5)
        page = int_param(params, "page", 1, low=1)
        page_size = int_param(params, "page_size", 100, low=1, high=100)
        found = self.records_between(start, end, keep=lambda r: (
            order_status in (5, r.status) and refund_status in (5, r.extra["refund_status"])))
        chunk, has_next, total = page_of(found, page, page_size)
        body = {"total_count": total, "order_sn_list": [self.native(r) for r in chunk]}
        if str(params.get("use_has_next")).lower() == "true":
            body["has_next"] = has_next
        return body

    def _information(self, params):
        return {"order_info": self.native(self._order(params, "order_sn"))}

    def _order(self, params, name):
        order_sn = need(params, name)
        if order_sn not in self.records:
            raise self.error("business", f"订单不存在: {order_sn}")
        return self.records[order_sn]

    def _decrypt_batch(self, params):
        items = json_param(params, "data_list")
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            raise self.error("param", "data_list 须为1到100条")
        if not self.take_decrypt_quota(len(items)):
            raise self.error("business", "解密额度不足")
        return {"data_decrypt_list": [self._decrypt_item(item) for item in items]}

    def _decrypt_item(self, item):
        cipher, order_sn = item.get("encrypted_data", ""), item.get("data_tag")
        plain = self.reveal(cipher, order_sn, "pdd.open.decrypt.batch")
        answer = {"data_tag": order_sn, "encrypted_data": cipher, "decrypted_data": plain,
                  "data_type": 1 if cipher.startswith("$") else 2, "virtual_number_type": None,
                  "error_code": 0 if plain is not None else 2000, "error_msg": "" if plain is not None else "解密失败"}
        record = self.records.get(str(order_sn))
        if plain and cipher.startswith("$") and record and record.virtual_mobile:
            answer.update(decrypted_data=virtual_number(plain), virtual_number_type=1)
        return answer

    def _online_send(self, params):
        record = self._order(params, "order_sn")
        logistics_id = int_param(params, "logistics_id")
        waybill = need(params, "tracking_number")
        company = next((code for cid, code, _ in COMPANIES if cid == logistics_id), None)
        if company is None:
            raise self.error("business", f"logistics_id不存在: {logistics_id}")
        refusal = self.ship_refusal(record)
        if record.extra["risk_control_status"] == 1:
            refusal = "订单风控审核中，暂不能发货"
        if refusal:
            raise self.error("business", refusal)
        self.record_shipment(record, waybill, company, logistics_id=logistics_id)
        self.set_status(record, 2)
        self.touch(record)
        self._auto_push(record, "shipped")
        return {"is_success": True}

    def _companies(self, params):
        return {"logistics_companies": [{"id": cid, "code": code, "logistics_company": name, "available": 1}
                                        for cid, code, name in COMPANIES]}

    # ----- tokens and message permission

    def _token_create(self, params):
        if need(params, "code") != self.auth_code:
            raise self.error("business", "code无效或已过期")
        self.tokens.issue()
        return self._token_body()

    def _token_refresh(self, params):
        if not self.tokens.refresh(need(params, "refresh_token")):
            raise self.error("business", "refresh_token无效或已过期")
        return self._token_body()

    def _token_body(self):
        tokens = self.tokens
        return {"access_token": tokens.access_token, "expires_in": tokens.seconds_left(),
                "expires_at": epoch_seconds(tokens.expires_at), "refresh_token": tokens.refresh_token,
                "refresh_token_expires_in": tokens.refresh_seconds_left(),
                "refresh_token_expires_at": epoch_seconds(tokens.refresh_expires_at),
                "owner_id": str(self.options["mall_id"]), "owner_name": self.options["owner_name"],
                "scope": ["pdd.order.number.list.increment.get", "pdd.order.information.get",
                          "pdd.logistics.online.send"]}

    def _pmc_permit(self, params):
        self.messages_permitted = True
        return {"is_success": True}

    # ----- message websocket

    def build_push(self, record, event, secret):
        topic = self.native_event(event)
        content = {"mall_id": self.options["mall_id"], "tid": record.id}
        if "refund" in topic:
            content.update(refund_fee=float(record.payment), bill_type=1, modified=epoch_seconds(self.now()),
                           refund_id=int(record.id.split("-")[1]) % 10**10, operation=topic.rsplit("_", 1)[1])
        return {"type": topic, "mallID": self.options["mall_id"],
                "content": json.dumps(content, ensure_ascii=False, separators=(",", ":"))}

    def websocket_refusal(self, request):
        parts = request.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "message":
            return Reply(404, {"error_msg": "Not Found"})
        _, client_id, timestamp_ms, digest = parts
        expected = websocket_digest(client_id, timestamp_ms, self.app_secret)
        # UNCONFIRMED: what the real server answers to a bad handshake; a 401 with PDD's error shape here.
        if client_id != self.app_key or not same_text(expected, urllib.parse.unquote(digest)):
            return Reply(401, {"error_response": {"error_code": 10014, "error_msg": "签名校验失败"}})
        if not timestamp_ms.isdigit() or not self.timestamp_ok(from_epoch(timestamp_ms, millis=True)):
            return Reply(401, {"error_response": {"error_code": 10012, "error_msg": "timestamp已过期"}})
        return None

    def websocket_session(self, websocket, request):
        """Send every unacknowledged message once per connection, heartbeats between; read Acks."""
        threading.Thread(target=self._read_acks, args=(websocket,), daemon=True).start()
        sent, next_beat = set(), time.monotonic()
        while not websocket.closed.is_set() and self._server:
            for message in self.queue.pending():
                if message["id"] not in sent:
                    sent.add(message["id"])
                    websocket.send_text(json.dumps({"commandType": "Common", "id": message["id"],
                                                    "sendTime": epoch_millis(self.now()), "message": {
                                                        k: v for k, v in message.items() if k != "id"}},
                                                   ensure_ascii=False))
            if time.monotonic() >= next_beat:
                websocket.send_text(json.dumps({"commandType": "HeartBeat", "time": epoch_millis(self.now())}))
                next_beat = time.monotonic() + self.options["heartbeat_seconds"]
            websocket.closed.wait(0.05)

    def _read_acks(self, websocket):
        while True:
            text = websocket.receive()
            if text is None:
                return
            try:
                frame = json.loads(text)
            except ValueError:
                continue
            if frame.get("commandType") == "Ack" and frame.get("id") is not None:
                self.queue.confirm([frame["id"]])
