from odoo import Command
from odoo.tests import TransactionCase


class LogisticsCase(TransactionCase):
    """Shops, a warehouse with stock and a confirmed shop order whose delivery is ready to ship."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.warehouse = cls.env["stock.warehouse"].create({"name": "测试仓 Test WH", "code": "TWH"})
        cls.shop = cls.env["logistics.shop"].create(
            {"name": "Test Tmall", "code": "T-TM", "platform": "tmall", "warehouse_id": cls.warehouse.id}
        )
        cls.other_shop = cls.env["logistics.shop"].create({"name": "Test JD", "code": "T-JD", "platform": "jd"})
        cls.product = cls.env["product.product"].create(
            {"name": "Test Cup", "default_code": "T-CUP", "type": "consu", "is_storable": True, "weight": 0.5}
        )
        cls.env["stock.quant"]._update_available_quantity(cls.product, cls.warehouse.lot_stock_id, 100)
        cls.buyer = cls.env["res.partner"].create(
            {
                "name": "王小明",
                "phone": "13800138000",
                "street": "朝阳区建国路88号",
                "city": "北京市",
                "country_id": cls.env.ref("base.cn").id,
            }
        )

    @classmethod
    def _shop_order(cls, platform_order_id, shop=None, **values):
        return cls.env["sale.order"].create(
            {
                "partner_id": cls.buyer.id,
                "shop_id": (shop or cls.shop).id,
                "platform_order_id": platform_order_id,
                "order_line": [Command.create({"product_id": cls.product.id, "product_uom_qty": 2})],
                **values,
            }
        )

    @classmethod
    def _confirmed_delivery(cls, platform_order_id):
        order = cls._shop_order(platform_order_id)
        order.action_confirm()
        return order.picking_ids
