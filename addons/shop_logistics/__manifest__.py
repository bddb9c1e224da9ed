{
    "name": "Shop Logistics",
    "summary": "Logistics back office for online sellers: shops, order audit, routing, shipments, tracking",
    "version": "18.0.1.1.0",
    "category": "Inventory/Delivery",
    "author": "shop-logistics",
    "website": "https://github.com/shop-logistics/shop-logistics",
    "license": "LGPL-3",
    "depends": ["sale_stock", "stock_delivery", "queue_job"],
    "data": [
        "security/logistics_groups.xml",
        "security/ir.model.access.csv",
        "security/logistics_rules.xml",
        "data/logistics_remark_tag_data.xml",
        "views/logistics_shop_views.xml",
        "views/logistics_remark_tag_views.xml",
        "views/logistics_carrier_account_views.xml",
        "views/logistics_shipment_event_views.xml",
        "views/sale_order_views.xml",
        "views/stock_picking_views.xml",
        "views/logistics_menus.xml",
    ],
    "demo": [
        "demo/logistics_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "shop_logistics/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "_enter_open_deliveries_in_the_flow",
    "application": True,
    "installable": True,
}
