"""Douyin Shop Open Platform (抖店) — reference §3 and §11.4.

Served: ``POST /<method with . → />`` with the envelope in the query string (app_key, method,
access_token, timestamp, v, sign, sign_method) and the business parameters as the raw JSON body
(``param_json``): /order/searchList, /order/orderDetail, /order/batchDecrypt, /order/logisticsAdd,
/order/logisticsAddMultiPack, /order/logisticsCompanyList, /token/create, /token/refresh.

Every reply uses the new error scheme ``{code, msg, sub_code, sub_msg, log_id, data}`` (10000 =
success), whether or not ``x-open-no-old-err-code: 1`` is sent: the older err_no/message style is
UNCONFIRMED and not reproduced.

Push: ``POST webhook_url`` with a JSON array of ``{tag, msg_id, data}``, headers ``app-id`` and
``event-sign`` = lower-hex MD5(app_key + body + app_secret); the receiver must answer
``{"code":0,"msg":"success"}``, otherwise the push is retried.
Amounts are integer fen, times unix seconds, ids strings.
"""

import json
from datetime import timedelta

from .base import ApiError, PlatformSimulator, Reply
from .wire import (
    BadParam, check_window, compact_json, epoch_seconds, fen, from_epoch, hmac_hex, int_param, json_param, mask_address,
    mask_mobile, mask_name, md5_hex, need, page_of, parse_beijing_text, same_text, time_param, virtual_number,
)

MESSAGES = {
    10000: "success", 20000: "服务不可用", 30001: "权限不足", 30002: "IP不在白名单", 40001: "缺少必选参数",
    40002: "缺少必选参数", 40003: "非法的参数", 40004: "非法的参数", 50001: "token生成失败",
    50002: "业务处理失败", 60000: "流控", 70000: "API已下线", 90000: "未知错误",
}
STATUS_TEXT = {1: "待确认/待支付", 105: "已支付", 2: "备货中", 101: "部分发货", 3: "已发货", 4: "已取消", 5: "已完成"}
# id, code, name — only ``shunfeng`` is attested for Douyin; the rest are UNCONFIRMED kuaidi100-style codes
COMPANIES = [
    (12, "shunfeng", "顺丰速运"), (15, "zhongtong", "中通快递"), (7, "yuantong", "圆通速递"),
    (8, "shentong", "申通快递"), (9, "yunda", "韵达快递"), (6, "ems", "EMS"),
    (20, "youzhengguonei", "邮政快递包裹"), (1386, "jtexpress", "极兔速递"), (18, "jd", "京东物流"),
]
TAGS = {"created": "100", "paid": "101", "shipped": "102", "completed": "103", "updated": "105",
        "cancel": "106", "refund": "200", "refund_agreed": "201", "refund_success": "206"}


def douyin_signature(secret, app_key, method, param_json, timestamp, v, sign_method="md5"):
    """Reference §3.4: only these five fields, always in this order, lower hex."""
    text = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v{v}{secret}"
    return md5_hex(text) if sign_method == "md5" else hmac_hex(secret, text, "sha256")


