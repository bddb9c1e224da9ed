"""The shop-platform simulators behave like the open platforms described in
/work/shared/reference/platform-apis.md, over real HTTP on loopback.

Signatures, push checks and decryptions are computed here independently, from the reference's text
and worked examples; the simulator code is only driven, never reused.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
import websocket
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.push_receiver import Receiver
from tests.simulators.platforms import SIMULATORS, make_simulator

BEIJING = timezone(timedelta(hours=8))
START = datetime(2026, 11, 11, 0, 30)  # naive = Beijing time, as the simulators read it
WORKED_EXAMPLE_TIME = datetime(2024, 5, 1, 10, 0)  # 1714528800, the reference's examples
WINDOW = timedelta(minutes=25)  # generated orders fall in the last 20 minutes


# --------------------------------------------------------------------------- signatures after the reference


def md5_hex(text):
    return hashlib.md5(text.encode()).hexdigest()


def kv_concat(params):
    return "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, ""))


def top_sign(params, secret):
    text = kv_concat(params)
    method = params.get("sign_method", "md5")
    if method == "md5":
        return md5_hex(secret + text + secret).upper()
    digest = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(secret.encode(), text.encode(), digest).hexdigest().upper()


def wrapped_md5(params, secret):
    return md5_hex(secret + kv_concat(params) + secret).upper()


def douyin_sign(secret, app_key, method, param_json, timestamp, sign_method="md5"):
    text = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2{secret}"
    if sign_method == "md5":
        return md5_hex(text)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def ks_sign(params, sign_secret):
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign") + "&signSecret=" + sign_secret
    if params["signMethod"] == "HMAC_SHA256":
        return base64.b64encode(hmac.new(sign_secret.encode(), text.encode(), hashlib.sha256).digest()).decode()
    return md5_hex(text)


def b64_hmac(secret, raw):
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def aes_cbc_decrypt(key, iv, data):
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    raw = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(raw) + unpadder.finalize()).decode()


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def bj_text(moment):
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def test_reference_worked_examples_reproduce_with_the_test_signers():
    top = dict(method="taobao.trades.sold.increment.get", app_key="12345678",
               session="6100e23657fb0b2d0c78a1a0b1c2d3e4f5", timestamp="2024-05-01 10:00:00", format="json", v="2.0",
               fields="tid,status,payment,modified", start_modified="2024-05-01 09:00:00",
               end_modified="2024-05-01 09:30:00", page_no="1", page_size="50", use_has_next="true")
    assert top_sign({**top, "sign_method": "md5"}, "helloworld") == "B94C20E85B6B56AFEBB1D2A0EDFC00A7"
    assert top_sign({**top, "sign_method": "hmac"}, "helloworld") == "5112A185A36A0932EF3C851422FECCC2"
    assert top_sign({**top, "sign_method": "hmac-sha256"}, "helloworld") == (
        "BDE3C76C7C14ABD4C5DEC303A10F9E45E1BEFDEF3AB5529AD0869ED6B8E094E8")
    assert b64_hmac("shpss_demo_secret", b'{"id":820982911946154508,"name":"#1001","financial_status":"paid"}') == (
        "KX+V20EjrvTn5mPCf9Lpl6eVt8ERGfU8HX5SmIWUMmQ=")
    assert b64_hmac("wc_demo_webhook_secret", b'{"id":727,"status":"processing","number":"727"}') == (
        "qRR3bsTD33ZsNSSYuDvh+gDKE4K63d/f0frgJh8BY7M=")
    youzan_body = ('{"client_id":"yz_demo_client","id":"E20240501100000000000001","kdt_id":12345,'
                   '"status":"WAIT_SELLER_SEND_GOODS","type":"trade_TradePaid",'
                   '"msg":"%7B%22tid%22%3A%22E20240501100000000000001%22%7D","version":1714528800}')
    assert md5_hex("yz_demo_client" + youzan_body + "yz_demo_secret") == "136a69972a83974bab8085d0b5ff762d"


# --------------------------------------------------------------------------- one client per platform

KEEP = object()


class Client:
    """What a connector does against one platform, written from the reference, not from the simulator."""

    code = None
    signs_requests = True
    error_status = 200  # the Chinese gateways answer errors with HTTP 200
    expected = {}
    window_cap = None
    page_size_cap = 100

    def __init__(self, sim):
        self.sim = sim
        self.token = sim.tokens.access_token
        self.refresh_token = sim.tokens.refresh_token

    def now(self):
        return self.sim.now()

    def chosen(self, token):
        """The token a call carries: the client's own unless the test passes another (None = none)."""
        return self.token if token is KEEP else token

    def error(self, response):
        """The platform's error identity for a failed reply, None on success."""
        raise NotImplementedError

    def probe(self, **overrides):
        """A cheap signed, token-bearing order list call."""
        return self.list_call(self.now() - WINDOW, self.now(), None, 10, **overrides)


class TaobaoClient(Client):
    code = "taobao"
    expected = {"sign": 25, "token": 27, "stale": 31, "window": 41, "page_size": 41, "rate_limit": 7}
    window_cap = timedelta(days=1)

    def call(self, method, business=None, secret=None, timestamp=None, token=KEEP, sign_method="md5", timeout=5):
        params = {"method": method, "app_key": self.sim.app_key, "format": "json", "v": "2.0",
                  "timestamp": timestamp or bj_text(self.now()), "sign_method": sign_method, **(business or {})}
        if self.chosen(token):
            params["session"] = self.chosen(token)
        params["sign"] = top_sign(params, secret or self.sim.app_secret)
        return requests.post(self.sim.base_url + "/router/rest", data=params, timeout=timeout)

    def error(self, response):
        return response.json().get("error_response", {}).get("code")

    def list_call(self, start, end, marker, size, **kw):
        return self.call("taobao.trades.sold.increment.get", {
            "fields": "tid,status,modified,payment", "start_modified": bj_text(start), "end_modified": bj_text(end),
            "page_no": marker or 1, "page_size": size, "use_has_next": "true"}, **kw)

    def page(self, response, marker, size):
        body = response.json()["trades_sold_increment_get_response"]
        trades = body.get("trades", {}).get("trade", [])
        return [(str(t["tid"]), t["status"]) for t in trades], (marker or 1) + 1 if body["has_next"] else None

    def ship(self, order_id, waybill):
        response = self.call("taobao.logistics.offline.send", {"tid": order_id, "out_sid": waybill,
                                                               "company_code": "SF"})
        return self.error(response) is None, response

    def refresh(self):
        response = self.call("taobao.top.auth.token.refresh", {"refresh_token": self.refresh_token}, token=None)
        result = json.loads(response.json()["top_auth_token_refresh_response"]["token_result"])
        self.token, self.refresh_token = result["access_token"], result["refresh_token"]


class PinduoduoClient(Client):
    code = "pinduoduo"
    expected = {"sign": 10014, "token": 10019, "stale": 10012, "window": 10000, "page_size": 10000,
                "rate_limit": 70031}
    window_cap = timedelta(minutes=30)

    def call(self, api, business=None, secret=None, timestamp=None, token=KEEP, timeout=5):
        params = {"type": api, "client_id": self.sim.app_key, "data_type": "JSON",
                  "timestamp": str(timestamp or int(self.now().timestamp())), **(business or {})}
        if self.chosen(token):
            params["access_token"] = self.chosen(token)
        params["sign"] = wrapped_md5(params, secret or self.sim.app_secret)
        return requests.post(self.sim.base_url + "/api/router", json=params, timeout=timeout)

    def error(self, response):
        return response.json().get("error_response", {}).get("error_code")

    def list_call(self, start, end, marker, size, **kw):
        return self.call("pdd.order.number.list.increment.get", {
            "start_updated_at": str(int(start.timestamp())), "end_updated_at": str(int(end.timestamp())),
            "order_status": "5", "refund_status": "5", "page": str(marker or 1), "page_size": str(size),
            "use_has_next": "true"}, **kw)

    def page(self, response, marker, size):
        body = response.json()["order_sn_increment_get_response"]
        return [(o["order_sn"], o["order_status"]) for o in body["order_sn_list"]], (
            (marker or 1) + 1 if body["has_next"] else None)

    def ship(self, order_id, waybill):
        response = self.call("pdd.logistics.online.send", {"order_sn": order_id, "logistics_id": "44",
                                                           "tracking_number": waybill})
        return self.error(response) is None, response

    def refresh(self):
        response = self.call("pdd.pop.auth.token.refresh", {"refresh_token": self.refresh_token}, token=None)
        body = response.json()["pop_auth_token_refresh_response"]
        self.token, self.refresh_token = body["access_token"], body["refresh_token"]


