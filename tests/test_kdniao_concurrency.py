"""Two workers issuing the waybill of the same delivery at the same moment produce one waybill.

This needs committed data and real concurrent transactions, so it runs outside Odoo's test transaction,
on the test database, with records of its own.
"""

import threading
import uuid

import pytest

import odoo
from odoo import Command, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from tests.simulators.kdniao import KdniaoSimulator

EBUSINESS_ID = "test5550001"
API_KEY = "concurrency-key"


@pytest.fixture
def simulator():
    sim = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY})
    sim.start()
    yield sim
    sim.stop()


def _committed_delivery(registry, sim):
    tag = uuid.uuid4().hex[:6]
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        account = env["kdniao.account"].search([("ebusiness_id", "=", EBUSINESS_ID)]) or env["kdniao.account"].create(
            {"name": "Concurrency", "ebusiness_id": EBUSINESS_ID, "api_key": API_KEY}
        )
        account.api_url = sim.base_url
        service = env["product.product"].create({"name": f"YTO {tag}", "type": "service"})
        carrier = env["delivery.carrier"].create({"name": f"YTO {tag}", "delivery_type": "kdniao", "product_id": service.id})
        env["logistics.carrier.account"].create(
            {
                "name": f"YTO {tag}",
                "carrier_id": carrier.id,
                "express_code": "YTO",
                "kdniao_account_id": account.id,
                "kdniao_customer_name": "testyto",
                "kdniao_month_code": "yto-key",
            }
        )
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        warehouse.partner_id.write(
            {"street": "青浦区华新镇华腾路1288号", "city": "上海市", "state_id": env.ref("base.state_cn_SH").id, "phone": "021-59701234"}
        )
        product = env["product.product"].create({"name": f"Cup {tag}", "type": "consu", "is_storable": True})
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10)
        buyer = env["res.partner"].create(
            {
                "name": "并发测试",
                "mobile": "13800138000",
                "street": "朝阳区建国路88号",
                "city": "北京市",
                "state_id": env.ref("base.state_cn_BJ").id,
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": buyer.id,
                "warehouse_id": warehouse.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = carrier
        return picking.id


def test_two_workers_one_waybill(simulator):
    registry = Registry(odoo.tools.config["db_name"])
    picking_id = _committed_delivery(registry, simulator)
    simulator.inject("latency", request_type="1007", seconds=1.5, count=2)
    outcomes = []
    started = threading.Barrier(2)

    def worker(delay):
        started.wait()
        threading.Event().wait(delay)
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, odoo.SUPERUSER_ID, {})
                outcomes.append(("issued", env["stock.picking"].browse(picking_id)._kdniao_issue_waybill()))
        except UserError as error:
            outcomes.append(("refused", str(error)))

    threads = [threading.Thread(target=worker, args=(delay,)) for delay in (0.0, 0.3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["issued", "refused"], outcomes
    assert "someone else" in dict(outcomes)["refused"]
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        picking = env["stock.picking"].browse(picking_id)
        assert picking.waybill_number == dict(outcomes)["issued"]
        order_code = picking.kdniao_order_code
    created = [r for r in simulator.requests if r["request_type"] == "1007" and r["data"]["OrderCode"] == order_code]
    assert len(created) == 1
    # The refused user simply tries again later and gets the same waybill without a new request.
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        assert env["stock.picking"].browse(picking_id)._kdniao_issue_waybill() == dict(outcomes)["issued"]
    assert len([r for r in simulator.requests if r["request_type"] == "1007"]) == 1