def sorted_param_json(business):
    return json.dumps(business, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_douyin_time(value):
    text = str(value)
    return from_epoch(text) if text.isdigit() else parse_beijing_text(text)


def region(name):
    return {"id": str(int(md5_hex(name)[:6], 16)), "name": name}  # synthetic ids


def spec_list(spec):
    pairs = [part.split(":", 1) for part in spec.split(";") if ":" in part]
    return [{"name": name, "value": value} for name, value in pairs]


class DouyinSimulator(PlatformSimulator):
    code = "douyin"
    DEFAULT_CREDENTIALS = {"app_key": "7300000000000000001", "app_secret": "dd_demo_secret"}
    TOKEN_LIFETIME = timedelta(days=7)  # UNCONFIRMED (≈7 days)
    REFRESH_LIFETIME = timedelta(days=14)  # UNCONFIRMED (≈14 days)
    STATUS_KINDS = {1: "unpaid", 105: "on_hold", 2: "paid", 101: "partially_shipped", 3: "shipped",
                    4: "cancelled", 5: "completed"}
    STATUS_ALIASES = {
        "unpaid": {"status": 1}, "on_hold": {"status": 105}, "paid": {"status": 2}, "shipped": {"status": 3},
        "cancelled": {"status": 4}, "completed": {"status": 5}, "delivered": {"status": 5},
        "refund_requested": {"after_sale_status": 6, "refund_status": 1},
        "refunded": {"after_sale_status": 12, "refund_status": 3},
    }
    STATE_FIELDS = ("after_sale_status", "refund_status")
    PUSH_EVENTS = TAGS
    PUSH_SUCCESS = ("code", 0)
    PUSH_RETRY_MINUTES = (1, 5, 10, 30, 60)  # UNCONFIRMED retry schedule
    OPTIONS = {
        "max_window_minutes": 24 * 60,  # UNCONFIRMED cap on update/create time spans of order.searchList
        # UNCONFIRMED whether the gateway signs the raw body or a re-serialised one: "raw_body"
        # (strict, the body must be exactly the signed string) or "resorted" (keys re-sorted first).
        "sign_over": "raw_body",
        "refuse_ship_during_refund": True,
        "shop_id": 1234567, "shop_name": "好物优选抖音小店",
    }
    API = {  # method → (handler, needs access_token)
        "order.searchList": ("_search_list", True), "order.orderDetail": ("_order_detail", True),
        "order.batchDecrypt": ("_batch_decrypt", True), "order.logisticsAdd": ("_logistics_add", True),
        "order.logisticsAddMultiPack": ("_multi_pack", True),
        "order.logisticsCompanyList": ("_company_list", True),
        "token.create": ("_token_create", False), "token.refresh": ("_token_refresh", False),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._multi_pack_answers = {}

    # ----- gateway

    def api_name(self, request):
        return request.path.strip("/").replace("/", ".")

    def handle(self, request):
        query, path_method = request.query, self.api_name(request)
        self._check_envelope(query, path_method)
        param_json = self._param_json(request)
        self._check_signature(query, param_json)
        if path_method not in self.API:
            raise self.error(70000, "isv.api-not-exist", f"API不存在: {path_method}")  # code UNCONFIRMED
        handler, needs_token = self.API[path_method]
        if needs_token:
            self._check_token(query.get("access_token"))
        try:
            business = json.loads(param_json)
        except ValueError:
            business = None
        if not isinstance(business, dict):
            raise self.error(40003, "isv.parameter-format-invalid", "param_json 不是JSON对象")
        try:
            data = getattr(self, handler)(business)
        except BadParam as problem:
            code = 40002 if problem.kind == "missing" else 40004
            raise self.error(code, "isv.missing-parameter" if code == 40002 else "isv.parameter-invalid",
                             problem.message) from None
        return Reply(200, {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
                           "log_id": self._log_id(), "data": data})

    def _check_envelope(self, query, path_method):
        if not query.get("app_key"):
            raise self.error(40001, "isv.app-key-missing", "缺少app_key")
        if query["app_key"] != self.app_key:
            raise self.error(40003, "isv.app-id-invalid", "app_key无效")
        if query.get("method") != path_method:
            raise self.error(40003, "isv.parameter-format-invalid", "method 与请求路径不一致")
        if not query.get("sign"):
            raise self.error(40001, "isv.signature-missing", "缺少签名")
        try:
            moment = parse_douyin_time(need(query, "timestamp"))
        except (BadParam, ValueError, OverflowError):
            raise self.error(40003, "isv.timestamp-invalid", "timestamp格式错误") from None
        if not self.timestamp_ok(moment):
            raise self.error(40003, "isv.timestamp-invalid", "timestamp已过期")
        if query.get("v") != "2" or query.get("sign_method", "md5") not in ("md5", "hmac-sha256"):
            raise self.error(40003, "isv.parameter-format-invalid", "v 须为2, sign_method 须为md5或hmac-sha256")

    def _param_json(self, request):
        raw = request.text if request.body else request.query.get("param_json", "{}")
        if self.options["sign_over"] == "resorted":
            try:
                return sorted_param_json(json.loads(raw))
            except ValueError:
                return raw
        return raw

    def _check_signature(self, query, param_json):
        expected = douyin_signature(self.app_secret, query["app_key"], query["method"], param_json,
                                    query["timestamp"], query["v"], query.get("sign_method", "md5"))
        if not same_text(expected, query["sign"]):
            raise self.error(40003, "isv.signature-invalid", "签名校验失败")

    def _check_token(self, token):
        state = self.token_state(token)
        if state == "missing":
            raise self.error(40001, "isv.access-token-missing", "缺少access_token")
        if state == "expired":
            raise self.error(40003, "isv.access-token-expired", "access_token已过期")
        if state == "invalid":
            raise self.error(40003, "isv.access-token-no-existed", "access_token不存在")

    def error(self, code, sub_code, sub_msg):
        return ApiError(Reply(200, {"code": code, "msg": MESSAGES[code], "sub_code": sub_code, "sub_msg": sub_msg,
                                    "log_id": self._log_id(), "data": None}))

    def _log_id(self):
        return self.now().strftime("%Y%m%d%H%M%S") + f"{len(self.requests):018d}"

    def fault_reply(self, kind):
        if kind == "rate_limit":
            return self.error(60000, "isv.api-rate-limit", "接口调用频率超过限制").reply  # sub_code UNCONFIRMED
        return self.error(40003, "isv.access-token-expired", "access_token已过期").reply

    # ----- orders

    def new_order_id(self, rng):
        return f"69{rng.randint(10**16, 10**17 - 1)}"

    def refund_pending(self, record):
        return record.extra.get("after_sale_status") in (6, 7, 8, 11)

    def render(self, record):
        return {
            "order_id": record.id, "shop_id": self.options["shop_id"], "order_status": record.status,
            "order_status_desc": STATUS_TEXT[record.status], "main_status": record.status,
            "main_status_desc": STATUS_TEXT[record.status],
            "create_time": epoch_seconds(record.created), "pay_time": epoch_seconds(record.paid) or 0,
            "update_time": epoch_seconds(record.modified), "finish_time": epoch_seconds(record.finished) or 0,
            "exp_ship_time": epoch_seconds(record.paid + timedelta(hours=48)) if record.paid else 0,
            "ship_time": epoch_seconds(record.shipped) or 0,
            "cancel_reason": "买家取消" if record.cancelled else "",
            "buyer_words": record.remark, "seller_words": record.seller_memo,
            "seller_remark_stars": record.seller_flag,
            "doudian_open_id": "1@#" + self.ciphers.alnum("openid", record.buyer_id, 40),
            **self._receiver_fields(record),
            "post_addr": self._address(record, masked=False),
            "mask_post_addr": self._address(record, masked=True),
            # order_amount before discounts (incl. freight) is UNCONFIRMED
            "order_amount": fen(record.goods_total + record.post_fee), "pay_amount": fen(record.payment),
            "post_amount": fen(record.post_fee), "promotion_amount": fen(record.discount),
            "promotion_shop_amount": fen(record.discount), "promotion_platform_amount": 0, "modify_amount": 0,
            "modify_post_amount": 0, "tax_amount": 0,
            "logistics_info": self._logistics_info(record),
            "sku_order_list": [self._render_line(record, line) for line in record.lines],
        }

    def _receiver_fields(self, record):
        receiver = record.receiver
        if record.encrypted:
            name = self.seal(record, "name", receiver["name"], lambda t: f"##{t[:16]}*{t[16:]}#1##")
            tel = self.seal(record, "tel", receiver["mobile"], lambda t: f"$${t[:16]}*{t[16:]}$1$$")
        else:
            name, tel = receiver["name"], receiver["mobile"]
        return {"encrypt_post_receiver": name, "encrypt_post_tel": tel, "post_receiver": "", "post_tel": "",
                "mask_post_receiver": mask_name(receiver["name"]), "mask_post_tel": mask_mobile(receiver["mobile"])}

    def _address(self, record, masked):
        receiver = record.receiver
        address = {"province": region(receiver["province"]), "city": region(receiver["city"]),
                   "town": region(receiver["district"]), "street": region(receiver.get("town") or "")}
        if masked:
            return {**address, "detail": mask_address(receiver["address"])}
        if not record.encrypted:
            return {**address, "detail": receiver["address"], "encrypt_detail": ""}
        cipher = self.seal(record, "detail", receiver["address"], lambda t: f"#{t}#")
        return {**address, "detail": "", "encrypt_detail": cipher}

    def _logistics_info(self, record):
        packs = {}
        for line in record.lines:
            if line.waybill:
                packs.setdefault((line.waybill, line.carrier_code), []).append(line)
        return [{"tracking_no": waybill, "company": code, "company_name": self._company(code)[2],
                 "ship_time": epoch_seconds(record.shipped),
                 "product_info": [{"sku_order_id": line.line_id, "product_name": line.title,
                                   "product_count": line.quantity} for line in lines]}
                for (waybill, code), lines in packs.items()]

    def _render_line(self, record, line):
        if record.status in (101, 3) and not line.shipped_quantity:
            status = 2
        else:
            status = 3 if record.status == 101 else record.status
        return {
            "order_id": line.line_id, "parent_order_id": record.id, "product_id": line.item_id,
            "product_name": line.title, "sku_id": line.sku_id, "spec": spec_list(line.spec),
            "code": line.merchant_code, "out_sku_id": "", "out_product_id": "", "item_num": line.quantity,
            "origin_amount": fen(line.price), "sum_amount": fen(line.amount), "order_amount": fen(line.amount),
            "pay_amount": fen(record.line_share(line)), "post_amount": 0, "order_status": status,
            "order_status_desc": STATUS_TEXT[status],
            "after_sale_info": {"after_sale_status": record.extra.get("after_sale_status", 0),
                                "refund_status": record.extra.get("refund_status", 0)},
        }

    @staticmethod
    def _company(code):
        return next((company for company in COMPANIES if company[1] == code), (0, code, ""))

    # ----- order APIs

    def _search_list(self, params):
        page = int_param(params, "page", 0, low=0)
        size = int_param(params, "size", low=1, high=100)
        stamp = "created" if "create_time_start" in params else "modified"
        prefix = "create_time" if stamp == "created" else "update_time"
        start = time_param(params, f"{prefix}_start", parse_douyin_time)
        end = time_param(params, f"{prefix}_end", parse_douyin_time, default=self.now())
        check_window(start, end, timedelta(minutes=self.options["max_window_minutes"]))
        wanted_status = params.get("order_status")
        found = self.records_between(start, end, stamp=stamp, keep=lambda r: wanted_status in (None, r.status))
        order_by = "created" if params.get("order_by", "create_time") == "create_time" else "modified"
        found.sort(key=lambda r: (getattr(r, order_by), r.id), reverse=not params.get("order_asc", False))
        chunk, _, total = page_of(found, page + 1, size)  # Douyin pages count from 0
        return {"shop_order_list": [self.native(r) for r in chunk], "page": page, "size": size, "total": total}

    def _order(self, order_id):
        if str(order_id) not in self.records:
            raise self.error(50002, "isv.business-failed", f"订单不存在: {order_id}")
        return self.records[str(order_id)]

    def _order_detail(self, params):
        return {"shop_order_detail": self.native(self._order(need(params, "shop_order_id")))}

    def _batch_decrypt(self, params):
        infos = json_param(params, "cipher_infos")
        if not isinstance(infos, list) or not 1 <= len(infos) <= 50:
            raise self.error(40004, "isv.parameter-invalid", "cipher_infos 须为1到50条")
        if not self.take_decrypt_quota(len(infos)):
            raise self.error(50002, "isv.business-failed", "解密额度不足")
        return {"decrypt_infos": [self._decrypt_one(info) for info in infos],
                "custom_err": {"err_code": 0, "err_msg": ""}}

    def _decrypt_one(self, info):
        cipher, order_id = info.get("cipher_text", ""), info.get("auth_id")
        plain = self.reveal(cipher, order_id, "order.batchDecrypt")
        answer = {"auth_id": order_id, "cipher_text": cipher, "decrypt_text": plain or "",
                  "err_no": 0 if plain is not None else 1,  # per-item failure code UNCONFIRMED
                  "err_msg": "" if plain is not None else "密文无效或与订单不匹配",
                  "is_virtual_tel": False, "phone_no_a": "", "phone_no_b": "",
                  "data_type": 3 if cipher.startswith("$$") else 1}
        record = self.records.get(str(order_id))
        if plain and cipher.startswith("$$") and record and record.virtual_mobile:
            number, extension = virtual_number(plain).split("-")
            answer.update(decrypt_text=f"{number}-{extension}", is_virtual_tel=True, phone_no_a=number,
                          phone_no_b=extension)
        return answer

    def _known_company(self, code):
        if code not in {known for _, known, _ in COMPANIES}:
            raise self.error(40004, "isv.parameter-invalid", f"物流公司编码不存在: {code}")
        return code

    def _ship_or_refuse(self, record, allow_partial=False):
        refusal = self.ship_refusal(record, allow_partial)
        if refusal:
            raise self.error(50002, "isv.business-failed", refusal)

    def _logistics_add(self, params):
        record = self._order(need(params, "order_id"))
        company = self._known_company(need(params, "company_code"))
        waybill = need(params, "logistics_code")
        self._ship_or_refuse(record)
        self.record_shipment(record, waybill, company)
        self._after_shipping(record)
        return {}

    def _multi_pack(self, params):
        request_id = need(params, "request_id")
        if request_id in self._multi_pack_answers:  # idempotent on request_id
            return self._multi_pack_answers[request_id]
        record = self._order(need(params, "order_id"))
        self._ship_or_refuse(record, allow_partial=True)
        packs = json_param(params, "pack_list")
        answer = {"pack_list": [self._ship_pack(record, pack, index) for index, pack in enumerate(packs)]}
        self._after_shipping(record)
        self._multi_pack_answers[request_id] = answer
        return answer

    def _ship_pack(self, record, pack, index):
        company = self._known_company(pack.get("company_code"))
        by_id = {line.line_id: line for line in record.lines}
        shipped = pack.get("shipped_order_info") or []
        lines = [by_id.get(str(item.get("shipped_order_id"))) for item in shipped]
        if not shipped or None in lines or any(line.shipped_quantity for line in lines):
            raise self.error(50002, "isv.business-failed", "shipped_order_id 不属于该订单或已发货")
        self.record_shipment(record, pack.get("logistics_code"), company, lines=lines)
        return {"pack_id": f"{record.id}{index + 1:02d}", "logistics_code": pack.get("logistics_code"),
                "shipped_order_info": shipped}

    def _after_shipping(self, record):
        self.set_status(record, 3 if self.all_lines_shipped(record) else 101)
        self.touch(record)
        self._auto_push(record, "shipped")

    def _company_list(self, params):
        return [{"id": cid, "name": name, "code": code} for cid, code, name in COMPANIES]

    # ----- tokens

    def _token_create(self, params):
        grant = params.get("grant_type")
        self_grant = grant == "authorization_self" and str(params.get("shop_id")) == str(self.options["shop_id"])
        code_grant = grant == "authorization_code" and params.get("code") == self.auth_code
        if not (self_grant or code_grant):
            raise self.error(50001, "isv.authorization-invalid", "授权无效")  # sub_code UNCONFIRMED
        self.tokens.issue()
        return self._token_data()

    def _token_refresh(self, params):
        if params.get("grant_type") != "refresh_token" or not self.tokens.refresh(params.get("refresh_token")):
            raise self.error(50001, "isv.refresh-token-invalid", "refresh_token无效或已过期")  # sub_code UNCONFIRMED
        return self._token_data()

    def _token_data(self):
        return {"access_token": self.tokens.access_token, "expires_in": self.tokens.seconds_left(),
                "refresh_token": self.tokens.refresh_token, "scope": "SCOPE",
                "shop_id": self.options["shop_id"], "shop_name": self.options["shop_name"],
                "authority_id": str(self.options["shop_id"]), "auth_subject_type": "MiniApp"}

    # ----- push

    def build_push(self, record, event, secret):
        tag = self.native_event(event)
        msg_id = f"73{int(md5_hex(f'{record.id}:{tag}:{len(self.pushes)}')[:15], 16) % 10**17:017d}"
        body = compact_json([{"tag": tag, "msg_id": msg_id, "data": compact_json(self._push_data(record, tag))}])
        headers = {"Content-Type": "application/json", "app-id": self.app_key,
                   "event-sign": md5_hex(self.app_key + body + secret)}
        return body.encode("utf-8"), headers

    def _push_data(self, record, tag):
        data = {"p_id": int(record.id), "s_ids": [int(line.line_id) for line in record.lines],
                "shop_id": self.options["shop_id"], "order_status": record.status, "order_type": 0, "biz": 2}
        extras = {
            "100": {"create_time": epoch_seconds(record.created)},
            "101": {"pay_amount": fen(record.payment), "pay_time": epoch_seconds(record.paid), "pay_type": 1},
            "102": {"express_company_id": self._company(record.lines[0].carrier_code)[0],
                    "logistics_code": record.lines[0].waybill or "", "update_time": epoch_seconds(record.modified),
                    "receiver_msg": {"name": self.native(record)["encrypt_post_receiver"],
                                     "tel": self.native(record)["encrypt_post_tel"], "addr": {}}},
            "103": {"complete_time": epoch_seconds(record.finished or self.now())},
            "106": {"cancel_reason": "买家取消", "cancel_time": epoch_seconds(record.cancelled or self.now())},
        }
        return {**data, **extras.get(tag, {"update_time": epoch_seconds(record.modified)})}
