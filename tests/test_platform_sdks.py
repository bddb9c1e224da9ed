"""The platforms' own published SDKs (where PyPI has one) against our simulators.

These clients are independent of this project: if a simulator and an SDK disagree, one of them is
wrong, and /work/shared/reference/platform-apis.md (plus the SDK's source) decides which. The SDKs are
pinned in requirements.txt (tests section):

* WooCommerce 3.0.0 — the official wc-api-python client (OAuth 1.0a in the query string over http).
* ShopifyAPI 12.7.0 — Shopify's official Python library (REST resources, X-Shopify-Access-Token).
  It has no webhook verifier (only the OAuth-redirect HMAC), so webhooks are checked with Shopify's
  documented recipe.
* taobao-openapi 1.1.0 — the TOP Python SDK as the Taobao console generates it (top.api.base,
  "taobao-sdk-python-20210816": system parameters in the query string, epoch-millisecond timestamp,
  md5 signature over system + business parameters, business parameters in the form body).
* jd-sdk 1.1.1 — JD's own Python SDK (jd.api.base: everything in the query string of a POST,
  ``360buy_param_json`` from json.dumps with its default separators, timestamp
  ``%Y-%m-%d %H:%M:%S.000%z`` of the local clock).
* pdd-sdk 1.0.8 — a third-party port of the TOP SDK to Pinduoduo (多多客 APIs): PDD's md5
  signature, system parameters in the query string. Not authoritative: it sends the token as
  ``session`` (PDD reads ``access_token``) and reads TOP's ``code``/``msg`` error fields.
* doudian 0.6 — a third-party Douyin shop SDK (minibear2021/doudian, cited by the reference for the
  signature): hmac-sha256 over the five-field pattern, ``yyyy-MM-dd HH:mm:ss`` local-time stamps,
  ``callback()`` push verifier. Not authoritative for responses: it expects the old ``err_no``
  scheme from /token/create (UNCONFIRMED, not simulated), so its token comes from a token file here.

Kuaishou and Youzan have no usable SDK on PyPI (kwaixiaodian 1.0.3 signs correctly but builds
``/open/open/...`` URLs and needs httpx/pydantic/pendulum; youzan 0.1.3 speaks the retired
koudaitong API), so they are covered by tests/test_platform_simulators.py and test_platform_clients.py.

The simulators run without ``start_time``: their clock follows the wall clock, which the SDKs sign with.
"""

import base64
import hashlib
import hmac
import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.push_receiver import Receiver
from tests.simulators.platforms import make_simulator

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def simulator():
    """simulator(code, **kwargs) → a started simulator on the wall clock; stopped afterwards."""
    running = []

    def start(code, **kwargs):
        running.append(make_simulator(code, **kwargs).start())
        return running[-1]

    yield start
    for sim in running:
        sim.stop()


@pytest.fixture
def inbox():
    made = Receiver((200, b'{"code":0,"msg":"success"}'))
    yield made
    made.close()


def b64_hmac_sha256(secret, raw):
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def beijing_text(moment):
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- WooCommerce (official client)