class DouyinClient(Client):
    code = "douyin"
    expected = {"sign": (40003, "isv.signature-invalid"), "token": (40003, "isv.access-token-expired"),
                "stale": (40003, "isv.timestamp-invalid"), "window": 40004, "page_size": 40004, "rate_limit": 60000}
    window_cap = timedelta(days=1)

    def call(self, method, business=None, secret=None, timestamp=None, token=KEEP, sign_method="md5", timeout=5):
        param_json = json.dumps(business or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        stamp = str(timestamp or int(self.now().timestamp()))
        query = {"app_key": self.sim.app_key, "method": method, "timestamp": stamp, "v": "2",
                 "sign_method": sign_method,
                 "sign": douyin_sign(secret or self.sim.app_secret, self.sim.app_key, method, param_json, stamp,
                                     sign_method)}
        if self.chosen(token):
            query["access_token"] = self.chosen(token)
        return requests.post(f"{self.sim.base_url}/{method.replace('.', '/')}", params=query,
                             data=param_json.encode(), headers={"Content-Type": "application/json",
                                                                "x-open-no-old-err-code": "1"}, timeout=timeout)

    def error(self, response):
        body = response.json()
        return None if body["code"] == 10000 else (body["code"], body["sub_code"])

    def list_call(self, start, end, marker, size, **kw):
        return self.call("order.searchList", {"update_time_start": int(start.timestamp()),
                                              "update_time_end": int(end.timestamp()), "order_by": "update_time",
                                              "page": marker or 0, "size": size}, **kw)

    def page(self, response, marker, size):
        data = response.json()["data"]
        more = (data["page"] + 1) * data["size"] < data["total"]
        return [(o["order_id"], o["order_status"]) for o in data["shop_order_list"]], (
            data["page"] + 1 if more else None)

    def ship(self, order_id, waybill):
        response = self.call("order.logisticsAdd", {"order_id": order_id, "company_code": "shunfeng",
                                                    "logistics_code": waybill})
        return self.error(response) is None, response

    def refresh(self):
        response = self.call("token.refresh", {"grant_type": "refresh_token", "refresh_token": self.refresh_token},
                             token=None)
        data = response.json()["data"]
        self.token, self.refresh_token = data["access_token"], data["refresh_token"]


class JdClient(Client):
    code = "jd"
    expected = {"sign": "12", "token": "19", "stale": "67", "window": "business", "page_size": "business",
                "rate_limit": "66"}
    window_cap = timedelta(days=30)
    page_size_cap = 50
    STATES = "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,LOCKED"

    def call(self, method, business=None, secret=None, timestamp=None, token=KEEP, timeout=5, raw_json=None):
        params = {"method": method, "app_key": self.sim.app_key, "timestamp": timestamp or bj_text(self.now()),
                  "v": "2.0", "360buy_param_json": raw_json or compact(business or {})}
        if self.chosen(token):
            params["access_token"] = self.chosen(token)
        params["sign"] = wrapped_md5(params, secret or self.sim.app_secret)
        return requests.post(self.sim.base_url + "/routerjson", data=params, timeout=timeout)

    def error(self, response):
        body = response.json()
        if "error_response" in body:
            return body["error_response"]["code"]
        wrapper = next(iter(body.values()))
        result = next(value for key, value in wrapper.items() if key != "code")
        return None if result.get("apiResult", result).get("success") else "business"

    def list_call(self, start, end, marker, size, **kw):
        return self.call("jingdong.pop.order.search", {
            "start_date": bj_text(start), "end_date": bj_text(end), "order_state": self.STATES,
            "page": str(marker or 1), "page_size": str(size), "dateType": "0"}, **kw)

    def page(self, response, marker, size):
        result = response.json()["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
        more = (marker or 1) * size < result["orderTotal"]
        return [(o["orderId"], o["orderState"]) for o in result["orderInfoList"]], (marker or 1) + 1 if more else None

    def ship(self, order_id, waybill):
        response = self.call("jingdong.pop.order.shipment", {"orderId": order_id, "logiCoprId": "467",
                                                             "logiNo": waybill})
        return self.error(response) is None, response

    def refresh(self):
        response = requests.get(self.sim.base_url + "/oauth2/refresh_token", params={
            "app_key": self.sim.app_key, "app_secret": self.sim.app_secret, "grant_type": "refresh_token",
            "refresh_token": self.refresh_token}, timeout=5)
        self.token, self.refresh_token = response.json()["access_token"], response.json()["refresh_token"]


class KuaishouClient(Client):
    code = "kuaishou"
    expected = {"sign": 27, "token": 28, "stale": 25, "window": (2001, "300004"), "page_size": 2001,
                "rate_limit": 29}
    window_cap = timedelta(days=7)

    def call(self, method, business=None, secret=None, timestamp=None, token=KEEP, sign_method="MD5", timeout=5):
        params = {"appkey": self.sim.app_key, "method": method, "version": "1", "param": compact(business or {}),
                  "timestamp": str(timestamp or int(self.now().timestamp() * 1000)), "signMethod": sign_method}
        if self.chosen(token):
            params["access_token"] = self.chosen(token)
        params["sign"] = ks_sign(params, secret or self.sim.sign_secret)
        return requests.post(f"{self.sim.base_url}/{method.replace('.', '/')}", data=params, timeout=timeout)

    def error(self, response):
        body = response.json()
        return None if body["result"] == 1 else (body["result"], body.get("subCode"))

    def list_call(self, start, end, marker, size, **kw):
        return self.call("open.order.cursor.list", {
            "beginTime": int(start.timestamp() * 1000), "endTime": int(end.timestamp() * 1000), "pageSize": size,
            "queryType": 2, "orderViewStatus": 1, "cursor": marker or ""}, **kw)

    def page(self, response, marker, size):
        data = response.json()["data"]
        orders = [(str(o["orderBaseInfo"]["oid"]), o["orderBaseInfo"]["status"]) for o in data["orderList"]]
        return orders, None if data["cursor"] == "nomore" else data["cursor"]

    def ship(self, order_id, waybill):
        response = self.call("open.seller.order.goods.deliver", {"orderId": int(order_id), "expressNo": waybill,
                                                                 "expressCode": 4})
        return self.error(response) is None, response

    def refresh(self):
        response = requests.post(self.sim.base_url + "/oauth2/refresh_token", data={
            "grant_type": "refresh_token", "refresh_token": self.refresh_token, "app_id": self.sim.app_key,
            "app_secret": self.sim.app_secret}, timeout=5)
        assert response.json()["result"] == 1
        self.token, self.refresh_token = response.json()["access_token"], response.json()["refresh_token"]


class YouzanClient(Client):
    code = "youzan"
    signs_requests = False
    expected = {"token": 4201, "window": "business", "page_size": "business", "rate_limit": 4291}
    window_cap = timedelta(days=31)
    VERSIONS = {"youzan.trades.sold.get": "4.0.4", "youzan.trade.get": "4.0.4",
                "youzan.logistics.online.confirm": "3.0.0", "youzan.cloud.secret.decrypt.single": "1.0.0"}

    def call(self, api, business=None, token=KEEP, timeout=5, **_):
        query = {"access_token": self.chosen(token)}
        return requests.post(f"{self.sim.base_url}/api/{api}/{self.VERSIONS[api]}", params=query,
                             json=business or {}, timeout=timeout)

    def error(self, response):
        body = response.json()
        if "gw_err_resp" in body:
            return body["gw_err_resp"]["err_code"]
        return None if body.get("success") else "business"

    def list_call(self, start, end, marker, size, **kw):
        return self.call("youzan.trades.sold.get", {"start_update": bj_text(start), "end_update": bj_text(end),
                                                    "page_no": marker or 1, "page_size": size}, **kw)

    def page(self, response, marker, size):
        data = response.json()["data"]
        orders = [(o["full_order_info"]["order_info"]["tid"], o["full_order_info"]["order_info"]["status"])
                  for o in data["full_order_info_list"]]
        more = (marker or 1) * size < data["total_results"]
        return orders, (marker or 1) + 1 if more else None

    def ship(self, order_id, waybill):
        response = self.call("youzan.logistics.online.confirm", {"tid": order_id, "out_stype": 7, "out_sid": waybill})
        return self.error(response) is None, response

    def refresh(self):
        response = requests.post(self.sim.base_url + "/auth/token", json={
            "client_id": self.sim.app_key, "client_secret": self.sim.app_secret, "authorize_type": "refresh_token",
            "refresh_token": self.refresh_token}, timeout=5)
        data = response.json()["data"]
        self.token, self.refresh_token = data["access_token"], data["refresh_token"]


class ShopifyClient(Client):
    code = "shopify"
    signs_requests = False
    error_status = None
    expected = {"token": 401, "page_size": 400, "rate_limit": 429}
    page_size_cap = 250

    def call(self, path, query=None, method="GET", body=None, token=KEEP, timeout=5, **_):
        headers = {"X-Shopify-Access-Token": self.chosen(token)}
        url = path if path.startswith("http") else f"{self.sim.base_url}/admin/api/2025-07/{path}"
        return requests.request(method, url, params=query, json=body, headers=headers, timeout=timeout)

    def error(self, response):
        return None if response.status_code < 400 else response.status_code

    def list_call(self, start, end, marker, size, **kw):
        if marker:
            return self.call(marker, **kw)
        return self.call("orders.json", {"status": "any", "updated_at_min": start.isoformat(),
                                         "updated_at_max": end.isoformat(), "limit": size}, **kw)

    def page(self, response, marker, size):
        orders = [(str(o["id"]), o["financial_status"]) for o in response.json()["orders"]]
        return orders, response.links.get("next", {}).get("url")

    def ship(self, order_id, waybill):
        fulfillment_order = self.call(f"orders/{order_id}/fulfillment_orders.json").json()["fulfillment_orders"][0]
        response = self.call("fulfillments.json", method="POST", body={"fulfillment": {
            "line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"]}],
            "tracking_info": {"number": waybill, "company": "SF Express"}, "notify_customer": False}})
        return response.status_code == 201, response

    def refresh(self):
        response = requests.post(self.sim.base_url + "/admin/oauth/access_token", json={
            "client_id": self.sim.app_key, "client_secret": self.sim.app_secret, "grant_type": "refresh_token",
            "refresh_token": self.refresh_token}, timeout=5)
        self.token, self.refresh_token = response.json()["access_token"], response.json()["refresh_token"]


