from datetime import datetime

from odoo import Command
from odoo.tests import TransactionCase

from tests.simulators.kdniao import KdniaoSimulator

EBUSINESS_ID = "test7654321"
API_KEY = "unit-test-kdniao-key"


class KdniaoCase(TransactionCase):
    """A KDNiao simulator on loopback, an account pointing at it, SF / ZTO / JD carriers and shop orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sim = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY}, start_time=datetime(2026, 11, 11, 9, 0))
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        cls.kdniao = cls.env["kdniao.account"].create(
            {"name": "Simulator", "ebusiness_id": EBUSINESS_ID, "api_key": API_KEY, "api_url": cls.sim.base_url, "timeout": 5}
        )
        cls.warehouse = cls.env["stock.warehouse"].create(
            {
                "name": "杭州仓",
                "code": "HZW",
                "partner_id": cls.env["res.partner"]
                .create(
                    {
                        "name": "杭州仓",
                        "street": "余杭区文一西路100号",
                        "city": "杭州市",
                        "state_id": cls.env.ref("base.state_cn_ZJ").id,
                        "country_id": cls.env.ref("base.cn").id,
                        "phone": "0571-88886666",
                    }
                )
                .id,
            }
        )
        cls.sf = cls._carrier("SF Test", "SF", kdniao_month_code="7551234567")
        cls.zto = cls._carrier("ZTO Test", "ZTO", kdniao_customer_name="testzto", kdniao_customer_pwd="testztopwd")
        cls.product = cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "TC-1", "type": "consu", "is_storable": True, "weight": 0.4}
        )
        cls.env["stock.quant"]._update_available_quantity(cls.product, cls.warehouse.lot_stock_id, 1000)
        cls.shop = cls.env["logistics.shop"].create({"name": "KD Shop", "platform": "tmall", "warehouse_id": cls.warehouse.id})
        cls.buyer = cls._buyer("李娜", "13900000002", "广东省深圳市南山区科技园南区1栋201", "深圳市", "base.state_cn_GD")

    @classmethod
    def _carrier(cls, name, code, **account_values):
        product = cls.env["product.product"].create({"name": name, "type": "service", "list_price": 12.0})
        carrier = cls.env["delivery.carrier"].create({"name": name, "delivery_type": "kdniao", "product_id": product.id})
        cls.env["logistics.carrier.account"].create(
            {
                "name": f"{name} account",
                "carrier_id": carrier.id,
                "express_code": code,
                "kdniao_account_id": cls.kdniao.id,
                **account_values,
            }
        )
        return carrier

    @classmethod
    def _buyer(cls, name, mobile, street, city, state_xmlid):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "mobile": mobile,
                "street": street,
                "city": city,
                "state_id": cls.env.ref(state_xmlid).id,
                "country_id": cls.env.ref("base.cn").id,
            }
        )

    @classmethod
    def _delivery(cls, carrier=None, buyer=None, quantity=2):
        order = cls.env["sale.order"].create(
            {
                "partner_id": (buyer or cls.buyer).id,
                "shop_id": cls.shop.id,
                "order_line": [Command.create({"product_id": cls.product.id, "product_uom_qty": quantity})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = carrier or cls.sf
        return picking

    def _requests(self, request_type):
        return [r for r in self.sim.requests if r["request_type"] == request_type]
