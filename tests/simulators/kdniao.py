"""A local KDNiao (快递鸟) HTTP API: real DataSign, waybill formats, parcels that move over simulated time.

Facts: /work/shared/reference/kdniao-api.md (section numbers below refer to it). Standard library only and
independent of the add-ons: it plays the service, the client is written separately.

* Every path answers every RequestType (KDNiao routes by the form field ``RequestType``); the sandbox
  gateway path ``/kdniaosandbox/gateway/exterfaceInvoke.json`` only takes sandbox IDs (``test…``).
* Time is simulated: ``advance(hours)`` moves every waybill and pickup along its scenario and queues
  pushes (101/102 tracks, 103 pickups) to the merchant URL of each EBusinessID.
* Pushes leave on ``push_now()``; with ``auto_push`` (the demo launcher) a background thread also sends them
  and their retries. It is off by default so that a test decides when pushes arrive.
* ``inject()`` faults: ``timeout`` does the work and answers only after ``seconds`` (the caller gives up, the
  waybill exists), ``latency`` waits and then works, ``http500``/``http502``/``garbage`` do no work.
* ``/__sim__/…`` controls the simulator over HTTP for other processes (demo, browser tests): POST
  ``advance``, ``scenario``, ``fault``, ``push_now``, ``settings``; GET ``requests``, ``waybills``, ``pickups``,
  ``push_log``, ``now``.

Choices where the reference says UNCONFIRMED (each is an attribute or constant, so tests can change it):

* Error codes (§11, §12.4): bad DataSign ``102``, unknown EBusinessID / wrong environment ``104``, missing form
  field ``101``, RequestData not JSON / DataType not 2 / forbidden characters ``103``, unknown RequestType and
  business refusals ``105``. All HTTP 200 with ``Success: false``.
* Sandbox vs production (§12.25): the sandbox gateway path refuses production IDs; the production paths accept
  both unless ``strict_environments`` (off by default because the demo points a sandbox ID at this host).
* Throttling (§11): ``Success: false``, ``ResultCode "105"``, a Reason that says 频繁 / rate limit; per
  RequestType per second limits from §11 in ``rate_limits``.
* ``SubOrders`` (§3.5) is a comma-separated string; ``SubCount`` an int.
* A cancelled OrderCode ordered again (§3.7): ``105``, Success false.
* Push retries (§6.5): up to ``len(push_retry_delays)`` more attempts, real seconds apart, when the answer
  is not HTTP 200 + JSON ``Success: true``; pushes stop once a terminal state was accepted.
* Terminal states (§4.3): 3, 301, 302, 304, 311, 406, 407, 415.
* Time rules (§4.3): 412 after 18 h in a locker, 402 after 36 h out for delivery, 403 after 5 days without
  update; computed from the clock without adding a trace, and only over non-problem, non-terminal codes.
* Pickup (§7): 1801 answers ``Order.KDNOrderCode``; 103 pushes carry one item per status change
  (``State`` 104 picked up 2 h after booking, 301 collected 1 h later); no 203 after a merchant's 1802.
* 2002 with an unknown number: ``Success: true``, empty ``Shippers`` (``recognition_unknown_success``).
* 6004/6006: ``ShipperCode`` inside ``Data``.
* Forbidden characters (§1.5, 2025 list, ``/`` for pickups too) give ``103`` (``forbidden_characters_check``).
* Tracking of SF needs the last 4 phone digits (``phone_check_carriers``); a wrong value gives no traces.
"""

import base64
import hashlib
import html
import json
import math
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SANDBOX_GATEWAY_PATH = "/kdniaosandbox/gateway/exterfaceInvoke.json"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

# ResultCodes (§3.6) and our choices for the undocumented error answers (§11, §12.4).
OK = "100"
MISSING_PARAMETER = "101"
VALIDATION_FAILED = "102"
FORMAT_ERROR = "103"
ACCOUNT_PROBLEM = "104"
OTHER_ERROR = "105"
ALREADY_ORDERED = "106"

BAD_SIGN_CODE = VALIDATION_FAILED
BAD_SIGN_REASON = "数据签名验证失败 (DataSign mismatch)"
UNKNOWN_ACCOUNT_CODE = ACCOUNT_PROBLEM
UNKNOWN_ACCOUNT_REASON = "用户ID不存在或未开通接口 (unknown EBusinessID)"
WRONG_ENVIRONMENT_CODE = ACCOUNT_PROBLEM
SANDBOX_ONLY_REASON = "沙箱环境只接受测试用户ID (production EBusinessID sent to the sandbox)"
PRODUCTION_ONLY_REASON = "正式环境不接受测试用户ID (sandbox EBusinessID sent to production)"
UNKNOWN_REQUEST_TYPE_CODE = OTHER_ERROR
RATE_LIMIT_CODE = OTHER_ERROR
RATE_LIMIT_REASON = "请求过于频繁，超出接口调用频率限制 (rate limit exceeded)"
NO_TRACE_REASON = "暂无轨迹信息"

# Requests per second and RequestType (§11).
DEFAULT_RATE_LIMITS = {"1007": 20, "8001": 20, "8002": 20, "1002": 10, "2002": 10, "1801": 40}

# Characters KDNiao forbids in order-type values (§1.5, 2025 list); pickups forbid "/" too.
FORBIDDEN_CHARACTERS = "'\"#&+<>%\\"
FORBIDDEN_CHARACTERS_PICKUP = FORBIDDEN_CHARACTERS + "/"

CARRIERS = {
    "SF": "顺丰速运", "ZTO": "中通快递", "YTO": "圆通速递", "STO": "申通快递", "YD": "韵达速递",
    "JTSD": "极兔速递", "EMS": "EMS", "YZPY": "邮政快递包裹", "YZBK": "邮政国内标快", "JD": "京东快递",
    "JDKY": "京东快运", "DBL": "德邦快递", "DBLKY": "德邦快运", "HTKY": "百世快递", "BTWL": "百世快运",
    "ZJS": "宅急送", "UC": "优速快递", "KYSY": "跨越速运", "HHTT": "天天快递", "ANE": "安能快递",
    "ANEKY": "安能快运", "ZTOKY": "中通快运", "YDKY": "韵达快运", "SX": "顺心捷达", "FWX": "丰网速运",
    "SNWL": "苏宁物流", "DNWL": "丹鸟物流", "ZYE": "众邮快递", "CND": "承诺达", "SURE": "速尔快递",
}

# 1007 account fields per carrier (§3.4). UNCONFIRMED for the carriers that are not listed: nothing required.
# "SF" needs MonthCode only with PayType 3, handled in _account_problem.
DEFAULT_ACCOUNT_FIELDS = {
    "ZTO": ("CustomerName", "CustomerPwd"),
    "YD": ("CustomerName", "CustomerPwd"),
    "HTKY": ("CustomerName", "CustomerPwd"),
    "YTO": ("CustomerName", "MonthCode"),
    "STO": ("CustomerName", "CustomerPwd", "SendSite"),
    "HHTT": ("CustomerName", "CustomerPwd", "SendSite"),
    "JD": ("CustomerName", "WareHouseID"),
    "JDKY": ("CustomerName", "WareHouseID"),
    "JTSD": ("DeliveryMethod",),
}
POSTCODE_CARRIERS = ("EMS", "YZPY", "YZBK")

# Waybill number = prefix + a number of `width` digits counted from `base` (deterministic per simulator).
NUMBER_FORMATS = {
    "SF": ("SF", 1460000000000, 13),
    "YTO": ("YT", 7560000000000, 13),
    "ZTO": ("", 73100000000000, 14),
    "YD": ("", 431000000000000, 15),
    "STO": ("", 773000000000, 12),
    "JD": ("JDVA", 20000000000, 11),
    "EMS": ("", 1100000000000, 13),
    "YZPY": ("", 9870000000000, 13),
    "YZBK": ("", 1180000000000, 13),
    "JTSD": ("JT", 5100000000000, 13),
    "HTKY": ("", 5570000000000, 13),
    "DBL": ("DPK", 360000000000, 12),
}

# 2002 recognition: first matching rule wins; candidates most likely first.
RECOGNITION_RULES = (
    (r"SF\d{12,13}", ("SF",)),
    (r"YT\d{13}", ("YTO",)),
    (r"JT\d{13}", ("JTSD",)),
    (r"JD[A-Z]{2}\d{11}", ("JD",)),
    (r"DPK\d{12}", ("DBL",)),
    (r"77\d{10,11}", ("STO",)),
    (r"7\d{13}", ("ZTO",)),
    (r"7\d{11}", ("ZTO", "STO")),
    (r"4\d{14}", ("YD",)),
    (r"3\d{12}", ("YD",)),
    (r"55\d{11}", ("HTKY",)),
    (r"1\d{12}", ("EMS", "YZPY", "YZBK")),
    (r"9\d{12}", ("YZPY", "EMS")),
    (r"[A-Z]{2}\d{9}CN", ("EMS",)),
)