class WooClient(Client):
    code = "woocommerce"
    error_status = None
    expected = {"sign": 401, "token": 401, "page_size": 400, "rate_limit": 429}

    def __init__(self, sim):
        super().__init__(sim)
        self.keys = (sim.app_key, sim.app_secret)

    def call(self, path, query=None, method="GET", body=None, secret=None, timeout=5, **_):
        auth = (self.keys[0], secret or self.keys[1])
        url = path if path.startswith("http") else f"{self.sim.base_url}/wp-json/wc/v3/{path}"
        return requests.request(method, url, params=query, json=body, auth=auth, timeout=timeout)

    def error(self, response):
        return None if response.status_code < 400 else response.status_code

    def list_call(self, start, end, marker, size, **kw):
        if marker:
            return self.call(marker, **kw)
        def local(moment):  # site time (Asia/Shanghai), bounds exclusive
            return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M:%S")

        return self.call("orders", {"modified_after": local(start - timedelta(seconds=1)),
                                    "modified_before": local(end + timedelta(seconds=1)),
                                    "per_page": size, "orderby": "modified", "order": "asc"}, **kw)

    def page(self, response, marker, size):
        return [(str(o["id"]), o["status"]) for o in response.json()], response.links.get("next", {}).get("url")

    def ship(self, order_id, waybill):
        response = requests.post(f"{self.sim.base_url}/wp-json/wc-shipment-tracking/v3/orders/{order_id}"
                                 "/shipment-trackings", json={"tracking_provider": "SF Express",
                                                              "tracking_number": waybill}, auth=self.keys, timeout=5)
        return response.status_code == 201, response

    def refresh(self):
        self.keys = self.sim.regenerate_keys()


CLIENTS = {client.code: client for client in (TaobaoClient, PinduoduoClient, DouyinClient, JdClient, KuaishouClient,
                                               YouzanClient, ShopifyClient, WooClient)}
SIGNING = [code for code, client in CLIENTS.items() if client.signs_requests]
WINDOWED = [code for code, client in CLIENTS.items() if client.window_cap]
REFUSING_SHIP_AGAIN = [code for code in CLIENTS if code != "woocommerce"]


@pytest.fixture
def started():
    """started(code, **kwargs) → (simulator, client); every simulator is stopped afterwards."""
    running = []

    def start(code, **kwargs):
        sim = make_simulator(code, **{"start_time": START, **kwargs}).start()
        running.append(sim)
        return sim, CLIENTS[code](sim)

    yield start
    for sim in running:
        sim.stop()


def assert_error(client, response, kind):
    expected = client.expected[kind]
    if client.error_status is not None:
        assert response.status_code == client.error_status, response.text
    actual = client.error(response)
    if isinstance(expected, tuple):
        assert actual == expected, response.text
    else:
        assert (actual[0] if isinstance(actual, tuple) else actual) == expected, response.text


def native_id(code, order):
    if code == "kuaishou":
        return str(order["orderBaseInfo"]["oid"])
    if code == "youzan":
        return order["order_info"]["tid"]
    key = {"taobao": "tid", "pinduoduo": "order_sn", "douyin": "order_id", "jd": "orderId"}.get(code, "id")
    return str(order[key])


def all_pages(client, start, end, size):
    seen, marker = [], None
    for _ in range(100):
        response = client.list_call(start, end, marker, size)
        assert client.error(response) is None, response.text
        orders, marker = client.page(response, marker, size)
        seen.extend(orders)
        if marker is None:
            return seen
    raise AssertionError("pagination never ended")


# --------------------------------------------------------------------------- behaviour every platform shares


def test_every_platform_has_a_simulator():
    assert set(SIMULATORS) == set(CLIENTS) | {"tmall"}


@pytest.mark.parametrize("code", list(CLIENTS))
def test_signed_call_with_a_valid_token_succeeds(started, code):
    sim, client = started(code)
    sim.generate_orders(3, seed=1)
    response = client.probe()
    assert response.status_code == 200 and client.error(response) is None, response.text
    assert len(client.page(response, None, 10)[0]) == 3


@pytest.mark.parametrize("code", SIGNING)
def test_call_signed_with_a_wrong_secret_is_rejected(started, code):
    _, client = started(code)
    assert client.error(client.probe()) is None
    assert_error(client, client.probe(secret="not-the-secret"), "sign")


@pytest.mark.parametrize("code", [c for c in SIGNING if c != "woocommerce"])
def test_stale_timestamp_is_rejected(started, code):
    _, client = started(code)
    stale = client.now() - timedelta(minutes=11)
    stamp = {"taobao": bj_text(stale), "jd": bj_text(stale), "kuaishou": int(stale.timestamp() * 1000)}.get(
        code, int(stale.timestamp()))
    assert_error(client, client.probe(timestamp=stamp), "stale")


@pytest.mark.parametrize("code", list(CLIENTS))
def test_expired_token_fails_until_refreshed(started, code):
    sim, client = started(code)
    sim.expire_token()
    assert_error(client, client.probe(), "token")
    old = client.keys if code == "woocommerce" else client.token
    client.refresh()
    assert client.error(client.probe()) is None
    if code != "woocommerce":
        assert client.token != old
        assert_error(client, client.probe(token=old), "token")


@pytest.mark.parametrize("code", WINDOWED)
def test_time_window_over_the_limit_is_refused(started, code):
    _, client = started(code)
    end = client.now()
    assert client.error(client.list_call(end - client.window_cap, end, None, 10)) is None
    assert_error(client, client.list_call(end - client.window_cap - timedelta(minutes=1), end, None, 10), "window")


@pytest.mark.parametrize("code", list(CLIENTS))
def test_page_size_over_the_limit_is_refused(started, code):
    _, client = started(code)
    now = client.now()
    assert client.error(client.list_call(now - WINDOW, now, None, client.page_size_cap)) is None
    assert_error(client, client.list_call(now - WINDOW, now, None, client.page_size_cap + 1), "page_size")


@pytest.mark.parametrize("code", list(CLIENTS))
def test_paging_returns_every_generated_order_exactly_once(started, code):
    sim, client = started(code)
    generated = {native_id(code, order) for order in sim.generate_orders(23, seed=7)}
    ids = [order_id for order_id, _ in all_pages(client, client.now() - WINDOW, client.now(), 5)]
    assert len(generated) == 23
    assert sorted(ids) == sorted(generated)


@pytest.mark.parametrize("code", list(CLIENTS))
def test_status_change_shows_in_the_next_window_with_the_new_modified_time(started, code):
    sim, client = started(code)
    orders = sim.generate_orders(4, seed=3)
    changed = native_id(code, orders[2])
    sim.advance(5)
    sim.update_order(changed, status="shipped")
    sim.advance(1)
    later = all_pages(client, client.now() - timedelta(minutes=3), client.now(), 10)
    shipped_value = {"taobao": "WAIT_BUYER_CONFIRM_GOODS", "pinduoduo": 2, "douyin": 3,
                     "jd": "WAIT_GOODS_RECEIVE_CONFIRM", "kuaishou": 40, "youzan": "WAIT_BUYER_CONFIRM_GOODS",
                     "shopify": "paid", "woocommerce": "completed"}[code]
    assert later == [(changed, shipped_value)]
    earlier = all_pages(client, client.now() - timedelta(minutes=29), client.now() - timedelta(minutes=4), 10)
    assert changed not in [order_id for order_id, _ in earlier] and len(earlier) == 3


@pytest.mark.parametrize("code", REFUSING_SHIP_AGAIN)
def test_ship_back_is_recorded_and_shipping_again_or_a_cancelled_order_is_refused(started, code):
    sim, client = started(code)
    orders = [native_id(code, order) for order in sim.generate_orders(2, seed=4)]
    ok, response = client.ship(orders[0], "SF1234567890123")
    assert ok, response.text
    assert [(s["platform_order_id"], s["waybill"]) for s in sim.shipments] == [(orders[0], "SF1234567890123")]
    again, response = client.ship(orders[0], "SF1234567890999")
    assert not again, response.text
    sim.update_order(orders[1], status="cancelled")
    cancelled, response = client.ship(orders[1], "SF1234567890555")
    assert not cancelled, response.text
    assert len(sim.shipments) == 1