def test_woocommerce_official_client_signs_oauth1_lists_pages_and_ships(simulator):
    from woocommerce import API

    sim = simulator("woocommerce")
    sim.generate_orders(5, seed=1)
    wc = API(url=sim.base_url, consumer_key=sim.app_key, consumer_secret=sim.app_secret, version="wc/v3",
             timeout=10)
    # over http the client signs with OAuth 1.0a; the ":" of the dates only passes with WooCommerce's
    # double percent-encoding of the base string
    since = (datetime.now(BEIJING) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    seen, page, pages = [], 1, 1
    while page <= pages:
        listed = wc.get("orders", params={"modified_after": since, "status": "any", "per_page": 2, "page": page,
                                          "orderby": "modified", "order": "asc"})
        assert listed.status_code == 200, listed.text
        pages = int(listed.headers["X-WP-TotalPages"])
        seen += [order["id"] for order in listed.json()]
        page += 1
    assert sorted(seen) == sorted(int(order_id) for order_id in sim.orders) and pages == 3
    assert all(request["params"].get("oauth_signature_method") == "HMAC-SHA256" for request in sim.requests)

    order_id = seen[0]
    detail = wc.get(f"orders/{order_id}")
    assert detail.status_code == 200 and detail.json()["status"] == "processing"
    completed = wc.put(f"orders/{order_id}", {"status": "completed"})
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    note = wc.post(f"orders/{order_id}/notes", {"note": "Shipped via SF Express, waybill SF1234567890",
                                                "customer_note": True})
    assert note.status_code == 201 and note.json()["customer_note"] is True
    assert [entry["platform_order_id"] for entry in sim.shipments] == [str(order_id)]

    missing = wc.get("orders/99999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    forged = API(url=sim.base_url, consumer_key=sim.app_key, consumer_secret="cs_wrong", version="wc/v3").get("orders")
    assert forged.status_code == 401
    assert forged.json()["message"] == "Invalid signature - provided signature does not match."


def test_woocommerce_client_quirk_with_a_slash_is_refused_as_the_shop_would(simulator):
    """wc-api-python encodes values with quote(), which leaves "/" as is; WooCommerce's check
    rawurlencodes it, so such a request fails on a real shop too — and on the simulator."""
    from woocommerce import API

    sim = simulator("woocommerce")
    wc = API(url=sim.base_url, consumer_key=sim.app_key, consumer_secret=sim.app_secret, version="wc/v3")
    assert wc.get("orders", params={"search": "a b:c~d&e=f+g"}).status_code == 200
    refused = wc.get("orders", params={"search": "SF/123"})
    assert refused.status_code == 401 and refused.json()["code"] == "woocommerce_rest_authentication_error"


def test_woocommerce_webhook_arrives_with_its_exact_header_names_and_verifies(simulator, inbox):
    sim = simulator("woocommerce", webhook_url=inbox.url, webhook_secret="wc_demo_webhook_secret")
    order_id = str(sim.generate_orders(1, seed=2)[0]["id"])
    assert sim.push(order_id, "paid")[0] == 200
    headers, body = inbox.received[-1]
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
    assert headers["X-WC-Webhook-Signature"] == b64_hmac_sha256("wc_demo_webhook_secret", body)
    assert json.loads(body)["id"] == int(order_id)


# --------------------------------------------------------------------------- Shopify (official library)


@pytest.fixture
def shopify_session():
    import shopify

    def open_session(sim, version="2025-01", token=None):
        session = shopify.Session(sim.options["shop_domain"], version, token or sim.tokens.access_token)
        shopify.ShopifyResource.activate_session(session)
        # the library always builds https://{shop}.myshopify.com; point that same session at the simulator
        assert shopify.ShopifyResource.site == f"https://{sim.options['shop_domain']}/admin/api/{version}"
        shopify.ShopifyResource.site = f"{sim.base_url}/admin/api/{version}"
        return shopify

    yield open_session
    shopify.ShopifyResource.clear_session()


def test_shopify_library_pages_orders_counts_and_reads_one(simulator, shopify_session):
    sim = simulator("shopify")
    sim.generate_orders(5, seed=3)
    sim.add_order(status="cancelled")
    shopify = shopify_session(sim)

    page = shopify.Order.find(status="any", limit=2, updated_at_min=(datetime.now(BEIJING) - timedelta(days=1))
                              .isoformat(timespec="seconds"))
    ids = [order.id for order in page]
    while page.has_next_page():  # Link header cursor; next pages carry only page_info and limit
        page = page.next_page()
        ids += [order.id for order in page]
    assert sorted(ids) == sorted(int(order_id) for order_id in sim.orders)
    assert shopify.Order.count(status="any") == 6 and shopify.Order.count() == 5  # default status=open
    assert shopify.Limits.credit_limit() == 40 and 0 < shopify.Limits.credit_used() <= 40

    order = shopify.Order.find(ids[0])
    native = sim.orders[str(ids[0])]
    assert order.name == native["name"] and order.line_items[0].sku == native["line_items"][0]["sku"]
    assert order.total_price == native["total_price"]
    with pytest.raises(Exception) as missing:
        shopify.Order.find(1)
    assert type(missing.value).__name__ == "ResourceNotFound"


def test_shopify_library_fulfils_with_tracking_and_updates_it(simulator, shopify_session):
    sim = simulator("shopify")
    order_id = str(sim.add_order(lines=[{"sku_id": "1", "merchant_code": "A-1", "title": "A", "quantity": 2,
                                         "price": "10"}])["id"])
    shopify = shopify_session(sim)

    fulfillment_orders = shopify.FulfillmentOrders.find(order_id=order_id)
    assert [fo.status for fo in fulfillment_orders] == ["open"]
    fulfillment = shopify.FulfillmentV2({
        "line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_orders[0].id}],
        "tracking_info": {"number": "SF1234567890", "company": "SF Express"}, "notify_customer": False})
    assert fulfillment.save(), fulfillment.errors.full_messages()
    assert fulfillment.tracking_number == "SF1234567890"
    assert shopify.Order.find(order_id).fulfillment_status == "fulfilled"

    answer = fulfillment.update_tracking({"number": "SF999", "company": "SF Express"}, False)
    assert answer.code == 200 and json.loads(answer.body)["fulfillment"]["tracking_numbers"] == ["SF999"]
    again = shopify.FulfillmentV2({"line_items_by_fulfillment_order": [
        {"fulfillment_order_id": fulfillment_orders[0].id}], "tracking_info": {"number": "SF2"}})
    assert not again.save() and "unfulfillable status= closed" in again.errors.full_messages()[0]
    assert [entry["waybill"] for entry in sim.shipments] == ["SF1234567890", "SF999"]


def test_shopify_library_reports_an_invalid_token(simulator, shopify_session):
    sim = simulator("shopify")
    sim.generate_orders(1, seed=4)
    shopify = shopify_session(sim, token="shpat_not_ours")
    with pytest.raises(Exception) as refused:
        shopify.Order.find(status="any")
    assert type(refused.value).__name__ == "UnauthorizedAccess"
    assert "Invalid API key or access token" in refused.value.response.body.decode()


def test_shopify_webhook_hmac_verifies_with_the_documented_recipe(simulator, inbox):
    sim = simulator("shopify", webhook_url=inbox.url)
    order_id = str(sim.generate_orders(1, seed=5)[0]["id"])
    assert sim.push(order_id, "paid")[0] == 200
    headers, body = inbox.received[-1]
    assert headers["X-Shopify-Topic"] == "orders/paid"
    assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"], b64_hmac_sha256(sim.app_secret, body))


# --------------------------------------------------------------------------- Taobao (TOP Python SDK)


def top_request(api_name, **fields):
    """A request class written the way the TOP console generates them (top/api/rest/*Request.py)."""
    from top.api.base import RestApi

    class Request(RestApi):
        def __init__(self, domain="gw.api.taobao.com", port=80):
            RestApi.__init__(self, domain, port)
            for name, value in fields.items():
                setattr(self, name, value)

        def getapiname(self):
            return api_name

    return Request


def test_top_sdk_pulls_reads_and_ships_a_trade(simulator):
    import top
    import top.api
    from top.api.base import TopException

    sim = simulator("taobao")
    sim.generate_orders(5, seed=6)
    app = top.appinfo(sim.app_key, sim.app_secret)
    session = sim.tokens.access_token

    def call(request):
        request.set_app_info(app)
        return request.getResponse(session)

    now = datetime.now(BEIJING)
    tids, page_no, has_next = [], 1, True
    while has_next:
        pull = top.api.TradesSoldIncrementGetRequest(sim.host, sim.port)
        pull.fields = "tid,status,payment,modified,orders.outer_sku_id"
        pull.start_modified, pull.end_modified = beijing_text(now - timedelta(minutes=30)), beijing_text(now)
        pull.page_no, pull.page_size, pull.use_has_next = page_no, 2, "true"
        answer = call(pull)["trades_sold_increment_get_response"]
        tids += [trade["tid"] for trade in answer.get("trades", {}).get("trade", [])]
        has_next, page_no = answer["has_next"], page_no + 1
    assert sorted(str(tid) for tid in tids) == sorted(sim.orders)
    envelope = sim.requests[0]["params"]
    assert envelope["timestamp"].isdigit() and envelope["partner_id"].startswith("taobao-sdk-python")

    tid = tids[0]
    detail = top.api.TradeFullinfoGetRequest(sim.host, sim.port)
    detail.fields, detail.tid = "tid,status,receiver_name,oaid,orders", tid
    trade = call(detail)["trade_fullinfo_get_response"]["trade"]
    assert trade["status"] == "WAIT_SELLER_SEND_GOODS" and trade["oaid"]
    companies = top.api.LogisticsCompaniesGetRequest(sim.host, sim.port)
    companies.fields = "id,code,name"
    listed = call(companies)["logistics_companies_get_response"]["logistics_companies"]["logistics_company"]
    assert "SF" in {company["code"] for company in listed}

    # taobao-openapi ships no LogisticsOfflineSendRequest; this is the generator's shape for it
    ship = top_request("taobao.logistics.offline.send", tid=tid, out_sid="SF1234567890", company_code="SF")
    assert call(ship(sim.host, sim.port))["logistics_offline_send_response"]["shipping"]["is_success"] is True
    with pytest.raises(TopException) as again:
        call(ship(sim.host, sim.port))
    assert again.value.errorcode == 15 and again.value.subcode.startswith("isv.")
    assert sim.orders[str(tid)]["status"] == "WAIT_BUYER_CONFIRM_GOODS"


def test_top_sdk_sees_session_and_signature_errors(simulator):
    import top
    import top.api
    from top.api.base import TopException

    sim = simulator("taobao")
    tid = sim.generate_orders(1, seed=7)[0]["tid"]
    request = top.api.TradeFullinfoGetRequest(sim.host, sim.port)
    request.fields, request.tid = "tid", tid
    request.set_app_info(top.appinfo(sim.app_key, sim.app_secret))
    with pytest.raises(TopException) as bad_session:
        request.getResponse("6100not-a-session")
    assert (bad_session.value.errorcode, bad_session.value.subcode) == (27, "invalid-sessionkey")
    request.set_app_info(top.appinfo(sim.app_key, "not-the-secret"))
    with pytest.raises(TopException) as bad_sign:
        request.getResponse(sim.tokens.access_token)
    assert bad_sign.value.errorcode == 25


# --------------------------------------------------------------------------- JD (JD's Python SDK)


def jd_request(api_name, **fields):
    from jd.api.base import RestApi

    class Request(RestApi):
        def __init__(self, domain, port=80):
            RestApi.__init__(self, domain, port)
            for name, value in fields.items():
                setattr(self, name, value)

        def getapiname(self):
            return api_name

    return Request


def test_jd_sdk_searches_reads_and_ships_an_order(simulator):
    import jd

    sim = simulator("jd")
    sim.generate_orders(3, seed=8)
    app = jd.appinfo(sim.app_key, sim.app_secret)

    def call(request_class, token=None, secret=None):
        request = request_class(sim.host, sim.port)
        request.set_app_info(jd.appinfo(sim.app_key, secret) if secret else app)
        return request.getResponse(access_token=token or sim.tokens.access_token)

    now = datetime.now(BEIJING)
    search = jd_request("jingdong.pop.order.search", start_date=beijing_text(now - timedelta(hours=1)),
                        end_date=beijing_text(now), order_state="WAIT_SELLER_STOCK_OUT",
                        optional_fields="orderId,orderState,modified", page="1", page_size="50")
    found = call(search)["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
    assert sorted(order["orderId"] for order in found["orderInfoList"]) == sorted(sim.orders)
    # the SDK's own timestamp: local time with milliseconds and UTC offset
    stamp = sim.requests[-1]["params"]["timestamp"]
    assert datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f%z")

    order_id = found["orderInfoList"][0]["orderId"]
    detail = call(jd_request("jingdong.pop.order.get", order_id=order_id, optional_fields="orderId,itemInfoList"))
    assert detail["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]["orderId"] == order_id
    ship = jd_request("jingdong.pop.order.shipment", orderId=order_id, logiCoprId="467", logiNo="SF1234567890")
    assert call(ship)["jingdong_pop_order_shipment_responce"]["sopjosshipment_result"]["success"] is True
    assert call(ship)["jingdong_pop_order_shipment_responce"]["sopjosshipment_result"]["success"] is False
    assert sim.orders[order_id]["orderState"] == "WAIT_GOODS_RECEIVE_CONFIRM"

    assert call(ship, token="not-a-token")["error_response"]["code"] == "19"
    assert call(ship, secret="not-the-secret")["error_response"]["code"] == "12"


# --------------------------------------------------------------------------- Pinduoduo (pdd-sdk, third-party)


def test_pdd_sdk_signature_and_envelope_are_accepted(simulator):
    import pdd_sdk
    from pdd_sdk.api.base import DdkException, RestApi

    sim = simulator("pinduoduo")
    sim.generate_orders(3, seed=9)
    token = sim.tokens.access_token

    def call(api_name, **fields):
        class Request(RestApi):
            def getapiname(self):
                return api_name

        request = Request(sim.host, sim.port)
        request.set_app_info(pdd_sdk.appinfo(sim.app_key, sim.app_secret))
        for name, value in fields.items():
            setattr(request, name, value)
        return request.getResponse()

    now = int(time.time())
    # PDD reads the seller token from access_token; the SDK's own `session` slot would not carry it
    listed = call("pdd.order.number.list.increment.get", access_token=token, start_updated_at=now - 1700,
                  end_updated_at=now, is_lucky_flag=0, order_status=5, refund_status=5, page=1, page_size=100,
                  use_has_next="true")["order_sn_increment_get_response"]
    assert sorted(order["order_sn"] for order in listed["order_sn_list"]) == sorted(sim.orders)
    order_sn = listed["order_sn_list"][0]["order_sn"]
    info = call("pdd.order.information.get", access_token=token, order_sn=order_sn)
    assert info["order_info_get_response"]["order_info"]["order_sn"] == order_sn
    shipped = call("pdd.logistics.online.send", access_token=token, order_sn=order_sn, logistics_id=44,
                   tracking_number="SF1234567890")
    assert shipped["logistics_online_send_response"]["is_success"] is True
    with pytest.raises(DdkException):
        call("pdd.logistics.online.send", access_token=token, order_sn=order_sn, logistics_id=44,
             tracking_number="SF1234567890")
    assert "error_code" in sim.requests[-1]["response"]["error_response"]


# --------------------------------------------------------------------------- Douyin (doudian, third-party)


@pytest.fixture
def doudian_client(tmp_path, monkeypatch):
    """doudian 0.6 bound to a simulator. It stamps requests with the local wall clock as
    ``yyyy-MM-dd HH:mm:ss``, which the gateway reads as Beijing time: run it on a Beijing clock."""
    import doudian.core
    from doudian import AppType, DouDian

    class BeijingClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(BEIJING).replace(tzinfo=None)

    monkeypatch.setattr(doudian.core, "datetime", BeijingClock)

    def bind(sim):
        token_file = tmp_path / "doudian-token.json"
        token_file.write_text(json.dumps({"access_token": sim.tokens.access_token,
                                          "refresh_token": sim.tokens.refresh_token,
                                          "expires_in": int(time.time()) + 86400}))
        client = DouDian(sim.app_key, sim.app_secret, app_type=AppType.TOOL, token_file=os.fspath(token_file))
        client._gate_way = sim.base_url  # the SDK has no option for another host than Douyin's
        return client

    return bind


def test_doudian_sdk_hmac_signed_calls_are_accepted(simulator, doudian_client):
    sim = simulator("douyin")
    sim.generate_orders(3, seed=10)
    client = doudian_client(sim)
    now = int(time.time())
    listed = client.request("/order/searchList", {"update_time_start": now - 1800, "update_time_end": now,
                                                  "page": 0, "size": 10, "order_by": "update_time"})
    assert listed["code"] == 10000, listed
    assert sorted(order["order_id"] for order in listed["data"]["shop_order_list"]) == sorted(sim.orders)
    envelope = sim.requests[-1]["params"]
    assert envelope["sign_method"] == "hmac-sha256" and len(envelope["timestamp"]) == 19

    order_id = listed["data"]["shop_order_list"][0]["order_id"]
    detail = client.request("/order/orderDetail", {"shop_order_id": order_id})
    assert detail["data"]["shop_order_detail"]["order_id"] == order_id
    ship = {"order_id": order_id, "company_code": "shunfeng", "logistics_code": "SF1234567890"}
    assert client.request("/order/logisticsAdd", ship)["code"] == 10000
    again = client.request("/order/logisticsAdd", ship)
    assert again["code"] == 50002 and again["sub_msg"]
    assert sim.orders[order_id]["order_status"] == 3


def test_doudian_sdk_callback_verifies_the_push_and_refuses_a_tampered_one(simulator, inbox, doudian_client):
    sim = simulator("douyin", webhook_url=inbox.url)
    order_id = sim.generate_orders(1, seed=11)[0]["order_id"]
    client = doudian_client(sim)
    assert sim.push(order_id, "paid")[0] == 200
    sim.tamper_next_push = True
    sim.push(order_id, "paid")
    (headers, body), (bad_headers, bad_body) = inbox.received
    # the SDK reads the lower-case names from a plain dict, as Douyin sends them
    messages = client.callback(headers, body)
    assert messages[0]["tag"] == "101" and json.loads(messages[0]["data"])["p_id"] == int(order_id)
    assert client.callback(bad_headers, bad_body) is None