DEFAULT_TERMINAL_STATES = frozenset({"3", "301", "302", "304", "311", "406", "407", "415"})
SCENARIOS = ("normal", "no_pickup", "stalled", "failed_delivery", "rejected", "locker", "lost", "address_problem")
LOCKER_OVERDUE = timedelta(hours=18)
DELIVERY_OVERDUE = timedelta(hours=36)
NO_UPDATE_OVERDUE = timedelta(days=5)

PICKUP_PICKED_UP = "104"
PICKUP_COLLECTED = "301"
PICKUP_STEPS = ((2, PICKUP_PICKED_UP, "快递员已取件"), (3, PICKUP_COLLECTED, "快件已揽收"))

FAULTS = ("timeout", "http500", "http502", "rate_limit", "latency", "garbage")
# Switches /__sim__/settings may change.
SETTINGS = (
    "default_scenario", "legacy_duplicate_mode", "tamper_next_push", "duplicate_pushes", "auto_push",
    "push_retry_delays",
)
DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_PUSH_ITEMS = 10
PAID_TRACE_KEYS = ("AcceptTime", "AcceptStation", "Location", "Action", "Remark")
FREE_TRACE_KEYS = ("AcceptTime", "AcceptStation", "Remark")

# ---------------------------------------------------------------------------------------------- geography

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
REMOTE_PROVINCES = ("新疆", "西藏", "青海", "内蒙古")
PROVINCE_ABBREVIATIONS = {
    "北京": "京", "天津": "津", "上海": "沪", "重庆": "渝", "河北": "冀", "山西": "晋", "内蒙古": "蒙",
    "辽宁": "辽", "吉林": "吉", "黑龙江": "黑", "江苏": "苏", "浙江": "浙", "安徽": "皖", "福建": "闽",
    "江西": "赣", "山东": "鲁", "河南": "豫", "湖北": "鄂", "湖南": "湘", "广东": "粤", "广西": "桂",
    "海南": "琼", "四川": "川", "贵州": "黔", "云南": "滇", "西藏": "藏", "陕西": "陕", "甘肃": "甘",
    "青海": "青", "宁夏": "宁", "新疆": "新", "香港": "港", "澳门": "澳", "台湾": "台",
}
_BORDERS = {
    "北京": "天津 河北", "天津": "河北", "河北": "山西 内蒙古 辽宁 山东 河南", "山西": "内蒙古 陕西 河南",
    "内蒙古": "黑龙江 吉林 辽宁 陕西 宁夏 甘肃", "辽宁": "吉林", "吉林": "黑龙江", "上海": "江苏 浙江",
    "江苏": "浙江 安徽 山东", "浙江": "安徽 江西 福建", "安徽": "江西 湖北 河南 山东", "福建": "江西 广东",
    "江西": "湖北 湖南 广东", "山东": "河南", "河南": "陕西 湖北", "湖北": "陕西 重庆 湖南",
    "湖南": "重庆 贵州 广西 广东", "广东": "广西 海南 香港 澳门", "广西": "贵州 云南", "重庆": "四川 贵州 陕西",
    "四川": "贵州 云南 西藏 青海 甘肃 陕西", "贵州": "云南", "云南": "西藏", "西藏": "新疆 青海",
    "陕西": "甘肃 宁夏", "甘肃": "青海 新疆 宁夏", "青海": "新疆",
}
NEIGHBOURS = {}
for _province, _others in _BORDERS.items():
    for _other in _others.split():
        NEIGHBOURS.setdefault(_province, set()).add(_other)
        NEIGHBOURS.setdefault(_other, set()).add(_province)