def test_woocommerce_records_every_ship_back_and_never_refuses_like_a_real_shop(started):
    sim, client = started("woocommerce")
    order_id = native_id("woocommerce", sim.generate_orders(1, seed=4)[0])
    assert client.ship(order_id, "SF1234567890123")[0]
    completed = client.call(f"orders/{order_id}", method="PUT", body={"status": "completed"})
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert client.call(f"orders/{order_id}", method="PUT", body={"status": "completed"}).status_code == 200
    assert [s["waybill"] for s in sim.shipments] == ["SF1234567890123", None, None]


@pytest.mark.parametrize("code", list(CLIENTS))
def test_injected_faults_behave_as_announced_then_clear(started, code):
    sim, client = started(code)
    sim.generate_orders(2, seed=5)

    sim.inject("http500")
    assert client.probe().status_code == 500
    sim.inject("garbage")
    garbled = client.probe()
    assert garbled.status_code == 200
    with pytest.raises(ValueError):
        json.loads(garbled.content)
    sim.inject("rate_limit")
    assert_error(client, client.probe(), "rate_limit")
    sim.inject("token_expired")
    assert_error(client, client.probe(), "token")
    sim.inject("latency", seconds=0.4)
    began = time.monotonic()
    assert client.error(client.probe()) is None and time.monotonic() - began >= 0.4
    sim.inject("timeout", seconds=1.0)
    with pytest.raises(requests.exceptions.RequestException):
        client.probe(timeout=0.3)
    assert client.error(client.probe()) is None


def test_fault_targets_only_the_named_method_and_counts_down(started):
    sim, client = started("taobao")
    order_id = native_id("taobao", sim.generate_orders(1, seed=5)[0])
    sim.inject("http500", "taobao.logistics.offline.send", count=2)

    def ship():
        return client.call("taobao.logistics.offline.send", {"tid": order_id, "out_sid": "SF1", "company_code": "SF"})

    assert client.error(client.probe()) is None
    assert [ship().status_code, ship().status_code] == [500, 500]
    assert client.error(ship()) is None


@pytest.mark.parametrize("code", list(CLIENTS))
def test_requests_are_recorded_with_params_and_response(started, code):
    sim, client = started(code)
    client.probe()
    last = sim.requests[-1]
    assert set(last) == {"method", "path", "params", "headers", "body", "response_status", "response"}
    assert last["response_status"] == 200 and last["response"] is not None


# --------------------------------------------------------------------------- a push receiver



@pytest.fixture
def receiver():
    made = []

    def make(answer=(200, b'{"code":0,"msg":"success"}')):
        made.append(Receiver(answer))
        return made[-1]

    yield make
    for item in made:
        item.close()


def header(headers, name):
    return next(value for key, value in headers.items() if key.lower() == name.lower())


def push_twice(sim, order_id, event):
    """One honest push and one tampered push; the receiver's two (headers, body) records."""
    assert sim.push(order_id, event)[0] == 200
    sim.tamper_next_push = True
    sim.push(order_id, event)


def test_douyin_push_carries_a_verifiable_event_sign(started, receiver):
    inbox = receiver()
    sim, _ = started("douyin", webhook_url=inbox.url)
    order_id = native_id("douyin", sim.generate_orders(1, seed=1)[0])
    push_twice(sim, order_id, "paid")
    (headers, body), (bad_headers, bad_body) = inbox.received
    assert header(headers, "app-id") == sim.app_key
    assert header(headers, "event-sign") == md5_hex(sim.app_key + body.decode() + sim.app_secret)
    assert header(bad_headers, "event-sign") != md5_hex(sim.app_key + bad_body.decode() + sim.app_secret)
    message = json.loads(body)[0]
    assert message["tag"] == "101"
    data = json.loads(message["data"])
    assert str(data["p_id"]) == order_id and data["pay_amount"] == sim.orders[order_id]["pay_amount"]


def test_youzan_push_carries_a_verifiable_event_sign_and_url_encoded_msg(started, receiver):
    inbox = receiver()
    sim, _ = started("youzan", webhook_url=inbox.url)
    order_id = native_id("youzan", sim.generate_orders(1, seed=1)[0])
    push_twice(sim, order_id, "paid")
    (headers, body), (bad_headers, bad_body) = inbox.received
    assert header(headers, "Event-Sign") == md5_hex(sim.app_key + body.decode() + sim.app_secret)
    assert header(bad_headers, "Event-Sign") != md5_hex(sim.app_key + bad_body.decode() + sim.app_secret)
    assert header(headers, "Event-Type") == "trade_TradePaid" and header(headers, "Client-Id") == sim.app_key
    push = json.loads(body)
    assert push["id"] == order_id and json.loads(urllib.parse.unquote(push["msg"]))["tid"] == order_id


def test_youzan_encrypted_msg_decrypts_with_the_documented_key_and_iv(started, receiver):
    inbox = receiver()
    sim, _ = started("youzan", webhook_url=inbox.url, app_secret="yz_demo_secret_0123456789",
                     encrypt_push_msg=True)
    order_id = native_id("youzan", sim.generate_orders(1, seed=1)[0])
    sim.push(order_id, "paid")
    msg = json.loads(inbox.received[0][1])["msg"]
    plain = aes_cbc_decrypt(b"yz_demo_secret_0", b"0102030405060708", base64.b64decode(urllib.parse.unquote(msg)))
    assert json.loads(plain)["tid"] == order_id


def kuaishou_decrypt(body, key_b64):
    return json.loads(aes_cbc_decrypt(base64.b64decode(key_b64), bytes(16), base64.b64decode(body)))


def test_kuaishou_push_decrypts_with_the_message_key_and_a_tampered_one_does_not(started, receiver):
    reference_vector = (
        "BbHJ+FYuYH7j999g8LifCXHwsHx1oHCAFCfLr2U3Xxyjubc926vmKh1kyOicC5j7aS6XYLTLzk7914J+9jMTMKAMBgFFTXN2XFa+QFqv7Ah1E"
        "Le83fYp329VzCvm7Jhj4VK2TSvqkGQddo5N1ZOSjLe2Bx33kFefTewx05HpTklpRL7zSzQbpsMZ0R0qOQSAl/6gcVSuT7rGpxXslCCJHHltm"
        "XQzIe2CJsXC780gl2dAbpKkEKvpL2mheI1LzidwfrlTwaYON9CgDHTCWs3ArNZWX+XU5UkFTTOPvPPO7T/gBEFZd/wyYSonb9erm+wO")
    assert kuaishou_decrypt(reference_vector, "AAECAwQFBgcICQoLDA0ODw==")[0]["bizId"] == 2015600256209850
    inbox = receiver((200, b'{"result":1}'))
    sim, _ = started("kuaishou", webhook_url=inbox.url, message_key="AAECAwQFBgcICQoLDA0ODw==")
    order_id = native_id("kuaishou", sim.generate_orders(1, seed=1)[0])
    push_twice(sim, order_id, "paid")
    (_, body), (_, bad_body) = inbox.received
    events = kuaishou_decrypt(body, "AAECAwQFBgcICQoLDA0ODw==")
    assert events[0]["event"] == "kwaishop_order_paySuccess" and str(events[0]["bizId"]) == order_id
    assert json.loads(events[0]["info"])["oid"] == int(order_id)
    with pytest.raises(ValueError):  # bad padding or bytes that are not JSON
        kuaishou_decrypt(bad_body, "AAECAwQFBgcICQoLDA0ODw==")


def test_kuaishou_retries_a_refused_push_on_its_schedule_and_probes_with_test_flag(started, receiver):
    inbox = receiver((200, b'{"result":0}'))
    sim, _ = started("kuaishou", webhook_url=inbox.url, message_key="AAECAwQFBgcICQoLDA0ODw==")
    order_id = native_id("kuaishou", sim.generate_orders(1, seed=1)[0])
    sim.push(order_id, "paid")
    sim.advance(4)
    assert len(inbox.received) == 1
    inbox.answer = (200, b'{"result":1}')
    sim.advance(1)
    assert len(inbox.received) == 2 and inbox.received[1][1] == inbox.received[0][1]
    sim.advance(60)
    assert len(inbox.received) == 2
    sim.push_test()
    assert kuaishou_decrypt(inbox.received[2][1], "AAECAwQFBgcICQoLDA0ODw==")[0]["test"] is True


@pytest.mark.parametrize("code,signature_header,secret_option", [
    ("shopify", "X-Shopify-Hmac-Sha256", None), ("woocommerce", "X-WC-Webhook-Signature", "webhook_secret")])
