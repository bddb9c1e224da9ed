"""Kuaishou shop Open Platform (快手小店) — reference §5 and §11.6.

Served: ``GET|POST /<method with . → />`` with form/query parameters (appkey, method, version,
param (business JSON string), access_token, timestamp in ms, signMethod MD5|HMAC_SHA256, sign):
/open/order/cursor/list, /open/order/detail, /open/order/decrypt/batch,
/open/seller/order/goods/deliver; OAuth ``GET /oauth2/access_token`` and ``POST /oauth2/refresh_token``.

The API signature uses ``signSecret`` (option ``sign_secret``, default: the app secret); pushes are
encrypted with the console's message key (option ``message_key``, Base64 AES key, default derived
from the app secret). Push: ``POST webhook_url`` whose body is the Base64 AES/CBC/PKCS5 ciphertext
(IV = 16 zero bytes) of a JSON array of events; there is no signature header — authenticity is
successful decryption, so a tampered push is encrypted with a wrong key. The receiver must answer
``{"result":1}`` within 3 s, else the push is retried after 5, 10, 20, 30 and 60 minutes.
``push_test()`` sends the console's connectivity probe (``test: true``).
Kuaishou orders carry one product each; amounts are fen, times epoch milliseconds.
"""

import base64
import hashlib
import json
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BadParam, aes_cbc_encrypt, b64_hmac_sha256, check_window, compact_json, decoded_cursor, encoded_cursor,
    epoch_millis, fen, from_epoch, int_param, json_param, mask_address, mask_mobile, mask_name, md5_hex, need,
    same_text, time_param,
)

# Numeric gateway codes are UNCONFIRMED (option error_codes); messages follow the reference.
ERROR_CODES = {
    "param": (21, "参数错误"), "method": (22, "API不存在"), "timestamp": (25, "timestamp无效"),
    "app_key": (26, "appkey无效"), "sign": (27, "签名验证失败"), "token_expired": (28, "鉴权失败/TOKEN过期"),
    "token_invalid": (28, "鉴权失败/TOKEN过期"), "rate_limit": (29, "Exceed qps limit, please retry later"),
    "business": (2001, "业务处理失败"),
}
# the reference's official business codes travel as subCode (UNCONFIRMED whether they are also ``result``)
WINDOW_SUB_CODES = {"reversed": 300003, "window": 300004, "too_old": 300005}
# expressCode, name (official "物流公司编号" table)
COMPANIES = [
    (1, "百世快递"), (2, "EMS"), (3, "申通快递"), (4, "顺丰速运"), (5, "天天快递"), (6, "圆通速递"),
    (7, "韵达快运"), (8, "邮政快递包裹"), (9, "中通快递"), (10, "宅急送"), (11, "韵达快递"), (14, "京东快递"),
    (17, "德邦"), (53, "德邦快递"), (109, "极兔速递"), (113, "菜鸟速递"),
]
EVENTS = {
    "created": "kwaishop_order_addOrder", "paid": "kwaishop_order_paySuccess",
    "shipped": "kwaishop_order_delivering", "delivered": "kwaishop_order_deliverySuccess",
    "completed": "kwaishop_order_orderSuccess", "cancel": "kwaishop_order_orderFail",
    "updated": "kwaishop_order_addressUpdateAudit", "memo": "kwaishop_order_addNote",
    "amount": "kwaishop_order_totalFeeChange",
    "refund": "kwaishop_aftersales_addRefund",  # UNCONFIRMED topic name
}
REFUND_OPEN = 10  # UNCONFIRMED line refundStatus values: 0 none, 10 requested, 20 refunded


def kuaishou_signature(params, sign_secret):
    """Reference §5.4: sorted raw ``k=v`` joined by &, then ``&signSecret=…``."""
    text = "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key != "sign")
    text += "&signSecret=" + sign_secret
    if params.get("signMethod") == "HMAC_SHA256":
        return b64_hmac_sha256(sign_secret, text)
    return md5_hex(text)


def aes_key(secret):
    """The console key is Base64; anything else (a tampered key) is hashed into a 16-byte key."""
    try:
        key = base64.b64decode(secret, validate=True)
    except ValueError:
        key = b""
    return key if len(key) in (16, 24, 32) else hashlib.md5(secret.encode()).digest()


def encrypt_message(plaintext, message_key):
    return base64.b64encode(aes_cbc_encrypt(aes_key(message_key), bytes(16), plaintext)).decode()


