{
    "name": "KDNiao Carrier",
    "summary": "KDNiao (快递鸟) e-waybills, tracking and pickup for 200+ express companies",
    "version": "18.0.1.0.0",
    "category": "Inventory/Delivery",
    "author": "shop-logistics",
    "website": "https://github.com/shop-logistics/shop-logistics",
    "license": "LGPL-3",
    "depends": ["shop_logistics"],
    "data": [
        "security/ir.model.access.csv",
        "security/kdniao_rules.xml",
        "data/kdniao_data.xml",
        "views/kdniao_account_views.xml",
        "views/logistics_carrier_account_views.xml",
        "views/delivery_carrier_views.xml",
        "views/stock_picking_views.xml",
        "views/kdniao_recognize_wizard_views.xml",
    ],
    "demo": [
        "demo/kdniao_demo.xml",
    ],
    "installable": True,
}