def test_webhook_hmac_verifies_and_a_tampered_one_does_not(started, receiver, code, signature_header, secret_option):
    inbox = receiver((200, b""))
    options = {secret_option: "wc_demo_webhook_secret"} if secret_option else {}
    sim, _ = started(code, webhook_url=inbox.url, **options)
    secret = "wc_demo_webhook_secret" if secret_option else sim.app_secret
    order_id = native_id(code, sim.generate_orders(1, seed=1)[0])
    push_twice(sim, order_id, "paid")
    (headers, body), (bad_headers, bad_body) = inbox.received
    assert header(headers, signature_header) == b64_hmac(secret, body)
    assert header(bad_headers, signature_header) != b64_hmac(secret, bad_body)
    assert str(json.loads(body)["id"]) == order_id


def test_shopify_webhook_headers_and_duplicate_delivery_keep_the_webhook_id(started, receiver):
    inbox = receiver((200, b""))
    sim, _ = started("shopify", webhook_url=inbox.url)
    order_id = native_id("shopify", sim.generate_orders(1, seed=1)[0])
    sim.duplicate_next_push = True
    sim.push(order_id, "paid")
    (first, body), (second, body_again) = inbox.received
    assert header(first, "X-Shopify-Topic") == "orders/paid" and body == body_again
    assert header(first, "X-Shopify-Webhook-Id") == header(second, "X-Shopify-Webhook-Id")
    for name in ("X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Triggered-At", "X-Shopify-Event-Id"):
        assert header(first, name)


def test_woocommerce_webhook_disables_after_five_failures_and_pings_on_creation(started, receiver):
    inbox = receiver((500, b"down"))
    sim, client = started("woocommerce")
    created = client.call("webhooks", method="POST", body={"name": "sync", "topic": "order.updated",
                                                           "delivery_url": inbox.url, "secret": "s3cret"})
    assert created.status_code == 201
    deadline = time.monotonic() + 3
    while not inbox.received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert inbox.received[0][1] == b"webhook_id=1"
    order_id = native_id("woocommerce", sim.generate_orders(1, seed=1)[0])
    for _ in range(5):
        sim.push(order_id, "updated")
    assert header(inbox.received[1][0], "X-WC-Webhook-Topic") == "order.updated"
    assert header(inbox.received[1][0], "X-WC-Webhook-Signature") == b64_hmac("s3cret", inbox.received[1][1])
    assert sim.push(order_id, "updated") == (None, "webhook disabled after repeated failures")
    assert len(inbox.received) == 6


def test_taobao_tmc_messages_are_pulled_confirmed_and_redelivered_when_not_confirmed(started):
    sim, client = started("taobao")
    order_id = native_id("taobao", sim.generate_orders(1, seed=1)[0])
    assert sim.push(order_id, "paid")[1] == {"dropped": "the seller has not been permitted for messages yet"}
    assert client.call("taobao.tmc.user.permit").json()["tmc_user_permit_response"]["is_success"]
    sim.push(order_id, "paid")
    sim.push(order_id, "shipped")
    consumed = client.call("taobao.tmc.messages.consume", {"group_name": "default", "quantity": "10"}, token=None)
    messages = consumed.json()["tmc_messages_consume_response"]["messages"]["tmc_message"]
    assert [m["topic"] for m in messages] == ["taobao_trade_TradeBuyerPay", "taobao_trade_TradeSellerShip"]
    assert json.loads(messages[0]["content"])["tid"] == int(order_id)
    client.call("taobao.tmc.messages.confirm", {"s_message_ids": str(messages[0]["id"])}, token=None)
    again = client.call("taobao.tmc.messages.consume", {"quantity": "10"}, token=None).json()
    assert "messages" not in again["tmc_messages_consume_response"]
    sim.advance(2)
    again = client.call("taobao.tmc.messages.consume", {"quantity": "10"}, token=None).json()
    assert [m["id"] for m in again["tmc_messages_consume_response"]["messages"]["tmc_message"]] == [messages[1]["id"]]


def pdd_ws_path(client_id, ts_ms, secret):
    digest = base64.b64encode(md5_hex(f"{client_id}{ts_ms}{secret}").encode()).decode()
    return f"/message/{client_id}/{ts_ms}/{urllib.parse.quote(digest, safe='')}"


def next_common_frame(connection):
    while True:
        frame = json.loads(connection.recv())
        if frame["commandType"] == "Common":
            return frame
        assert frame["commandType"] == "HeartBeat"


def test_pinduoduo_websocket_checks_the_digest_delivers_and_redelivers_unacked(started):
    assert pdd_ws_path("pdd_demo_client", 1714528800000, "pdd_demo_secret") == (
        "/message/pdd_demo_client/1714528800000/YzNiZWZlZWExZDUyOWJjMTgxZDMxZTZhNTkzZGIzOGM%3D")
    sim, client = started("pinduoduo", start_time=WORKED_EXAMPLE_TIME)
    orders = [native_id("pinduoduo", order) for order in sim.generate_orders(2, seed=1)]
    client.call("pdd.pmc.user.permit")
    sim.push(orders[0], "paid")
    sim.push(orders[1], "shipped")
    socket_url = f"ws://127.0.0.1:{sim.port}"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(socket_url + pdd_ws_path(sim.app_key, 1714528800000, "wrong"), timeout=3)
    url = socket_url + pdd_ws_path(sim.app_key, 1714528800000, sim.app_secret)
    connection = websocket.create_connection(url, timeout=3)
    first, second = next_common_frame(connection), next_common_frame(connection)
    assert first["message"]["type"] == "pdd_trade_TradeConfirmed"
    assert json.loads(first["message"]["content"])["tid"] == orders[0]
    connection.send(json.dumps({"commandType": "Ack", "id": first["id"], "time": 1714528800000,
                                "sendTime": first["sendTime"], "type": first["message"]["type"],
                                "mallID": first["message"]["mallID"]}))
    time.sleep(0.2)
    connection.close()
    connection = websocket.create_connection(url, timeout=3)
    assert next_common_frame(connection)["id"] == second["id"]
    connection.close()


def test_auto_push_follows_status_changes_and_ship_back(started, receiver):
    inbox = receiver()
    sim, client = started("douyin", webhook_url=inbox.url, auto_push=True)
    order_id = native_id("douyin", sim.generate_orders(1, seed=1)[0])
    sim.update_order(order_id, status="refund_requested")
    sim.update_order(order_id, after_sale_status=0)
    assert client.ship(order_id, "SF9")[0]
    deadline = time.monotonic() + 3
    while len(inbox.received) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    tags = sorted(json.loads(body)[0]["tag"] for _, body in inbox.received)
    assert tags == ["100", "102", "105", "200"]  # created, shipped, updated, refund requested


def test_decrypt_quota_runs_out_and_every_decryption_is_audited(started):
    sim, client = started("pinduoduo", decrypt_quota=1)
    order_sn = native_id("pinduoduo", sim.add_order())
    cipher = sim.orders[order_sn]["receiver_phone"]
    data_list = json.dumps([{"data_tag": order_sn, "encrypted_data": cipher}])
    assert client.error(client.call("pdd.open.decrypt.batch", {"data_list": data_list})) is None
    assert client.error(client.call("pdd.open.decrypt.batch", {"data_list": data_list})) is not None
    assert [(entry["order_id"], entry["ok"]) for entry in sim.decrypt_log] == [(order_sn, True)]


def test_authorisation_codes_become_tokens(started):
    sim, client = started("douyin", auth_code="code-1")
    created = client.call("token.create", {"grant_type": "authorization_self", "shop_id": 1234567}, token=None)
    client.token = created.json()["data"]["access_token"]
    assert client.error(client.probe()) is None
    refused = client.call("token.create", {"grant_type": "authorization_code", "code": "other"}, token=None)
    assert client.error(refused)[0] == 50001
    yz, _ = started("youzan", auth_code="code-2")
    grant = requests.post(yz.base_url + "/auth/token", json={
        "client_id": yz.app_key, "client_secret": yz.app_secret, "authorize_type": "authorization_code",
        "code": "code-2", "refresh": True}, timeout=5).json()
    assert grant["success"] and grant["data"]["expires"] > int(yz.now().timestamp() * 1000)
    assert requests.post(yz.base_url + "/auth/token", json={"client_id": yz.app_key, "client_secret": "x"},
                         timeout=5).json() == {"success": False, "code": 1103, "message": "Client 不存在"}


def test_jd_has_no_push_channel(started):
    sim, _ = started("jd", webhook_url="http://127.0.0.1:9/never")
    order_id = native_id("jd", sim.generate_orders(1, seed=1)[0])
    with pytest.raises(RuntimeError):
        sim.push(order_id, "paid")


# --------------------------------------------------------------------------- the reference's worked requests