class KuaishouSimulator(PlatformSimulator):
    code = "kuaishou"
    DEFAULT_CREDENTIALS = {"app_key": "ks_demo_appkey", "app_secret": "ks_demo_app_secret",
                           "access_token": "ks_demo_token"}
    TOKEN_LIFETIME = timedelta(hours=48)
    REFRESH_LIFETIME = timedelta(days=180)
    MAX_LINES = 1
    STATUS_KINDS = {10: "unpaid", 30: "paid", 40: "shipped", 50: "delivered", 70: "completed", 80: "cancelled"}
    STATUS_ALIASES = {
        "unpaid": {"status": 10}, "paid": {"status": 30}, "shipped": {"status": 40}, "delivered": {"status": 50},
        "completed": {"status": 70}, "cancelled": {"status": 80},
        "refund_requested": {"refund_status": REFUND_OPEN}, "refunded": {"status": 80, "refund_status": 20},
    }
    STATE_FIELDS = ("refund_status",)
    PUSH_EVENTS = EVENTS
    PUSH_SUCCESS = ("result", 1)
    PUSH_TIMEOUT = 3.0
    PUSH_RETRY_MINUTES = (5, 10, 20, 30, 60)
    OPTIONS = {
        "sign_secret": None,  # default: the app secret
        "message_key": None,  # default: Base64 of MD5(app secret)
        "max_window_days": 7, "history_days": 90,
        "end_cursor": "nomore",  # UNCONFIRMED sentinel (single test fixture)
        "error_codes": ERROR_CODES,
        "refuse_ship_during_refund": True,
        "seller_id": 12342323, "seller_nick": "好物优选快手小店",
    }
    API = {
        "open.order.cursor.list": ("_cursor_list", True), "open.order.detail": ("_detail", True),
        "open.order.decrypt.batch": ("_decrypt_batch", True),
        "open.seller.order.goods.deliver": ("_goods_deliver", True),
    }

    @property
    def sign_secret(self):
        return self.options["sign_secret"] or self.app_secret

    @property
    def message_key(self):
        return self.options["message_key"] or base64.b64encode(hashlib.md5(self.app_secret.encode()).digest()).decode()

    def push_secret(self):
        return self.message_key

    # ----- gateway

    def api_name(self, request):
        return request.path.strip("/").replace("/", ".")

    def handle(self, request):
        if request.path.startswith("/oauth2/"):
            return self._oauth(request)
        params = {**request.query, **request.form}  # form or query only, as the gateway accepts
        self._check_envelope(params, self.api_name(request))
        handler, needs_token = self.API[params["method"]]
        if needs_token:
            self._check_token(params.get("access_token"))
        try:
            data = getattr(self, handler)(json_param(params, "param", default={}))
        except BadParam as problem:
            raise self.error("business", problem.message, WINDOW_SUB_CODES.get(problem.kind)) from None
        return Reply(200, {"result": 1, "msg": "成功", "code": "", "error_msg": "", "data": data})

    def _check_envelope(self, params, path_method):
        for name in ("appkey", "method", "version", "timestamp", "signMethod", "sign"):
            if not params.get(name):
                raise self.error("param", f"缺少参数: {name}")
        if params["appkey"] != self.app_key:
            raise self.error("app_key", "appkey无效")
        if params["method"] != path_method or params["method"] not in self.API:
            raise self.error("method", f"API不存在: {params['method']}")
        try:
            moment = from_epoch(params["timestamp"], millis=True)
        except (ValueError, OverflowError):
            raise self.error("timestamp", "timestamp须为毫秒时间戳") from None
        if not self.timestamp_ok(moment):
            raise self.error("timestamp", "timestamp与服务器时间相差过大")
        if params["signMethod"] not in ("MD5", "HMAC_SHA256"):
            raise self.error("param", "signMethod须为MD5或HMAC_SHA256")
        if not same_text(kuaishou_signature(params, self.sign_secret), params["sign"]):
            raise self.error("sign", "签名验证失败")

    def _check_token(self, token):
        state = self.token_state(token)
        if state != "valid":
            name = "token_expired" if state == "expired" else "token_invalid"
            raise self.error(name, "access_token已过期" if state == "expired" else "access_token无效")

    def error(self, name, detail, sub_code=None):
        """The reference shows both ``error_msg`` and the captured ``errorMsg``/``subCode`` spellings."""
        code, message = self.options["error_codes"][name]
        return ApiError(Reply(200, {
            "result": code, "msg": message, "code": str(code), "error_msg": detail, "errorMsg": detail,
            "subCode": str(sub_code or code), "subMsg": detail, "success": False,
        }))

    def fault_reply(self, kind):
        if kind == "rate_limit":
            return self.error("rate_limit", "Exceed qps limit, please retry later").reply
        return self.error("token_expired", "access_token已过期").reply

    # ----- orders

    def new_order_id(self, rng):
        return f"2{rng.randint(10**14, 10**15 - 1)}"

    def refund_pending(self, record):
        return record.extra.get("refund_status") == REFUND_OPEN

    def render(self, record):
        """The cursor-list shape; nested block names are partly UNCONFIRMED (reference §5.6a)."""
        line = record.lines[0]
        return {
            "orderBaseInfo": {
                "oid": int(record.id), "status": record.status, "createTime": epoch_millis(record.created),
                "payTime": epoch_millis(record.paid) or 0, "updateTime": epoch_millis(record.modified),
                "sendTime": epoch_millis(record.shipped) or 0, "buyerNick": mask_name(record.buyer_nick),
                "buyerOpenId": self._open_id(record), "sellerId": self.options["seller_id"],
                "sellerNick": self.options["seller_nick"], "totalFee": fen(record.payment),
                "expressFee": fen(record.post_fee), "discountFee": fen(record.discount), "remark": record.remark,
            },
            "orderItemInfo": self._product(record, line),
            "orderAddress": self._address(record),
            "orderRefundList": self._refunds(record),
            "orderLogisticsInfo": [self._logistics(line)] if line.waybill else [],
            "orderNote": {"orderNoteInfo": self._notes(record)},
        }

    def _open_id(self, record):
        return "f" + self.ciphers.alnum("open_id", record.buyer_id, 31)

    def _product(self, record, line):
        return {"oid": int(record.id), "itemId": int(line.item_id), "relItemId": 0, "skuId": int(line.sku_id),
                "relSkuId": 0, "skuNick": line.merchant_code, "skuDesc": line.spec, "itemTitle": line.title,
                "num": line.quantity, "price": fen(line.price), "originalPrice": fen(line.price),
                "discountFee": fen(record.discount), "refundStatus": record.extra.get("refund_status", 0)}

    def _address(self, record):
        receiver = record.receiver
        sealed = {"encryptedConsignee": receiver["name"], "encryptedMobile": receiver["mobile"],
                  "encryptedAddress": receiver["address"]}
        if record.encrypted:  # ciphertext grammar UNCONFIRMED: opaque Base64 here
            sealed = {name: self.seal(record, name, value, lambda token: token) for name, value in sealed.items()}
        return {**sealed, "desensitiseConsignee": mask_name(receiver["name"]),
                "desensitiseMobile": mask_mobile(receiver["mobile"]),
                "desensitiseAddress": mask_address(receiver["address"]),
                "province": receiver["province"], "city": receiver["city"], "district": receiver["district"],
                "town": receiver.get("town", ""), "provinceCode": int(md5_hex(receiver["province"])[:5], 16),
                "cityCode": int(md5_hex(receiver["city"])[:5], 16)}

    def _refunds(self, record):
        refund_status = record.extra.get("refund_status")
        if not refund_status:
            return []
        return [{"refundId": int(record.id) + 7, "refundStatus": refund_status, "refundFee": fen(record.payment)}]

    @staticmethod
    def _logistics(line):
        return {"expressNo": line.waybill, "expressCode": int(line.carrier_code)}

    def _notes(self, record):
        if not record.seller_memo:
            return []
        return [{"note": record.seller_memo, "createTime": epoch_millis(record.paid or record.created)}]

    def render_detail(self, record):
        line, address = record.lines[0], self._address(record)
        return {
            "oid": int(record.id), "status": record.status, "createTime": epoch_millis(record.created),
            "payTime": epoch_millis(record.paid) or 0, "updateTime": epoch_millis(record.modified),
            "sendTime": epoch_millis(record.shipped) or 0, "buyerNick": mask_name(record.buyer_nick),
            "buyerId": 0, "openId": self._open_id(record), "totalFee": fen(record.payment),
            "expressFee": fen(record.post_fee), "discountFee": fen(record.discount), "remark": record.remark,
            "sellerNoteList": [note["note"] for note in self._notes(record)],
            "consignee": address["encryptedConsignee"], "mobile": address["encryptedMobile"],
            "address": address["encryptedAddress"], "orderProductInfoList": [self._product(record, line)],
            "logisticsInfo": self._logistics(line) if line.waybill else {},
        }

    # ----- order APIs

    def _cursor_list(self, params):
        start = time_param(params, "beginTime", lambda value: from_epoch(value, millis=True))
        end = time_param(params, "endTime", lambda value: from_epoch(value, millis=True))
        check_window(start, end, timedelta(days=self.options["max_window_days"]),
                     self.now() - timedelta(days=self.options["history_days"]))
        page_size = int_param(params, "pageSize", 20, low=1, high=100)
        view_status = int_param(params, "orderViewStatus", 1)
        stamp = "created" if str(params.get("queryType", "1")) == "1" else "modified"  # mapping UNCONFIRMED
        found = self.records_between(start, end, stamp=stamp, newest_first=str(params.get("sort", "1")) == "1",
                                     keep=lambda r: view_status in (1, r.status))
        cursor = str(params.get("cursor") or "")
        if cursor == self.options["end_cursor"]:
            return {"cursor": cursor, "orderList": []}
        try:
            offset = decoded_cursor(cursor) if cursor else 0
        except ValueError:
            raise BadParam("invalid", "cursor", f"cursor无效: {cursor}") from None
        chunk = found[offset:offset + page_size]
        more = offset + page_size < len(found)
        return {"cursor": encoded_cursor(offset + page_size) if more else self.options["end_cursor"],
                "orderList": [self.native(r) for r in chunk]}

    def _detail(self, params):
        return self.render_detail(self.order_or_bad_param(need(params, "oid"), "oid"))

    def _decrypt_batch(self, params):
        """Response field names UNCONFIRMED."""
        items = params.get("batchDecryptList")
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            raise BadParam("invalid", "batchDecryptList", "batchDecryptList须为1到100条")
        if not self.take_decrypt_quota(len(items)):
            raise BadParam("invalid", "batchDecryptList", "解密额度不足")
        results = []
        for item in items:
            plain = self.reveal(item.get("encryptedData", ""), item.get("bizId"), "open.order.decrypt.batch")
            results.append({"bizId": item.get("bizId"), "encryptedData": item.get("encryptedData"),
                            "decryptedData": plain or "", "errorCode": 0 if plain is not None else 1,
                            "errorMsg": "" if plain is not None else "解密失败"})
        return {"decryptResult": results}

    def _goods_deliver(self, params):
        record = self.order_or_bad_param(need(params, "orderId"), "orderId")
        waybill = need(params, "expressNo")
        express_code = int_param(params, "expressCode")
        if express_code not in {code for code, _ in COMPANIES}:
            raise BadParam("invalid", "expressCode", f"expressCode不存在: {express_code}")
        refusal = self.ship_refusal(record)
        if refusal:
            raise BadParam("invalid", "orderId", refusal)
        self.record_shipment(record, waybill, str(express_code))
        self.set_status(record, 40)
        self.touch(record)
        self._auto_push(record, "shipped")
        return {}

    # ----- OAuth

    def _oauth(self, request):
        """``result:1`` token JSON as in the reference; the failure shape is UNCONFIRMED."""
        params = request.params
        if params.get("app_id") != self.app_key or params.get("app_secret") != self.app_secret:
            return Reply(200, {"result": 100, "error": "invalid_client", "error_msg": "app_id或app_secret错误"})
        if request.path == "/oauth2/access_token":
            ok = params.get("grant_type") == "code" and params.get("code") == self.auth_code
            if ok:
                self.tokens.issue()
        else:
            ok = request.method == "POST" and params.get("grant_type") == "refresh_token" \
                and self.tokens.refresh(params.get("refresh_token"))
        if not ok:
            return Reply(200, {"result": 101, "error": "invalid_grant", "error_msg": "code或refresh_token无效"})
        return Reply(200, {"result": 1, "access_token": self.tokens.access_token,
                           "expires_in": self.tokens.seconds_left(), "refresh_token": self.tokens.refresh_token,
                           "refresh_token_expires_in": self.tokens.refresh_seconds_left(),
                           "open_id": self.ciphers.alnum("seller", str(self.options["seller_id"]), 32),
                           "scopes": ["merchant_order", "merchant_logistics"]})

    # ----- push

    def build_push(self, record, event, secret):
        return self._encrypted_push(self._event(record, self.native_event(event)), secret)

    def _event(self, record, topic, test=False):
        now = epoch_millis(self.now())
        info = {"oid": int(record.id), "sellerId": self.options["seller_id"], "status": record.status,
                "updateTime": epoch_millis(record.modified)}  # info keys per event UNCONFIRMED
        return {"eventId": f"{len(self.pushes) + 1}_{record.id[-4:]}_{now % 10**6}",
                "msgId": md5_hex(f"{record.id}:{topic}:{now}:{len(self.pushes)}")[:20], "bizId": int(record.id),
                "userId": self.options["seller_id"], "openId": self._open_id(record), "appKey": self.app_key,
                "event": topic, "info": compact_json(info), "status": 0, "createTime": now, "updateTime": now,
                "test": test}

    def _encrypted_push(self, event, key):
        body = encrypt_message(json.dumps([event], ensure_ascii=False, separators=(",", ":")), key)
        return body.encode("ascii"), {"Content-Type": "text/plain;charset=UTF-8"}

    def push_test(self):
        """The console's connectivity probe: an event with ``test: true``."""
        record = next(iter(self.records.values()), None)
        if record is None:
            raise RuntimeError("add an order first: the probe describes one")
        body, headers = self._encrypted_push(self._event(record, EVENTS["paid"], test=True), self.message_key)
        return self._deliver(body, headers, attempt=1)