# city -> (telephone area code, postcode)
CITY_CODES = {
    "北京": ("010", "100000"), "上海": ("021", "200000"), "天津": ("022", "300000"), "重庆": ("023", "400000"),
    "广州": ("020", "510000"), "深圳": ("0755", "518000"), "杭州": ("0571", "310000"), "南京": ("025", "210000"),
    "苏州": ("0512", "215000"), "武汉": ("027", "430000"), "成都": ("028", "610000"), "西安": ("029", "710000"),
    "宁波": ("0574", "315000"), "东莞": ("0769", "523000"), "佛山": ("0757", "528000"), "厦门": ("0592", "361000"),
    "长沙": ("0731", "410000"), "郑州": ("0371", "450000"), "济南": ("0531", "250000"), "青岛": ("0532", "266000"),
    "沈阳": ("024", "110000"), "哈尔滨": ("0451", "150000"), "乌鲁木齐": ("0991", "830000"), "拉萨": ("0891", "850000"),
    "昆明": ("0871", "650000"), "福州": ("0591", "350000"), "合肥": ("0551", "230000"), "南昌": ("0791", "330000"),
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何林高罗"
STREETS = ("人民路", "中山路", "建设路", "解放路", "科技园路", "文化路", "新华路", "和平路")


def province_key(name):
    """广西壮族自治区 -> 广西, 北京市 -> 北京, 浙江省 -> 浙江."""
    name = (name or "").strip()
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def city_key(city, province=""):
    city = (city or "").strip()
    if city in ("", "市辖区", "县"):
        city = province
    return province_key(city) if city.endswith("市") else city


def district_key(district):
    district = (district or "").strip()
    if len(district) > 2 and district[-1] in "区县市":
        return district[:-1]
    return district


def transit_hours(from_province, to_province):
    """Door-to-door hours: same province 24, neighbouring 48, far 72, remote (新疆/西藏/青海/内蒙古) 96."""
    origin, destination = province_key(from_province), province_key(to_province)
    if origin == destination:
        return 24
    if origin in REMOTE_PROVINCES or destination in REMOTE_PROVINCES:
        return 96
    if destination in NEIGHBOURS.get(origin, ()):
        return 48
    return 72


# ---------------------------------------------------------------------------------------------- helpers


def data_sign(request_data, api_key):
    """Base64 of the lowercase hex MD5 of RequestData + ApiKey (§1.3)."""
    hex_digest = hashlib.md5((request_data + api_key).encode("utf-8")).hexdigest()
    return base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


def stable_number(*parts):
    """A number that depends only on ``parts`` (Python's hash() changes between runs)."""
    return int(hashlib.md5("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:12], 16)


def fmt_time(moment):
    return moment.strftime(TIME_FORMAT)


def parse_time(text):
    text = (str(text or "")).strip().replace("/", "-")
    for pattern in (TIME_FORMAT, "%Y-%m-%d %H:%M", DATE_FORMAT):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def state_of(state_ex):
    """State (0-6) is the first digit group of StateEx (§4.3)."""
    return str(state_ex or "0")[0]


def text_of(value):
    return "" if value is None else str(value).strip()


def int_of(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def digits_of(value):
    return "".join(ch for ch in text_of(value) if ch.isdigit())


def parse_lenient_json(text):
    """JSON as KDNiao's parser takes it: also single quotes and trailing commas (§1.5)."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_strict_json(text))


def _strict_json(text):
    out, index, length = [], 0, len(text)
    while index < length:
        char = text[index]
        if char in "\"'":
            index = _copy_string(text, index, out)
            continue
        if char == ",":
            following = text[index + 1 :].lstrip()
            if following[:1] in ("}", "]"):
                index += 1
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _copy_string(text, index, out):
    """Copy the string literal starting at ``index`` as a double-quoted JSON string; return the next index."""
    quote, index, chars = text[index], index + 1, []
    while index < len(text) and text[index] != quote:
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            chars.append("'" if escaped == "'" else "\\" + escaped)
            index += 2
            continue
        chars.append('\\"' if char == '"' else char)
        index += 1
    out.append('"' + "".join(chars) + '"')
    return index + 1


def decode_form(body):
    """Form fields, with the second URL-decoding KDNiao applies to RequestData and DataSign (§1.4)."""
    fields = {key: values[0] for key, values in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
    request_data = fields.get("RequestData", "")
    if request_data and not request_data.lstrip().startswith(("{", "[")) and "%" in request_data:
        fields["RequestData"] = urllib.parse.unquote_plus(request_data)
    sign = fields.get("DataSign", "")
    for _ in range(3):
        if "%" not in sign:
            break
        sign = urllib.parse.unquote(sign)
    if "DataSign" in fields:
        fields["DataSign"] = sign
    return fields


def forbidden_values(payload, characters, path=""):
    """Paths of the string values that contain one of ``characters``."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            found += forbidden_values(value, characters, f"{path}.{key}" if path else key)
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            found += forbidden_values(value, characters, f"{path}[{index}]")
    elif isinstance(payload, str) and any(char in payload for char in characters):
        found.append(path)
    return found


def compact_json(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------- routes


class Route:
    """Where a parcel goes, and the names that appear in its labels and traces."""

    def __init__(self, sender, receiver, number):
        self.sender, self.receiver = sender, receiver
        self.sender_province = text_of(sender.get("ProvinceName"))
        self.receiver_province = text_of(receiver.get("ProvinceName"))
        self.sender_city = text_of(sender.get("CityName")) or self.sender_province
        self.receiver_city = text_of(receiver.get("CityName")) or self.receiver_province
        self.sender_short = city_key(self.sender_city, province_key(self.sender_province))
        self.receiver_short = city_key(self.receiver_city, province_key(self.receiver_province))
        self.sender_district = district_key(sender.get("ExpAreaName"))
        self.receiver_district = district_key(receiver.get("ExpAreaName"))
        self.hours = transit_hours(self.sender_province, self.receiver_province)
        seed = stable_number(number)
        self.picker = SURNAMES[seed % len(SURNAMES)] + "师傅"
        self.courier = SURNAMES[(seed // 7) % len(SURNAMES)] + "师傅"
        self.picker_tel = f"13{seed % 10}{seed % 100000000:08d}"
        self.courier_tel = f"13{(seed // 3) % 10}{(seed // 11) % 100000000:08d}"
        self.locker_code = f"{seed % 1000000:06d}"
        self.number = number

    @property
    def origin_hub(self):
        return f"{self.sender_short}转运中心"

    @property
    def destination_hub(self):
        return f"{self.receiver_short}转运中心"

    @property
    def origin_outlet(self):
        return f"{self.sender_short}{self.sender_district}营业部"

    @property
    def destination_outlet(self):
        return f"{self.receiver_short}{self.receiver_district}网点"

    def codes(self, city_short):
        area, postcode = CITY_CODES.get(city_short, (None, None))
        seed = stable_number(city_short)
        return area or f"0{seed % 900 + 100}", postcode or f"{seed % 80 + 10}{seed % 10000:04d}"


def _trace_texts(route):
    """AcceptStation texts by step name; {S} is the sender city, {R} the receiver city."""
    r = route
    return {
        "collected": ("1", "S", f"【{r.sender_city}】{r.origin_outlet} 已揽收，揽收员：{r.picker}（{r.picker_tel}）"),
        "left_outlet": ("206", "S", f"【{r.sender_city}】快件已从{r.origin_outlet}发出，下一站【{r.origin_hub}】"),
        "at_origin_hub": ("204", "S", f"【{r.sender_city}】快件已到达【{r.origin_hub}】"),
        "left_origin_hub": ("2", "S", f"【{r.sender_city}】快件已从【{r.origin_hub}】发出，下一站【{r.destination_hub}】"),
        "at_destination_city": ("201", "R", f"【{r.receiver_city}】快件已到达派件城市【{r.destination_hub}】"),
        "at_outlet": ("205", "R", f"【{r.receiver_city}】快件已到达【{r.destination_outlet}】，准备派送"),
        "out_for_delivery": (
            "202", "R", f"【{r.receiver_city}】【{r.destination_outlet}】派件员：{r.courier}（{r.courier_tel}）正在为您派件"
        ),
        "signed": ("301", "R", f"【{r.receiver_city}】快件已签收，签收人：本人签收。如有疑问请联系派件员{r.courier}（{r.courier_tel}）"),
        "failed": ("405", "R", f"【{r.receiver_city}】快件派送不成功，原因：收件人不在家，电话无人接听，将再次派送"),
        "redelivery": (
            "202", "R", f"【{r.receiver_city}】【{r.destination_outlet}】派件员：{r.courier}（{r.courier_tel}）正在再次派件"
        ),
        "signed_after_failure": ("302", "R", f"【{r.receiver_city}】快件已签收（派件异常后最终签收），签收人：本人签收"),
        "refused": ("404", "R", f"【{r.receiver_city}】收件人拒收，快件将退回寄件人"),
        "return_left": ("404", "R", f"【{r.receiver_city}】退回件已从【{r.destination_hub}】发出，下一站【{r.origin_hub}】"),
        "return_arrived": ("404", "S", f"【{r.sender_city}】退回件已到达【{r.origin_hub}】"),
        "returned": ("406", "S", f"【{r.sender_city}】退回件已签收，签收人：寄件人{text_of(r.sender.get('Name'))}"),
        "in_locker": (
            "211", "R", f"【{r.receiver_city}】快件已放入【丰巢智能柜（{r.receiver_district}{r.number[-2:]}号柜）】，"
            f"取件码：{r.locker_code}，请及时取件"
        ),
        "locker_signed": ("311", "R", f"【{r.receiver_city}】快件已从丰巢智能柜取出，已签收"),
        "address_problem": ("420", "R", f"【{r.receiver_city}】收件地址不详细，派件员无法派送，请联系客服补充地址"),
    }


def scenario_steps(scenario, hours):
    """(hours after the waybill was made, step name) of a scenario; ``hours`` is the route's delivery time."""
    h = hours
    collected = [(2, "collected"), (4, "left_outlet"), (7, "at_origin_hub"), (8, "left_origin_hub")]
    arrived = [(h - 14, "at_destination_city"), (h - 8, "at_outlet")]
    delivering = collected + arrived + [(h - 5, "out_for_delivery")]
    return {
        "normal": delivering + [(h - 1, "signed")],
        "no_pickup": [],
        "stalled": collected[:3],
        "lost": collected,
        "failed_delivery": delivering + [(h - 2, "failed"), (h + 18, "redelivery"), (h + 22, "signed_after_failure")],
        "rejected": delivering
        + [(h - 2, "refused"), (h + 6, "return_left"), (2 * h - 10, "return_arrived"), (2 * h - 2, "returned")],
        "locker": collected + arrived + [(h - 5, "in_locker"), (h + 30, "locker_signed")],
        "address_problem": collected + arrived + [(h - 6, "address_problem")],
    }[scenario]


# ---------------------------------------------------------------------------------------------- labels


# Code 128 symbols 0-106 as bar/space widths in modules (the stop symbol has a seventh, final bar).
_CODE128_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 122132 122231 "
    "113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 231113 231311 112133 112331 132131 "
    "113123 113321 133121 313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 "
    "241211 221114 413111 241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 211412 211214 "
    "211232 2331112"
).split()
_CODE128_START_B, _CODE128_START_C, _CODE128_TO_C, _CODE128_STOP = 104, 105, 99, 106
LABEL_SIZES = {"130": (76, 130), "150": (100, 150), "180": (100, 180)}  # TemplateSize -> mm; default 100x150
BARCODE_MODULE_MM = 0.375  # 3 dots of a 203-dpi printer


def _code128_symbols(code):
    """Start B for letters (and an odd leading digit), then subset C for the trailing pairs of digits."""
    digits_from = len(code.rstrip("0123456789"))  # where the trailing digits start
    if (len(code) - digits_from) % 2:
        digits_from += 1
    if digits_from == 0:
        symbols = [_CODE128_START_C]
    else:
        symbols = [_CODE128_START_B] + [ord(char) - 32 for char in code[:digits_from]]
        if digits_from < len(code):
            symbols.append(_CODE128_TO_C)
    symbols += [int(code[i : i + 2]) for i in range(digits_from, len(code), 2)]
    checksum = (symbols[0] + sum(position * value for position, value in enumerate(symbols[1:], start=1))) % 103
    return symbols + [checksum, _CODE128_STOP]


def _barcode_svg(code):
    """The waybill number as a Code 128 symbol a scanner reads, modules of BARCODE_MODULE_MM."""
    bars, x = [], 10  # 10-module quiet zones
    for symbol in _code128_symbols(code):
        for position, width in enumerate(_CODE128_WIDTHS[symbol]):
            if position % 2 == 0:
                bars.append(f'<rect x="{x}" y="0" width="{width}" height="40"/>')
            x += int(width)
    width_mm = (x + 10) * BARCODE_MODULE_MM
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm:g}mm" height="15mm" '
        f'viewBox="0 0 {x + 10} 40" preserveAspectRatio="none">{"".join(bars)}</svg>'
    )


def _masked(phone):
    phone = text_of(phone)
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else phone


def _address_line(party):
    return "".join(text_of(party.get(key)) for key in ("ProvinceName", "CityName", "ExpAreaName", "Address"))


def print_template(order, request, number, index=1, total=1):
    """A label page of the requested TemplateSize (100x150 mm by default): carrier, 大头笔, 三段码, 集包地,
    Code 128 barcode, receiver, sender, goods."""
    receiver, sender = request.get("Receiver") or {}, request.get("Sender") or {}
    width, height = LABEL_SIZES.get(text_of(request.get("TemplateSize"))[:3], LABEL_SIZES["150"])
    commodity = [item for item in request.get("Commodity") or [] if isinstance(item, dict)]
    goods = "，".join(text_of(item.get("GoodsName")) for item in commodity)
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>", e(number), "</title><style>",
        "body{margin:0;font-family:sans-serif}",
        f".label{{box-sizing:border-box;width:{width}mm;height:{height}mm;border:1px solid #000;padding:2mm;"
        "overflow:hidden}",
        ".mark{font-size:28pt;font-weight:bold}.sorting{font-size:20pt}.number{font-size:12pt}",
        "</style></head><body><div class=\"label\">",
        f"<div class=\"carrier\">{e(CARRIERS.get(order['ShipperCode'], order['ShipperCode']))}</div>",
        f"<div class=\"mark\">{e(order['MarkDestination'])}</div>",
        f"<div class=\"sorting\">{e(order['SortingCode'])}</div>",
        f"<div class=\"package\">集包地：{e(order['PackageName'])}</div>",
        f"<div class=\"barcode\">{_barcode_svg(number)}</div>",
        f"<div class=\"number\">运单号：{e(number)}" + (f"（{index}/{total}）" if total > 1 else "") + "</div>",
        f"<div class=\"receiver\">收：{e(text_of(receiver.get('Name')))} "
        f"{e(_masked(receiver.get('Mobile') or receiver.get('Tel')))}<br>{e(_address_line(receiver))}</div>",
        f"<div class=\"sender\">寄：{e(text_of(sender.get('Name')))} "
        f"{e(_masked(sender.get('Mobile') or sender.get('Tel')))}<br>{e(_address_line(sender))}</div>",
        f"<div class=\"goods\">{e(goods)}</div>",
        f"<div class=\"order\">订单号：{e(order['OrderCode'])}</div>",
        "</div></body></html>",
    ]
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- errors


class Refusal(Exception):
    """A business answer with Success false; ``extra`` fields are added to the answer."""

    def __init__(self, result_code, reason, **extra):
        super().__init__(reason)
        self.result_code = result_code
        self.reason = reason
        self.extra = extra


def _require(payload, fields, prefix=""):
    for field in fields:
        if text_of(payload.get(field)) == "":
            raise Refusal(MISSING_PARAMETER, f"缺少必要参数: {prefix}{field}")


# ---------------------------------------------------------------------------------------------- simulator


class KdniaoSimulator:
    def __init__(self, host="127.0.0.1", port=0, accounts=None, push_urls=None, start_time=None, auto_push=False,
                 strict_environments=False):
        self.host = host
        self.requested_port = port
        self.accounts = dict(accounts or {})
        self.push_urls = dict(push_urls or {})
        self._now = (start_time or datetime.now()).replace(microsecond=0)
        # A background thread delivers queued pushes while this is true (the demo); tests call push_now().
        self.auto_push = auto_push
        self.strict_environments = strict_environments

        self.requests = []
        self.waybills = {}
        self.pickups = {}
        self.subscriptions = {}
        self.push_log = []

        self.default_scenario = "normal"
        self.legacy_duplicate_mode = False
        self.tamper_next_push = False
        self.duplicate_pushes = False
        self.push_retry_delays = [1, 5, 30]
        self.push_timeout = 10.0
        self.no_trace_success = True
        self.recognition_unknown_success = True
        self.forbidden_characters_check = True
        self.phone_check_carriers = {"SF"}
        self.account_fields = dict(DEFAULT_ACCOUNT_FIELDS)
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self.terminal_states = set(DEFAULT_TERMINAL_STATES)

        self._lock = threading.RLock()
        self._orders = {}  # (EBusinessID, OrderCode) -> LogisticCode
        self._pickup_index = {}  # (EBusinessID, OrderCode) -> pickup record
        self._faults = []
        self._sequence = 0
        self._recent_calls = {}
        self._pending_tracks = {}  # (EBusinessID, "101"/"102") -> ordered LogisticCodes
        self._pending_pickups = {}  # EBusinessID -> list of status items
        self._retries = []
        self._server = None
        self._threads = []
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self):
        return self._server.server_address[1] if self._server else self.requested_port

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def now(self):
        return self._now

    def start(self):
        if self._server:
            return self
        self._server = _Server((self.host, self.requested_port), _Handler)
        self._server.simulator = self
        self.requested_port = self._server.server_address[1]
        self._stopping.clear()
        self._spawn(self._server.serve_forever, f"kdniao-{self.port}", 0.05)
        self._spawn(self._push_loop, f"kdniao-push-{self.port}")
        return self

    def stop(self):
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _spawn(self, target, name, *args):
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def start_clock(self, hours_per_minute, tick_seconds=1.0):
        """Let simulated time run on its own: ``hours_per_minute`` simulated hours per real minute."""
        self._spawn(self._clock_loop, f"kdniao-clock-{self.port}", hours_per_minute, tick_seconds)

    def _clock_loop(self, hours_per_minute, tick_seconds):
        last = time.monotonic()
        while not self._stopping.wait(tick_seconds):
            current = time.monotonic()
            self.advance((current - last) * hours_per_minute / 60.0)
            last = current

    # ------------------------------------------------------------------ controls

    def advance(self, hours):
        """Move the clock; waybills and pickups progress and pushes are queued for what changed."""
        with self._lock:
            self._now = self._now + timedelta(hours=float(hours))
            for waybill in self.waybills.values():
                self._progress(waybill)
            for pickup in self._pickup_index.values():
                self._progress_pickup(pickup)
            return self._now

    def set_scenario(self, logistic_code, scenario):
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
        with self._lock:
            waybill = self.waybills[logistic_code]
            waybill["scenario"] = scenario
            self._progress(waybill)

    def inject(self, fault, request_type=None, count=1, seconds=0.0):
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        if fault == "timeout" and not seconds:
            seconds = DEFAULT_TIMEOUT_SECONDS
        with self._lock:
            request_type = str(request_type) if request_type else None
            self._faults.append(
                {"fault": fault, "request_type": request_type, "count": int(count), "seconds": float(seconds)}
            )

    def _take_fault(self, request_type):
        with self._lock:
            for fault in self._faults:
                if fault["request_type"] in (None, request_type):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ------------------------------------------------------------------ request handling

    def handle_api(self, path, body):
        """Answer one API call: (HTTP status, content type, body bytes, seconds to wait before answering)."""
        fields = decode_form(body)
        request_type = text_of(fields.get("RequestType"))
        record = {
            "request_type": request_type,
            "ebusiness_id": text_of(fields.get("EBusinessID")),
            "data": self._parsed_or_none(fields.get("RequestData")),
            "response": None,
            "path": path,
            "time": fmt_time(self._now),
        }
        with self._lock:
            self.requests.append(record)
        fault = self._take_fault(request_type) or {"fault": None, "seconds": 0.0}
        if fault["fault"] in ("http500", "http502", "garbage"):
            status, content_type, payload = self._broken_answer(fault["fault"])
            record["response"] = {"fault": fault["fault"], "http_status": status}
            return status, content_type, payload, 0.0
        if fault["fault"] == "latency":
            time.sleep(fault["seconds"])  # a slow service: the work happens after the wait
        if fault["fault"] == "rate_limit":
            answer = self._rate_limited(record["ebusiness_id"])
        else:
            answer = self._answer(path, fields, record["data"])
        record["response"] = answer
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        # A timeout does the work (the waybill exists) and loses the answer: the caller gives up first.
        delay = fault["seconds"] if fault["fault"] == "timeout" else 0.0
        return 200, "application/json;charset=utf-8", payload, delay

    @staticmethod
    def _broken_answer(fault):
        if fault == "garbage":
            return 200, "text/html;charset=utf-8", "<html><body>系统繁忙，请稍后再试</body></html>".encode()
        status, text = (500, "Internal Server Error") if fault == "http500" else (502, "Bad Gateway")
        return status, "text/html", f"<html><body><h1>{status} {text}</h1></body></html>".encode()

    @staticmethod
    def _parsed_or_none(request_data):
        try:
            data = parse_lenient_json(request_data or "")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _answer(self, path, fields, data):
        ebusiness_id = text_of(fields.get("EBusinessID"))
        request_type = text_of(fields.get("RequestType"))
        try:
            self._authenticate(path, fields)
            if self._throttled(ebusiness_id, request_type):
                return self._rate_limited(ebusiness_id)
            if data is None:
                raise Refusal(FORMAT_ERROR, "RequestData格式有误，不是有效的JSON (RequestData is not JSON)")
            handler = self._handlers().get(request_type)
            if handler is None:
                raise Refusal(UNKNOWN_REQUEST_TYPE_CODE, f"不支持的接口指令 RequestType={request_type} (unknown RequestType)")
            with self._lock:
                return {"EBusinessID": ebusiness_id, **handler(ebusiness_id, data)}
        except Refusal as refusal:
            return {
                "EBusinessID": ebusiness_id,
                "Success": False,
                "ResultCode": refusal.result_code,
                "Reason": refusal.reason,
                **refusal.extra,
                "UniquerRequestNumber": str(uuid.uuid4()),
            }

    def _handlers(self):
        return {
            "1007": self._create_waybill,
            "1147": self._cancel_waybill,
            "1002": lambda ebid, data: self._track(ebid, data, "1002"),
            "8001": lambda ebid, data: self._track(ebid, data, "8001"),
            "8002": lambda ebid, data: self._track(ebid, data, "8002"),
            "1008": lambda ebid, data: self._subscribe(ebid, data, "101"),
            "8008": lambda ebid, data: self._subscribe(ebid, data, "102"),
            "2002": self._recognise,
            "1801": self._book_pickup,
            "1802": self._cancel_pickup,
            "6004": lambda ebid, data: self._predict(ebid, data, after_shipping=False),
            "6006": lambda ebid, data: self._predict(ebid, data, after_shipping=True),
        }

    def _authenticate(self, path, fields):
        for field in ("RequestData", "EBusinessID", "RequestType", "DataSign"):
            if not text_of(fields.get(field)):
                raise Refusal(MISSING_PARAMETER, f"缺少必要参数: {field}")
        if text_of(fields.get("DataType")) not in ("", "2"):
            raise Refusal(FORMAT_ERROR, "DataType只支持2(JSON)")
        ebusiness_id = text_of(fields["EBusinessID"])
        sandbox_id = ebusiness_id.lower().startswith("test")
        if path.rstrip("/") == SANDBOX_GATEWAY_PATH and not sandbox_id:
            raise Refusal(WRONG_ENVIRONMENT_CODE, SANDBOX_ONLY_REASON)
        if self.strict_environments and sandbox_id and path.rstrip("/") != SANDBOX_GATEWAY_PATH:
            raise Refusal(WRONG_ENVIRONMENT_CODE, PRODUCTION_ONLY_REASON)
        api_key = self.accounts.get(ebusiness_id)
        if api_key is None:
            raise Refusal(UNKNOWN_ACCOUNT_CODE, UNKNOWN_ACCOUNT_REASON)
        if fields["DataSign"] != data_sign(fields["RequestData"], api_key):
            raise Refusal(BAD_SIGN_CODE, BAD_SIGN_REASON)

    def _throttled(self, ebusiness_id, request_type):
        limit = self.rate_limits.get(request_type)
        if not limit:
            return False
        with self._lock:
            calls = self._recent_calls.setdefault((ebusiness_id, request_type), deque())
            moment = time.monotonic()
            while calls and moment - calls[0] >= 1.0:
                calls.popleft()
            if len(calls) >= limit:
                return True
            calls.append(moment)
        return False

    @staticmethod
    def _rate_limited(ebusiness_id):
        return {
            "EBusinessID": ebusiness_id,
            "Success": False,
            "ResultCode": RATE_LIMIT_CODE,
            "Reason": RATE_LIMIT_REASON,
            "UniquerRequestNumber": str(uuid.uuid4()),
        }

    def _check_characters(self, data, characters):
        if not self.forbidden_characters_check:
            return
        found = forbidden_values(data, characters)
        if found:
            raise Refusal(FORMAT_ERROR, f"参数含有非法字符: {', '.join(found)}")

    # ------------------------------------------------------------------ 1007 e-waybill

    def _create_waybill(self, ebusiness_id, data):
        _require(data, ("OrderCode",))
        previous = self._orders.get((ebusiness_id, text_of(data["OrderCode"])))
        if previous:
            return self._replay(self.waybills[previous])
        self._validate_order(data)
        self._check_characters(data, FORBIDDEN_CHARACTERS)
        return self._waybill_answer(self._new_waybill(ebusiness_id, data), OK, "成功")

    def _replay(self, waybill):
        if waybill["cancelled"]:
            raise Refusal(OTHER_ERROR, "该订单号已取消，不能重复使用 (OrderCode was cancelled and stays used)")
        if self.legacy_duplicate_mode:
            raise Refusal(OTHER_ERROR, "订单号已存在，请勿重复操作")
        return self._waybill_answer(waybill, ALREADY_ORDERED, "该订单号已下单成功")

    @staticmethod
    def _waybill_answer(waybill, result_code, reason):
        return {
            "Order": waybill["order"],
            "EstimatedDeliveryTime": waybill["estimated_delivery_time"],
            "Success": True,
            "ResultCode": result_code,
            "Reason": reason,
            "UniquerRequestNumber": str(uuid.uuid4()),
            **waybill["extra_answer"],
        }

    def _validate_order(self, data, pickup=False):
        required = ("PayType", "ExpType", "Sender", "Receiver", "Quantity", "Commodity")
        _require(data, required if pickup else ("ShipperCode",) + required)
        for role in ("Sender", "Receiver"):
            party = data.get(role)
            if not isinstance(party, dict):
                raise Refusal(FORMAT_ERROR, f"{role}格式有误")
            _require(party, ("Name",), f"{role}.")
            if not (text_of(party.get("Mobile")) or text_of(party.get("Tel"))):
                raise Refusal(MISSING_PARAMETER, f"缺少必要参数: {role}.Mobile/Tel")
            _require(party, ("ProvinceName", "CityName", "ExpAreaName", "Address"), f"{role}.")
        commodity = data.get("Commodity")
        if isinstance(commodity, dict):
            data["Commodity"] = commodity = [commodity]
        if not isinstance(commodity, list) or not commodity:
            raise Refusal(MISSING_PARAMETER, "缺少必要参数: Commodity (缺少货物信息)")
        for index, goods in enumerate(commodity):
            if not isinstance(goods, dict) or not text_of(goods.get("GoodsName")):
                raise Refusal(MISSING_PARAMETER, f"缺少必要参数: Commodity[{index}].GoodsName")
        shipper_code = text_of(data.get("ShipperCode")).upper()
        if shipper_code and shipper_code not in CARRIERS:
            raise Refusal(VALIDATION_FAILED, f"不支持的快递公司编码 ShipperCode={shipper_code}")
        if not pickup:
            self._check_account_fields(shipper_code, data)
        pay_type = int_of(data.get("PayType"))
        if pay_type not in (1, 2, 3, 4) or (pay_type == 4 and shipper_code != "SF"):
            raise Refusal(VALIDATION_FAILED, f"PayType={text_of(data.get('PayType'))} 无效")
        quantity = int_of(data.get("Quantity"))
        if quantity is None or not 1 <= quantity <= 300:
            raise Refusal(VALIDATION_FAILED, f"Quantity={text_of(data.get('Quantity'))} 无效，应为1-300")

    def _check_account_fields(self, shipper_code, data):
        needed = list(self.account_fields.get(shipper_code, ()))
        if shipper_code == "SF" and int_of(data.get("PayType")) == 3:
            needed.append("MonthCode")
        _require(data, needed)
        if shipper_code in POSTCODE_CARRIERS:
            for role in ("Sender", "Receiver"):
                _require(data[role], ("PostCode",), f"{role}.")

    def _next_number(self, shipper_code):
        self._sequence += 1
        prefix, base, width = NUMBER_FORMATS.get(shipper_code, (shipper_code, 100000000000, 12))
        return f"{prefix}{(base + self._sequence) % 10 ** width:0{width}d}"

    def _new_waybill(self, ebusiness_id, data):
        shipper_code = text_of(data["ShipperCode"]).upper()
        order_code = text_of(data["OrderCode"])
        number = self._next_number(shipper_code)
        quantity = int_of(data.get("Quantity"), 1)
        sub_numbers = [self._next_number(shipper_code) for _ in range(quantity - 1)]
        route = Route(data["Sender"], data["Receiver"], number)
        order = self._order_block(order_code, shipper_code, number, route)
        estimated = fmt_time(self._now + timedelta(hours=route.hours))[:10]
        extra = {}
        if text_of(data.get("Callback")):
            extra["Callback"] = text_of(data["Callback"])
        if text_of(data.get("IsReturnPrintTemplate")) == "1":
            extra["PrintTemplate"] = print_template(order, data, number, 1, quantity)
        if sub_numbers:
            extra["SubCount"] = len(sub_numbers)
            extra["SubOrders"] = ",".join(sub_numbers)
            if "PrintTemplate" in extra:
                extra["SubPrintTemplates"] = "".join(
                    print_template(order, data, sub, index, quantity) for index, sub in enumerate(sub_numbers, start=2)
                )
        waybill = {
            "logistic_code": number,
            "order_code": order_code,
            "ebusiness_id": ebusiness_id,
            "shipper_code": shipper_code,
            "scenario": self.default_scenario,
            "state": "0",
            "state_ex": "0",
            "traces": [],
            "cancelled": False,
            "created_at": fmt_time(self._now),
            "sender": data["Sender"],
            "receiver": data["Receiver"],
            "hours": route.hours,
            "sub_orders": sub_numbers,
            "order": order,
            "print_template": extra.get("PrintTemplate"),
            "estimated_delivery_time": estimated,
            "callback": text_of(data.get("Callback")),
            "extra_answer": extra,
        }
        self.waybills[number] = waybill
        self._orders[(ebusiness_id, order_code)] = number
        if text_of(data.get("IsSubscribe")) in ("", "1"):
            # KDNiao has the phones of the waybills it issued: no CustomerName digits needed for their tracks.
            self._remember_subscription(
                ebusiness_id, number, "102", shipper_code, order_code, waybill["callback"], "", 0, phone_known=True
            )
        return waybill

    def _order_block(self, order_code, shipper_code, number, route):
        seed = stable_number(route.receiver_province, route.receiver_short, route.receiver_district)
        letter = "ABCDEFGH"[seed % 8]
        receiver_province = province_key(route.receiver_province)
        if receiver_province in MUNICIPALITIES:
            mark = f"{PROVINCE_ABBREVIATIONS[receiver_province]}-{route.receiver_district}"
        else:
            mark = f"{route.receiver_short}{route.receiver_district} {letter}{seed // 8 % 30 + 1:02d}"
        _area, origin_postcode = route.codes(route.sender_short)
        _area, destination_postcode = route.codes(route.receiver_short)
        return {
            "OrderCode": order_code,
            "ShipperCode": shipper_code,
            "LogisticCode": number,
            "MarkDestination": mark,
            "OriginCode": origin_postcode,
            "OriginName": route.origin_hub,
            "DestinatioCode": destination_postcode,
            "DestinatioName": route.destination_outlet,
            "SortingCode": f"{300 + seed % 700}-{letter}{10 + seed // 7 % 90} {1 + seed // 631 % 99:02d}",
            "PackageCode": f"{destination_postcode[:3]}{letter}",
            "PackageName": f"{route.receiver_short}集包",
            "DestinationAllocationCentre": route.destination_hub,
        }

    # ------------------------------------------------------------------ 1147 cancel

    def _cancel_waybill(self, ebusiness_id, data):
        _require(data, ("ShipperCode", "OrderCode", "ExpNo"))
        number = self._orders.get((ebusiness_id, text_of(data["OrderCode"])))
        waybill = self.waybills.get(number) if number else None
        if not waybill or waybill["logistic_code"] != text_of(data["ExpNo"]):
            raise Refusal(OTHER_ERROR, "未找到该订单号与运单号对应的电子面单 (no such waybill)")
        if waybill["cancelled"]:
            raise Refusal(OTHER_ERROR, "该电子面单已取消，请勿重复操作 (already cancelled)")
        if waybill["traces"]:
            raise Refusal(OTHER_ERROR, "快件已揽收，无法取消电子面单 (already collected)")
        waybill["cancelled"] = True
        return {"Success": True, "ResultCode": OK, "Reason": "成功"}

    # ------------------------------------------------------------------ tracks

    def _progress(self, waybill):
        """Add the traces whose time has come and recompute StateEx; queue a push when something changed."""
        if waybill["cancelled"]:
            return False
        before = (len(waybill["traces"]), waybill["state_ex"])
        route = Route(waybill["sender"], waybill["receiver"], waybill["logistic_code"])
        texts = _trace_texts(route)
        created = parse_time(waybill["created_at"])
        last = parse_time(waybill["traces"][-1]["AcceptTime"]) if waybill["traces"] else created
        for index, (offset, step) in enumerate(scenario_steps(waybill["scenario"], route.hours)):
            jitter = stable_number(waybill["logistic_code"], step, index) % 2400
            moment = created + timedelta(hours=offset, seconds=jitter)
            if last < moment <= self._now:
                action, where, station = texts[step]
                city = route.sender_city if where == "S" else route.receiver_city
                trace = {"AcceptTime": fmt_time(moment), "AcceptStation": station, "Location": city, "Action": action}
                waybill["traces"].append(dict(trace, Remark=None))
                last = moment
        waybill["state_ex"] = self._state_ex(waybill)
        waybill["state"] = state_of(waybill["state_ex"])
        changed = (len(waybill["traces"]), waybill["state_ex"]) != before
        if changed:
            self._queue_track_pushes(waybill)
        return changed

    def _state_ex(self, waybill):
        """The last trace's Action, or a time rule of §4.3 (412, 402, 403) when it applies."""
        if not waybill["traces"]:
            return "0"
        last = waybill["traces"][-1]
        base = last["Action"]
        if base in self.terminal_states or base.startswith("4"):
            return base
        idle = self._now - parse_time(last["AcceptTime"])
        if base == "211" and idle > LOCKER_OVERDUE:
            return "412"
        if base == "202" and idle > DELIVERY_OVERDUE:
            return "402"
        if base not in ("0", "10") and idle > NO_UPDATE_OVERDUE:
            return "403"
        return base

    def _visible(self, waybill, shipper_code, customer_name):
        """SF shows tracks only with the last 4 digits of the sender's or receiver's phone (§4.1)."""
        if not waybill or waybill["cancelled"]:
            return False
        if shipper_code not in self.phone_check_carriers:
            return True
        parties = (waybill["sender"], waybill["receiver"])
        phones = [digits_of(party.get(key)) for party in parties for key in ("Mobile", "Tel")]
        return bool(customer_name) and customer_name in [phone[-4:] for phone in phones if len(phone) >= 4]

    def _track(self, ebusiness_id, data, request_type):
        _require(data, ("LogisticCode",) if request_type == "8002" else ("ShipperCode", "LogisticCode"))
        number = text_of(data["LogisticCode"])
        shipper_code = text_of(data.get("ShipperCode")).upper() or self._recognised_code(number)
        if not shipper_code:
            raise Refusal(OTHER_ERROR, "无法识别快递公司，请传入ShipperCode (carrier not recognised)")
        waybill = self.waybills.get(number)
        if waybill and waybill["shipper_code"] != shipper_code:
            waybill = None
        visible = self._visible(waybill, shipper_code, text_of(data.get("CustomerName")))
        answer = {"OrderCode": text_of(data.get("OrderCode")), "ShipperCode": shipper_code, "LogisticCode": number}
        if request_type == "8001" and text_of(data.get("Callback")):
            answer["Callback"] = text_of(data["Callback"])
        if not visible or not waybill["traces"]:
            answer.update(self._no_traces())
            return answer
        paid = request_type != "1002"
        answer.update({"Success": True, "Reason": None})
        answer.update(self._track_fields(waybill, paid, descending=int_of(data.get("Sort"), 0) == 1))
        return answer

    def _no_traces(self):
        return {"Success": self.no_trace_success, "State": "0", "Reason": NO_TRACE_REASON, "Traces": []}

    def _track_fields(self, waybill, paid, descending=False):
        keys = PAID_TRACE_KEYS if paid else FREE_TRACE_KEYS
        traces = [{key: trace[key] for key in keys} for trace in waybill["traces"]]
        if descending:
            traces.reverse()
        fields = {"State": waybill["state"]}
        if paid:
            fields["StateEx"] = waybill["state_ex"]
            fields["Location"] = waybill["traces"][-1]["Location"]
            fields.update(self._station_fields(waybill))
        fields["Traces"] = traces
        return fields

    def _station_fields(self, waybill):
        """Delivering outlet and courier once the parcel reached the outlet; next hop while travelling."""
        route = Route(waybill["sender"], waybill["receiver"], waybill["logistic_code"])
        actions = [trace["Action"] for trace in waybill["traces"]]
        fields = {}
        if waybill["state"] in ("1", "2") and "201" not in actions:
            fields["NextCity"] = route.receiver_city
        if any(action in ("205", "202", "211") for action in actions):
            area, _postcode = route.codes(route.receiver_short)
            seed = stable_number(route.destination_outlet)
            district = text_of(waybill["receiver"].get("ExpAreaName"))
            fields.update(
                {
                    "Station": route.destination_outlet,
                    "StationTel": f"{area}-{seed % 90000000 + 10000000}",
                    "StationAdd": f"{district}{STREETS[seed % len(STREETS)]}{seed % 300 + 1}号",
                }
            )
        if "202" in actions:
            fields.update({"DeliveryMan": route.courier, "DeliveryManTel": route.courier_tel})
        return fields

    # ------------------------------------------------------------------ subscriptions and track pushes

    def _subscribe(self, ebusiness_id, data, tier):
        _require(data, ("ShipperCode", "LogisticCode"))
        number = text_of(data["LogisticCode"])
        shipper_code = text_of(data["ShipperCode"]).upper()
        self._remember_subscription(
            ebusiness_id, number, tier, shipper_code, text_of(data.get("OrderCode")), text_of(data.get("Callback")),
            text_of(data.get("CustomerName")), int_of(data.get("Sort"), 0),
        )
        waybill = self.waybills.get(number)
        if waybill and waybill["traces"]:
            self._queue_track_pushes(waybill)
        answer = {"UpdateTime": fmt_time(self._now), "Success": True, "Reason": ""}
        if tier == "102":
            answer.update({"ShipperCode": shipper_code, "LogisticCode": number})
        elif waybill:
            answer["EstimatedDeliveryTime"] = waybill["estimated_delivery_time"]
        return answer

    def _remember_subscription(
        self, ebusiness_id, number, tier, shipper_code, order_code, callback, customer_name, sort, phone_known=False
    ):
        previous = self.subscriptions.get((ebusiness_id, number))
        phone_known = phone_known or bool(previous and previous["phone_known"])
        self.subscriptions[(ebusiness_id, number)] = {
            "ebusiness_id": ebusiness_id,
            "logistic_code": number,
            "tier": tier,
            "shipper_code": shipper_code,
            "order_code": order_code,
            "callback": callback,
            "customer_name": customer_name,
            "sort": sort,
            "terminal_accepted": False,
            "phone_known": phone_known,
        }

    def _queue_track_pushes(self, waybill):
        for (ebusiness_id, number), subscription in self.subscriptions.items():
            if number == waybill["logistic_code"] and not subscription["terminal_accepted"]:
                pending = self._pending_tracks.setdefault((ebusiness_id, subscription["tier"]), [])
                if number not in pending:
                    pending.append(number)

    def _push_visible(self, ebusiness_id, number):
        subscription = self.subscriptions.get((ebusiness_id, number))
        if not subscription or subscription["terminal_accepted"]:
            return False
        waybill = self.waybills.get(number)
        if subscription["phone_known"]:
            return bool(waybill and not waybill["cancelled"])
        return self._visible(waybill, subscription["shipper_code"], subscription["customer_name"])

    def _track_push_item(self, ebusiness_id, number, tier):
        subscription = self.subscriptions[(ebusiness_id, number)]
        waybill = self.waybills[number]
        item = {
            "EBusinessID": ebusiness_id,
            "OrderCode": subscription["order_code"],
            "ShipperCode": subscription["shipper_code"],
            "LogisticCode": number,
            "CallBack": subscription["callback"],
            "EstimatedDeliveryTime": waybill["estimated_delivery_time"],
            "Success": True,
            "Reason": "",
        }
        item.update(self._track_fields(waybill, paid=tier == "102", descending=subscription["sort"] == 1))
        return item

    # ------------------------------------------------------------------ 2002 recognition

    @staticmethod
    def _recognised_codes(number):
        number = text_of(number).upper()
        for pattern, codes in RECOGNITION_RULES:
            if re.fullmatch(pattern, number):
                return list(codes)
        return []

    def _recognised_code(self, number):
        codes = self._recognised_codes(number)
        return codes[0] if codes else ""

    def _recognise(self, ebusiness_id, data):
        _require(data, ("LogisticCode",))
        number = text_of(data["LogisticCode"])
        shippers = [{"ShipperCode": code, "ShipperName": CARRIERS[code]} for code in self._recognised_codes(number)]
        success = bool(shippers) or self.recognition_unknown_success
        reason = "" if shippers else "未识别到快递公司"
        return {"LogisticCode": number, "Success": success, "Reason": reason, "Shippers": shippers}

    # ------------------------------------------------------------------ 1801 / 1802 pickup

    def _book_pickup(self, ebusiness_id, data):
        _require(data, ("OrderCode",))
        order_code = text_of(data["OrderCode"])
        if (ebusiness_id, order_code) in self._pickup_index:
            raise Refusal(OTHER_ERROR, "订单号已存在，请勿重复下单 (OrderCode already used)", Order={"OrderCode": order_code})
        self._validate_order(data, pickup=True)
        self._check_characters(data, FORBIDDEN_CHARACTERS_PICKUP)
        shipper_code = text_of(data.get("ShipperCode")).upper() or "ZTO"
        self._sequence += 1
        pickup = {
            "order_code": order_code,
            "ebusiness_id": ebusiness_id,
            "shipper_code": shipper_code,
            "kdn_order_code": f"KDN{self._now:%Y%m%d}{self._sequence:08d}",
            "state": "booked",
            "history": [],
            "cancelled": False,
            "booked_at": fmt_time(self._now),
            "sender": data["Sender"],
            "start_date": text_of(data.get("StartDate")),
            "end_date": text_of(data.get("EndDate")),
        }
        self._pickup_index[(ebusiness_id, order_code)] = pickup
        self.pickups[order_code] = pickup
        order = {"OrderCode": order_code, "ShipperCode": shipper_code, "KDNOrderCode": pickup["kdn_order_code"]}
        return {"Order": order, "Success": True, "ResultCode": OK, "Reason": "成功",
                "UniquerRequestNumber": str(uuid.uuid4())}

    def _cancel_pickup(self, ebusiness_id, data):
        _require(data, ("OrderCode",))
        pickup = self._pickup_index.get((ebusiness_id, text_of(data["OrderCode"])))
        if not pickup:
            raise Refusal(OTHER_ERROR, "未找到该上门取件订单 (no such pickup order)")
        if pickup["cancelled"]:
            raise Refusal(OTHER_ERROR, "该订单已取消，请勿重复操作 (already cancelled)")
        if pickup["state"] in (PICKUP_PICKED_UP, PICKUP_COLLECTED):
            raise Refusal(OTHER_ERROR, "快递员已取件，无法取消 (already picked up)")
        pickup["cancelled"] = True
        pickup["state"] = "203"
        return {"Success": True, "ResultCode": OK, "Reason": "成功", "UniquerRequestNumber": str(uuid.uuid4())}

    def _progress_pickup(self, pickup):
        if pickup["cancelled"]:
            return
        booked = parse_time(pickup["booked_at"])
        done = {entry["State"] for entry in pickup["history"]}
        route = Route(pickup["sender"], pickup["sender"], pickup["kdn_order_code"])
        area, _postcode = route.codes(route.sender_short)
        for offset, state, reason in PICKUP_STEPS:
            moment = booked + timedelta(hours=offset)
            if state in done or moment > self._now:
                continue
            pickup["state"] = state
            item = {
                "EBusinessID": pickup["ebusiness_id"],
                "OrderCode": pickup["order_code"],
                "KDNOrderCode": pickup["kdn_order_code"],
                "ShipperCode": pickup["shipper_code"],
                "State": state,
                "Reason": reason,
                "CreateTime": fmt_time(moment),
                "PickerInfo": {
                    "PersonName": route.picker,
                    "PersonTel": route.picker_tel,
                    "PersonCode": f"P{stable_number(route.picker_tel) % 1000000:06d}",
                    "StationName": route.origin_outlet,
                    "StationAddress": f"{text_of(pickup['sender'].get('ExpAreaName'))}快递服务站",
                    "StationTel": f"{area}-{stable_number(route.origin_outlet) % 90000000 + 10000000}",
                },
            }
            pickup["history"].append(item)
            self._pending_pickups.setdefault(pickup["ebusiness_id"], []).append(item)

    # ------------------------------------------------------------------ 6004 / 6006 prediction

    def _predict(self, ebusiness_id, data, after_shipping):
        required = ["ShipperCode", "SendProvince", "SendCity", "SendArea", "ReceiveProvince", "ReceiveCity",
                    "ReceiveArea"]
        _require(data, required + (["LogisticCode"] if after_shipping else []))
        start = parse_time(data.get("CatchTime")) or self._now
        hours = transit_hours(data["SendProvince"], data["ReceiveProvince"])
        arrival = start + timedelta(hours=hours)
        waybill = self.waybills.get(text_of(data.get("LogisticCode"))) if after_shipping else None
        if waybill:
            arrival = parse_time(waybill["created_at"]) + timedelta(hours=waybill["hours"])
            hours = max(1, math.ceil((arrival - start).total_seconds() / 3600))
        send_city = city_key(data["SendCity"], province_key(data["SendProvince"]))
        receive_city = city_key(data["ReceiveCity"], province_key(data["ReceiveProvince"]))
        receive_area = district_key(data["ReceiveArea"])
        result = {key: text_of(data.get(key)) for key in required + ["SendAddress", "ReceiveAddress"]}
        result.update(
            {
                "ShipperCode": text_of(data["ShipperCode"]).upper(),
                "Hour": f"{hours}h",
                "DeliveryDate": arrival.strftime(DATE_FORMAT),
                "DeliveryTime": f"{arrival:%m月%d日}{'上午' if arrival.hour < 12 else '下午'}可达",
                "PredictPath": f"{send_city}转运中心->{receive_city}转运中心->{receive_city}{receive_area}网点",
                "DeliveryMemo": "",
            }
        )
        if waybill and waybill["traces"]:
            result.update(self._latest_position(waybill))
        return {"Success": True, "Reason": "", "Data": result}

    @staticmethod
    def _latest_position(waybill):
        last = waybill["traces"][-1]
        at_receiver = last["Location"] == text_of(waybill["receiver"].get("CityName"))
        party = waybill["receiver"] if at_receiver else waybill["sender"]
        return {
            "LogisticCode": waybill["logistic_code"],
            "LatestStation": last["AcceptStation"],
            "LatestProvince": text_of(party.get("ProvinceName")),
            "LatestCity": last["Location"],
            "LatestArea": text_of(party.get("ExpAreaName")),
        }

    # ------------------------------------------------------------------ push delivery

    def push_now(self):
        """Deliver every queued push (retries included, whatever their due time) once, synchronously."""
        return self._deliver(self._take_jobs(due_only=False))

    def _push_loop(self):
        while not self._stopping.wait(0.2):
            if self.auto_push:
                self._deliver(self._take_jobs(due_only=True))

    def _take_jobs(self, due_only):
        with self._lock:
            jobs = []
            for (ebusiness_id, tier), numbers in self._pending_tracks.items():
                jobs += _batches(ebusiness_id, tier, numbers)
            for ebusiness_id, items in self._pending_pickups.items():
                jobs += _batches(ebusiness_id, "103", items)
            self._pending_tracks, self._pending_pickups = {}, {}
            moment = time.monotonic()
            due = [job for job in self._retries if not due_only or job["due"] <= moment]
            self._retries = [job for job in self._retries if job not in due]
            return due + jobs

    def _deliver(self, jobs):
        results = []
        for job in jobs:
            results += self._deliver_job(job)
        return results

    def _deliver_job(self, job):
        with self._lock:
            url = self.push_urls.get(job["ebusiness_id"])
            api_key = self.accounts.get(job["ebusiness_id"], "")
            data = self._push_payload(job)
            if not url or not data["Data"]:
                return []
            request_data = compact_json(data)
            sign = data_sign(request_data, api_key)
            if self.tamper_next_push:
                self.tamper_next_push = False
                sign = data_sign(request_data, api_key + "-tampered")
            copies = 2 if self.duplicate_pushes else 1
        results = [self._post_push(url, job, request_data, sign) for _ in range(copies)]
        accepted = any(result["accepted"] for result in results)
        with self._lock:
            if accepted:
                self._mark_terminal_accepted(job)
            elif job["attempt"] <= len(self.push_retry_delays):
                delay = self.push_retry_delays[job["attempt"] - 1]
                self._retries.append(dict(job, attempt=job["attempt"] + 1, due=time.monotonic() + delay))
        return results

    def _push_payload(self, job):
        ebusiness_id = job["ebusiness_id"]
        if job["request_type"] == "103":
            items = list(job["items"])
        else:
            items = [
                self._track_push_item(ebusiness_id, number, job["request_type"])
                for number in job["items"]
                if self._push_visible(ebusiness_id, number)
            ]
        return {"EBusinessID": ebusiness_id, "PushTime": fmt_time(self._now), "Count": str(len(items)), "Data": items}

    def _post_push(self, url, job, request_data, sign):
        form = urllib.parse.urlencode(
            {"RequestData": request_data, "RequestType": job["request_type"], "DataSign": sign,
             "EBusinessID": job["ebusiness_id"], "DataType": "2"}
        ).encode("utf-8")
        request = urllib.request.Request(
            url, data=form, headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}, method="POST"
        )
        status, reply = None, ""
        try:
            with urllib.request.urlopen(request, timeout=self.push_timeout) as response:
                status, reply = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, reply = error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            reply = f"{type(error).__name__}: {error}"
        accepted = status == 200 and _reply_success(reply)
        entry = {
            "url": url, "request_type": job["request_type"], "request_data": request_data, "data_sign": sign,
            "status": status, "reply": reply, "accepted": accepted, "attempt": job["attempt"],
            "ebusiness_id": job["ebusiness_id"], "time": fmt_time(self._now),
        }
        with self._lock:
            self.push_log.append(entry)
        count = json.loads(request_data)["Count"]
        return {"url": url, "status": status, "accepted": accepted, "attempt": job["attempt"],
                "request_type": job["request_type"], "count": int(count)}

    def _mark_terminal_accepted(self, job):
        if job["request_type"] == "103":
            return
        for number in job["items"]:
            subscription = self.subscriptions.get((job["ebusiness_id"], number))
            if subscription and self.waybills[number]["state_ex"] in self.terminal_states:
                subscription["terminal_accepted"] = True

    # ------------------------------------------------------------------ HTTP controls (/__sim__/...)

    def handle_control(self, method, path, body):
        """(HTTP status, JSON-able answer) for the /__sim__ endpoints."""
        name = path[len("/__sim__/") :].strip("/")
        try:
            args = json.loads(body or "{}") if method == "POST" else {}
            if not isinstance(args, dict):
                raise ValueError("a JSON object is expected")
            return 200, self._control(method, name, args)
        except KeyError as error:
            return 404, {"error": f"not found: {error}"}
        except (ValueError, TypeError) as error:
            return 400, {"error": str(error)}

    def _control(self, method, name, args):
        if method == "GET":
            views = {
                "requests": lambda: self.requests,
                "waybills": lambda: self.waybills,
                "pickups": lambda: self.pickups,
                "push_log": lambda: self.push_log,
                "now": lambda: {"now": fmt_time(self._now)},
            }
            if name not in views:
                raise KeyError(name)
            with self._lock:
                return json.loads(json.dumps(views[name](), ensure_ascii=False, default=str))
        if name == "advance":
            return {"now": fmt_time(self.advance(float(args.get("hours", 0))))}
        if name == "scenario":
            self.set_scenario(args["logistic_code"], args["scenario"])
            return {"ok": True}
        if name == "fault":
            count, seconds = int(args.get("count", 1)), float(args.get("seconds", 0))
            self.inject(args["fault"], args.get("request_type"), count, seconds)
            return {"ok": True}
        if name == "push_now":
            return {"results": self.push_now()}
        if name == "settings":
            return self._settings(args)
        raise KeyError(name)

    def _settings(self, args):
        for key, value in args.items():
            if key not in SETTINGS:
                raise ValueError(f"unknown setting {key!r}")
            if key == "default_scenario" and value not in SCENARIOS:
                raise ValueError(f"unknown scenario {value!r}")
            setattr(self, key, value)
        return {key: getattr(self, key) for key in SETTINGS}


def _batches(ebusiness_id, request_type, items):
    return [
        {"ebusiness_id": ebusiness_id, "request_type": request_type, "items": items[start : start + MAX_PUSH_ITEMS],
         "attempt": 1}
        for start in range(0, len(items), MAX_PUSH_ITEMS)
    ]


def _reply_success(reply):
    try:
        answer = json.loads(reply)
    except ValueError:
        return False
    success = answer.get("Success") if isinstance(answer, dict) else None
    return success is True or str(success).lower() == "true"


# ---------------------------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128  # bursts of parallel clients (batch issuing) must not be reset


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - keep the console quiet
        pass

    @property
    def simulator(self):
        return self.server.simulator

    def _path(self):
        return urllib.parse.urlsplit(self.path).path

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def do_GET(self):
        path = self._path()
        if path.startswith("/__sim__/"):
            self._send_json(*self.simulator.handle_control("GET", path, ""))
        else:
            reason = "仅支持POST请求 (POST a form with RequestData, EBusinessID, RequestType, DataSign)"
            now = fmt_time(self.simulator.now)
            self._send_json(200, {"simulator": "KDNiao", "now": now, "Success": False, "Reason": reason})

    def do_POST(self):
        path, body = self._path(), self._body()
        if path.startswith("/__sim__/"):
            self._send_json(*self.simulator.handle_control("POST", path, body))
            return
        status, content_type, payload, delay = self.simulator.handle_api(path, body)
        if delay:
            time.sleep(delay)
        self._send(status, content_type, payload)

    def _send_json(self, status, answer):
        self._send(status, "application/json;charset=utf-8", json.dumps(answer, ensure_ascii=False).encode("utf-8"))

    def _send(self, status, content_type, payload):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the caller gave up (a timeout fault): exactly what the fault is for