def test_taobao_accepts_the_worked_order_pull_in_all_three_sign_methods(started):
    sim, _ = started("taobao", access_token="6100e23657fb0b2d0c78a1a0b1c2d3e4f5",
                     start_time=datetime(2024, 5, 1, 9, 30))
    made = sorted(str(order["tid"]) for order in sim.generate_orders(4, seed=1))
    sim.advance(30)
    expected = {"md5": "B94C20E85B6B56AFEBB1D2A0EDFC00A7", "hmac": "5112A185A36A0932EF3C851422FECCC2",
                "hmac-sha256": "BDE3C76C7C14ABD4C5DEC303A10F9E45E1BEFDEF3AB5529AD0869ED6B8E094E8"}
    for method, sign in expected.items():
        params = dict(method="taobao.trades.sold.increment.get", app_key="12345678",
                      session="6100e23657fb0b2d0c78a1a0b1c2d3e4f5", timestamp="2024-05-01 10:00:00", format="json",
                      v="2.0", fields="tid,status,payment,modified", start_modified="2024-05-01 09:00:00",
                      end_modified="2024-05-01 09:30:00", page_no="1", page_size="50", use_has_next="true",
                      sign_method=method, sign=sign)
        body = requests.post(sim.base_url + "/router/rest", data=params, timeout=5).json()
        trades = body["trades_sold_increment_get_response"]["trades"]["trade"]
        assert sorted(str(t["tid"]) for t in trades) == made
        assert set(trades[0]) == {"tid", "status", "payment", "modified"}
        modified = [t["modified"] for t in trades]
        assert modified == sorted(modified, reverse=True)  # newest first


def test_taobao_official_signature_example_passes_the_signature_check(started):
    sim, _ = started("taobao", access_token="test", start_time=datetime(2016, 1, 1, 12, 0))
    params = dict(method="taobao.item.seller.get", app_key="12345678", session="test", timestamp="2016-01-01 12:00:00",
                  format="json", v="2.0", sign_method="md5", fields="num_iid,title,nick,price,num", num_iid="11223344",
                  sign="66987CB115214E59E6EC978214934FB8")
    error = requests.post(sim.base_url + "/router/rest", data=params, timeout=5).json()["error_response"]
    assert error["code"] == 22  # signature accepted; the simulator does not serve item APIs
    params["sign"] = "66987CB115214E59E6EC978214934FB9"
    error = requests.post(sim.base_url + "/router/rest", data=params, timeout=5).json()["error_response"]
    assert (error["code"], error["msg"], sorted(error)) == (25, "Invalid Signature", ["code", "msg", "request_id"])


def test_pinduoduo_accepts_the_worked_increment_request(started):
    sim, _ = started("pinduoduo", start_time=datetime(2024, 5, 1, 9, 59))
    sim.generate_orders(3, seed=2)
    sim.advance(1)
    params = {"type": "pdd.order.number.list.increment.get", "client_id": "pdd_demo_client",
              "access_token": "pdd_demo_token", "timestamp": "1714528800", "data_type": "JSON", "is_lucky_flag": "0",
              "order_status": "1", "refund_status": "5", "start_updated_at": "1714527000",
              "end_updated_at": "1714528800", "page": "1", "page_size": "100", "use_has_next": "true",
              "sign": "CDF194961FC7C98A9C5D2C5C5545ADE7"}
    body = requests.post(sim.base_url + "/api/router", json=params, timeout=5).json()
    result = body["order_sn_increment_get_response"]
    assert result["total_count"] == 3 and result["has_next"] is False and len(result["order_sn_list"]) == 3
    form = requests.post(sim.base_url + "/api/router", data=params, timeout=5).json()
    assert form["order_sn_increment_get_response"]["total_count"] == 3
    bad = requests.post(sim.base_url + "/api/router", json={**params, "sign": params["sign"].lower()}, timeout=5)
    assert set(bad.json()["error_response"]) == {"error_code", "error_msg", "sub_code", "sub_msg", "request_id"}


@pytest.mark.parametrize("sign_method,sign", [
    ("md5", "56eac6c3806ec6400845f3601866e7f2"),
    ("hmac-sha256", "50903617c5409580526e70eb188526ae9771bf4502def4ffeeb659ed1dbce1fb")])
def test_douyin_accepts_the_worked_search_request(started, sign_method, sign):
    sim, _ = started("douyin", start_time=datetime(2024, 5, 1, 9, 55))
    made = sorted(o["order_id"] for o in sim.generate_orders(3, seed=2))
    sim.advance(5)
    param_json = ('{"order_by":"update_time","page":0,"size":100,"update_time_end":1714528800,'
                  '"update_time_start":1714527000}')
    query = {"app_key": "7300000000000000001", "method": "order.searchList", "timestamp": "1714528800", "v": "2",
             "sign_method": sign_method, "sign": sign, "access_token": sim.tokens.access_token}
    body = requests.post(sim.base_url + "/order/searchList", params=query, data=param_json,
                         headers={"Content-Type": "application/json"}, timeout=5).json()
    assert body["code"] == 10000 and body["msg"] == "success"
    assert sorted(o["order_id"] for o in body["data"]["shop_order_list"]) == made
    assert body["data"]["page"] == 0 and body["data"]["total"] == 3
    reordered = param_json.replace('"order_by":"update_time","page":0', '"page":0,"order_by":"update_time"')
    strict = requests.post(sim.base_url + "/order/searchList", params=query, data=reordered, timeout=5).json()
    assert (strict["code"], strict["sub_code"]) == (40003, "isv.signature-invalid") and strict["data"] is None


def test_jd_accepts_the_worked_search_request_with_its_unsorted_param_json(started):
    sim, client = started("jd", start_time=datetime(2024, 5, 1, 9, 50))
    made = sorted(o["orderId"] for o in sim.generate_orders(3, seed=2))
    sim.advance(10)
    raw = ('{"start_date":"2024-05-01 09:00:00","end_date":"2024-05-01 10:00:00","order_state":"WAIT_SELLER_STOCK_OUT",'
           '"optional_fields":"orderId,orderState,modified","page":"1","page_size":"50","dateType":"0"}')
    params = {"method": "jingdong.pop.order.search", "app_key": "JD_DEMO_APPKEY", "access_token": "jd_demo_token",
              "timestamp": "2024-05-01 10:00:00", "v": "2.0", "360buy_param_json": raw,
              "sign": "12D96A6FC84900302B8A2F05997D3FA7"}
    body = requests.post(sim.base_url + "/routerjson", data=params, timeout=5).json()
    result = body["jingdong_pop_order_search_responce"]
    assert result["code"] == "0" and result["searchorderinfo_result"]["apiResult"]["success"] is True
    orders = result["searchorderinfo_result"]["orderInfoList"]
    assert sorted(o["orderId"] for o in orders) == made and set(orders[0]) == {"orderId", "orderState", "modified"}
    bad = requests.post(sim.base_url + "/routerjson", data={**params, "sign": "0" * 32}, timeout=5).json()
    assert bad == {"error_response": {"code": "12", "zh_desc": "无效签名", "en_desc": "Invalid signature"}}


def test_jd_reads_the_timestamp_of_jds_own_sdk_with_its_utc_offset(started):
    """JD's Python SDK stamps ``%Y-%m-%d %H:%M:%S.000%z`` of the caller's local clock."""
    sim, client = started("jd")  # START = 2026-11-11 00:30 Beijing = 2026-11-10 16:30 UTC
    lookup = ("jingdong.pop.order.get", {"order_id": "1"})
    for stamp in ("2026-11-11 00:30:00", "2026-11-11 00:30:00.000+0800", "2026-11-10 16:30:00.000+0000"):
        assert client.error(client.call(*lookup, timestamp=stamp)) == "business", stamp  # unknown order, signed ok
    for stamp in ("2026-11-11 00:30:00.000+0000", "2026-11-11 00:30:00.000"):  # 8 h off; no offset
        assert client.error(client.call(*lookup, timestamp=stamp)) == "67", stamp


@pytest.mark.parametrize("sign_method,sign", [
    ("MD5", "2ef06d8aa910c6796c0b68c644d85025"), ("HMAC_SHA256", "SzCebvxrnOyDS09DVGyotBBDD1UbpTPmQUlsoGVtjUs=")])
def test_kuaishou_accepts_the_worked_cursor_request(started, sign_method, sign):
    sim, _ = started("kuaishou", sign_secret="ks_demo_sign_secret", start_time=datetime(2024, 5, 1, 9, 55))
    made = sorted(str(o["orderBaseInfo"]["oid"]) for o in sim.generate_orders(3, seed=2))
    sim.advance(5)
    params = {"appkey": "ks_demo_appkey", "method": "open.order.cursor.list", "version": "1",
              "access_token": "ks_demo_token", "timestamp": "1714528800000", "signMethod": sign_method, "sign": sign,
              "param": '{"beginTime":1714527000000,"cursor":"","endTime":1714528800000,"orderViewStatus":1,'
                       '"pageSize":100,"queryType":2}'}
    body = requests.post(sim.base_url + "/open/order/cursor/list", data=params, timeout=5).json()
    assert body["result"] == 1 and body["data"]["cursor"] == "nomore"
    assert sorted(str(o["orderBaseInfo"]["oid"]) for o in body["data"]["orderList"]) == made
    hex_variant = hmac.new(b"ks_demo_sign_secret", b"x", hashlib.sha256).hexdigest()  # the wrong TS-helper style
    assert requests.post(sim.base_url + "/open/order/cursor/list", data={**params, "sign": hex_variant},
                         timeout=5).json()["result"] == 27


def test_kuaishou_business_window_codes(started):
    _, client = started("kuaishou")
    now = client.now()
    assert client.error(client.list_call(now, now - timedelta(minutes=1), None, 10)) == (2001, "300003")
    assert client.error(client.list_call(now - timedelta(days=95), now - timedelta(days=94), None, 10)) == (
        2001, "300005")


# --------------------------------------------------------------------------- native shapes, units and buyer data


def test_taobao_trade_shape_yuan_strings_masked_receiver_and_oaid_decrypt(started):
    sim, client = started("taobao")
    order = sim.add_order(receiver={"name": "张三丰", "mobile": "13812345678", "province": "浙江省", "city": "杭州市",
                                    "district": "西湖区", "address": "文三路100号"},
                          lines=[{"sku_id": "5001", "merchant_code": "BWB-500-WH", "title": "保温杯", "quantity": 2,
                                  "price": "89.00"}], remark="指定顺丰", post_fee="8.00")
    tid = str(order["tid"])
    trade = client.call("taobao.trade.fullinfo.get", {"tid": tid, "fields": "tid,payment,total_fee,post_fee,"
                        "created,receiver_name,receiver_mobile,oaid,buyer_message,orders"}).json()[
        "trade_fullinfo_get_response"]["trade"]
    assert isinstance(trade["tid"], int) and trade["payment"] == "186.00" and trade["total_fee"] == "178.00"
    assert datetime.strptime(trade["created"], "%Y-%m-%d %H:%M:%S")
    assert trade["receiver_name"] == "张**"
    assert trade["receiver_mobile"].endswith("5678") and "*" in trade["receiver_mobile"]
    line = trade["orders"]["order"][0]
    assert (line["outer_sku_id"], line["num"], line["price"]) == ("BWB-500-WH", 2, "89.00")
    query = [{"oaid": trade["oaid"], "tid": tid, "scene": "1001"}]
    receivers = client.call("taobao.top.oaid.decrypt", {"query_list": json.dumps(query)}).json()[
        "top_oaid_decrypt_response"]["receiver_list"]["receiver"]
    assert (receivers[0]["name"], receivers[0]["mobile"], receivers[0]["matched"]) == ("张三丰", "13812345678", True)
    too_many = client.call("taobao.top.oaid.decrypt", {"query_list": json.dumps(query * 21)})
    assert client.error(too_many) == 41


def test_pinduoduo_yuan_numbers_cipher_formats_and_decrypt_batch(started):
    sim, client = started("pinduoduo")
    order_sn = native_id("pinduoduo", sim.add_order(lines=[{"sku_id": "77", "merchant_code": "DRH-17", "title": "水壶",
                                                            "quantity": 1, "price": "129.90"}]))
    info = client.call("pdd.order.information.get", {"order_sn": order_sn}).json()["order_info_get_response"][
        "order_info"]
    assert Decimal(str(info["pay_amount"])) == Decimal("129.90") and isinstance(info["pay_amount"], float)
    assert datetime.strptime(info["updated_at"], "%Y-%m-%d %H:%M:%S")
    assert info["receiver_name"].startswith("~") and info["receiver_name"].endswith("~1~~")
    assert info["receiver_phone"].startswith("$") and info["receiver_phone"].endswith("$1$$")
    assert "*" in info["receiver_phone_mask"] and info["item_list"][0]["outer_id"] == "DRH-17"
    data_list = [{"data_tag": order_sn, "encrypted_data": info["receiver_phone"]},
                 {"data_tag": "000000-1", "encrypted_data": info["receiver_name"]}]
    decrypted = client.call("pdd.open.decrypt.batch", {"data_list": json.dumps(data_list)}).json()[
        "open_decrypt_batch_response"]["data_decrypt_list"]
    assert decrypted[0]["error_code"] == 0
    assert decrypted[0]["decrypted_data"] == sim.records[order_sn].receiver["mobile"]
    assert decrypted[1]["error_code"] != 0
    assert client.ship(order_sn, "SF1")[0]
    shipped = client.call("pdd.order.information.get", {"order_sn": order_sn}).json()["order_info_get_response"][
        "order_info"]
    assert shipped["receiver_name"] == "" and shipped["receiver_name_mask"] and shipped["tracking_number"] == "SF1"
    assert shipped["logistics_id"] == 44 and shipped["order_status"] == 2


def test_douyin_fen_amounts_string_ids_epoch_times_and_batch_decrypt(started):
    sim, client = started("douyin")
    order_id = native_id("douyin", sim.add_order(lines=[{"sku_id": "1", "merchant_code": "EJ-BT-01", "title": "耳机",
                                                         "quantity": 1, "price": "159.00"}], post_fee="12.00"))
    detail = client.call("order.orderDetail", {"shop_order_id": order_id}).json()["data"]["shop_order_detail"]
    assert detail["pay_amount"] == 17100 and detail["post_amount"] == 1200 and isinstance(detail["order_id"], str)
    assert isinstance(detail["create_time"], int) and detail["order_status"] == 2
    assert detail["encrypt_post_receiver"].startswith("##") and detail["encrypt_post_tel"].startswith("$$")
    assert detail["post_addr"]["encrypt_detail"].startswith("#") and detail["post_addr"]["detail"] == ""
    assert detail["sku_order_list"][0]["code"] == "EJ-BT-01" and detail["sku_order_list"][0]["origin_amount"] == 15900
    infos = [{"auth_id": order_id, "cipher_text": detail["encrypt_post_tel"]}]
    decrypted = client.call("order.batchDecrypt", {"cipher_infos": infos}).json()["data"]["decrypt_infos"][0]
    assert decrypted["err_no"] == 0 and decrypted["decrypt_text"].split("-")[0].isdigit()


def test_jd_en_search_returns_ciphertext_plain_search_masks_and_the_tde_stub_decrypts(started):
    sim, client = started("jd")
    order_id = native_id("jd", sim.add_order(receiver={"name": "李四", "mobile": "13900001111"}))
    window = {"start_date": bj_text(client.now() - WINDOW), "end_date": bj_text(client.now()),
              "order_state": "WAIT_SELLER_STOCK_OUT", "page": "1", "page_size": "10"}
    plain = client.call("jingdong.pop.order.search", window).json()["jingdong_pop_order_search_responce"]
    sealed = client.call("jingdong.pop.order.enSearch", window).json()["jingdong_pop_order_enSearch_responce"]
    masked = plain["searchorderinfo_result"]["orderInfoList"][0]["consigneeInfo"]
    cipher = sealed["searchorderinfo_result"]["orderInfoList"][0]["consigneeInfo"]
    assert masked["fullname"] == "李*" and "*" in masked["mobile"]
    assert cipher["mobile"] not in ("13900001111", masked["mobile"])
    stub = requests.post(sim.base_url + "/__sim__/decrypt", json={"cipher": cipher["mobile"]}, timeout=5).json()
    assert stub["plain"] == "13900001111"
    info = plain["searchorderinfo_result"]["orderInfoList"][0]
    assert info["orderId"] == order_id and info["orderPayment"].count(".") == 1


def test_kuaishou_fen_ms_times_cursor_sentinel_and_decrypt_batch(started):
    sim, client = started("kuaishou")
    order_id = native_id("kuaishou", sim.add_order(lines=[{"sku_id": "9", "merchant_code": "JG-LH-1200",
                                                           "title": "坚果礼盒", "quantity": 2, "price": "168.00"}]))
    with pytest.raises(ValueError):
        sim.add_order(lines=[{"title": "a", "price": "1"}, {"title": "b", "price": "2"}])
    listed = client.list_call(client.now() - WINDOW, client.now(), None, 10).json()["data"]
    order = listed["orderList"][0]
    assert listed["cursor"] == "nomore"
    assert order["orderBaseInfo"]["totalFee"] == 33600 and order["orderBaseInfo"]["createTime"] > 10**12
    assert order["orderItemInfo"]["skuNick"] == "JG-LH-1200" and order["orderItemInfo"]["price"] == 16800
    cipher = order["orderAddress"]["encryptedMobile"]
    items = [{"bizId": order_id, "encryptedData": cipher}]
    result = client.call("open.order.decrypt.batch", {"batchDecryptList": items})
    assert result.json()["data"]["decryptResult"][0]["decryptedData"] == sim.records[order_id].receiver["mobile"]


def test_youzan_full_order_info_shape_encrypted_fields_and_decrypt(started):
    sim, client = started("youzan")
    tid = native_id("youzan", sim.add_order(lines=[{"sku_id": "3", "merchant_code": "MKB-GIFT-CAT", "title": "马克杯",
                                                    "quantity": 3, "price": "38.00"}]))
    info = client.call("youzan.trade.get", {"tid": tid}).json()["data"]["full_order_info"]
    assert info["pay_info"]["payment"] == "114.00" and info["orders"][0]["outer_sku_id"] == "MKB-GIFT-CAT"
    name = info["address_info"]["receiver_name"]
    assert name.startswith("$") and name.endswith("$1$")
    plain = client.call("youzan.cloud.secret.decrypt.single", {"source": name}).json()["data"]
    assert plain == sim.records[tid].receiver["name"]
    assert requests.post(sim.base_url + "/api/youzan.nope/1.0.0", params={"access_token": client.token},
                         json={}, timeout=5).json()["gw_err_resp"]["err_code"] == 4005


def test_shopify_rest_shape_version_fallback_page_info_rules_and_leaky_bucket(started):
    sim, client = started("shopify")
    sim.generate_orders(3, seed=2)
    old = client.call(f"{sim.base_url}/admin/api/2019-04/orders.json", {"status": "any", "limit": 2})
    assert old.headers["X-Shopify-API-Version"] == "2024-10" and old.headers["X-Shopify-Shop-Api-Call-Limit"]
    order = old.json()["orders"][0]
    assert isinstance(order["id"], int) and order["total_price"].count(".") == 1 and order["name"].startswith("#")
    assert datetime.fromisoformat(order["created_at"]).utcoffset() == timedelta(hours=8)
    assert client.call("orders.json").json()["orders"]  # default status=open still lists unfulfilled orders
    next_url = old.links["next"]["url"]
    assert client.call(next_url + "&status=any").status_code == 400
    statuses = [client.call("orders.json", {"limit": 1}).status_code for _ in range(45)]
    assert 429 in statuses
    throttled = client.call("orders.json")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2.0"


def test_shopify_partial_fulfilment_then_update_tracking(started):
    sim, client = started("shopify")
    order_id = native_id("shopify", sim.add_order(lines=[
        {"sku_id": "11", "merchant_code": "A", "title": "A", "quantity": 2, "price": "10.00"},
        {"sku_id": "12", "merchant_code": "B", "title": "B", "quantity": 1, "price": "5.00"}]))
    fulfillment_order = client.call(f"orders/{order_id}/fulfillment_orders.json").json()["fulfillment_orders"][0]
    first_line = fulfillment_order["line_items"][0]
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{
        "fulfillment_order_id": fulfillment_order["id"],
        "fulfillment_order_line_items": [{"id": first_line["id"], "quantity": 3}]}]}}
    assert client.call("fulfillments.json", method="POST", body=body).status_code == 422
    body["fulfillment"]["line_items_by_fulfillment_order"][0]["fulfillment_order_line_items"][0]["quantity"] = 2
    body["fulfillment"]["tracking_info"] = {"number": "SF1", "company": "SF Express"}
    created = client.call("fulfillments.json", method="POST", body=body)
    assert created.status_code == 201 and created.json()["fulfillment"]["tracking_number"] == "SF1"
    assert client.call(f"orders/{order_id}.json").json()["order"]["fulfillment_status"] == "partial"
    fulfillment_id = created.json()["fulfillment"]["id"]
    updated = client.call(f"fulfillments/{fulfillment_id}/update_tracking.json", method="POST",
                          body={"fulfillment": {"tracking_info": {"number": "SF2", "company": "SF Express"}}})
    assert updated.json()["fulfillment"]["tracking_numbers"] == ["SF2"]
    assert client.ship(order_id, "SF3")[0]
    assert client.call(f"orders/{order_id}.json").json()["order"]["fulfillment_status"] == "fulfilled"


def oauth1_query(method, url, key, secret, params, nonce, stamp):
    oauth = {"oauth_consumer_key": key, "oauth_nonce": nonce, "oauth_signature_method": "HMAC-SHA256",
             "oauth_timestamp": str(stamp), **params}
    pairs = sorted((urllib.parse.quote(k, safe="-._~"), urllib.parse.quote(str(v), safe="-._~"))
                   for k, v in oauth.items())
    # WooCommerce's normalisation: every key and value percent-encoded, then each "k=v" encoded again
    normalized = "%26".join(urllib.parse.quote(f"{k}={v}", safe="-._~") for k, v in pairs)
    base = f"{method}&{urllib.parse.quote(url, safe='-._~')}&{normalized}"
    signature = base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()).decode()
    return {**oauth, "oauth_signature": signature}


def test_woocommerce_headers_units_oauth1_and_auth_errors(started):
    sim, client = started("woocommerce")
    sim.generate_orders(3, seed=2)
    listed = client.call("orders", {"per_page": 2})
    assert listed.headers["X-WP-Total"] == "3" and listed.headers["X-WP-TotalPages"] == "2"
    order = listed.json()[0]
    assert order["total"].count(".") == 1 and isinstance(order["line_items"][0]["price"], float)
    assert datetime.fromisoformat(order["date_created"]).tzinfo is None
    url = f"{sim.base_url}/wp-json/wc/v3/orders"
    stamp = int(client.now().timestamp())
    signed = oauth1_query("GET", url, sim.app_key, sim.app_secret, {"per_page": "2"}, "n1", stamp)
    assert requests.get(url, params=signed, timeout=5).status_code == 200
    replayed = requests.get(url, params=signed, timeout=5).json()
    assert replayed["message"] == "Invalid nonce - nonce has already been used."
    forged = oauth1_query("GET", url, sim.app_key, "wrong", {"per_page": "2"}, "n2", stamp)
    assert requests.get(url, params=forged, timeout=5).json()["message"] == (
        "Invalid signature - provided signature does not match.")
    stale = oauth1_query("GET", url, sim.app_key, sim.app_secret, {"per_page": "2"}, "n3", stamp - 20 * 60)
    assert requests.get(url, params=stale, timeout=5).json()["message"] == "Invalid timestamp."
    anonymous = requests.get(url, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "woocommerce_rest_cannot_view"
    missing = client.call("orders/99999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


# --------------------------------------------------------------------------- Python and HTTP control interface


def test_generated_orders_are_realistic_and_reproducible():
    first = make_simulator("taobao", start_time=START).generate_orders(40, seed=11)
    again = make_simulator("taobao", start_time=START).generate_orders(40, seed=11)
    assert first == again
    sim = make_simulator("taobao", start_time=START, encrypt_pii=False)
    orders = sim.generate_orders(40, seed=11)
    assert len({order["receiver_state"] for order in orders}) >= 8
    assert any(len(order["orders"]["order"]) > 1 for order in orders)
    assert {"指定顺丰", "不要发韵达"} & {order.get("buyer_message") for order in orders}
    assert any("outer_sku_id" not in line for order in orders for line in order["orders"]["order"])


def test_generated_status_mix_and_unpaid_orders_without_pay_time():
    sim = make_simulator("douyin", start_time=START)
    orders = sim.generate_orders(30, seed=2, status=["paid", "shipped", "unpaid", "refund_requested"])
    assert {order["order_status"] for order in orders} == {1, 2, 3}
    assert all(order["pay_time"] == 0 for order in orders if order["order_status"] == 1)
    assert any(order["sku_order_list"][0]["after_sale_info"]["after_sale_status"] == 6 for order in orders)


def test_without_start_time_the_clock_follows_the_wall_clock_so_real_timestamps_pass(started):
    sim, client = started("pinduoduo", start_time=None)
    assert abs(sim.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert client.error(client.probe(timestamp=int(time.time()))) is None


def test_update_order_speaks_the_platform_vocabulary_and_rejects_unknown_status():
    sim = make_simulator("pinduoduo", start_time=START)
    order_sn = native_id("pinduoduo", sim.add_order())
    assert sim.update_order(order_sn, status="refund_requested")["refund_status"] == 2
    assert sim.update_order(order_sn, status=3)["order_status"] == 3
    with pytest.raises(ValueError):
        sim.update_order(order_sn, status="WAIT_SELLER_SEND_GOODS")


def test_control_endpoints_drive_a_simulator_from_another_process(started, receiver):
    inbox = receiver()
    sim, _ = started("douyin", webhook_url=inbox.url)
    control = sim.base_url + "/__sim__/"
    made = requests.post(control + "orders", json={"generate": 2, "seed": 3}, timeout=5).json()["orders"]
    one = requests.post(control + "orders", json={"order": {"remark": "加急", "status": "paid"}}, timeout=5).json()
    assert len(made) == 2 and one["orders"][0]["buyer_words"] == "加急"
    before = sim.now()
    requests.post(control + "advance", json={"minutes": 30}, timeout=5)
    assert sim.now() - before == timedelta(minutes=30)
    pushed = requests.post(control + "push", json={"order_id": made[0]["order_id"], "event": "paid"}, timeout=5).json()
    assert pushed["status"] == 200 and json.loads(pushed["body"])["code"] == 0
    requests.post(control + "fault", json={"fault": "http500", "count": 1}, timeout=5)
    _, client = sim, CLIENTS["douyin"](sim)
    assert client.probe().status_code == 500
    assert requests.get(control + "requests", timeout=5).json()["requests"][-1]["response_status"] == 500
    client.ship(made[1]["order_id"], "SF77")
    assert requests.get(control + "shipments", timeout=5).json()["shipments"][0]["waybill"] == "SF77"
