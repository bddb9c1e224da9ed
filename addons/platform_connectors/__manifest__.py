{
    "name": "Platform Connectors",
    "summary": "Orders from Taobao/Tmall, JD, Douyin, Pinduoduo, Kuaishou, Youzan, Shopify, WooCommerce into Odoo",
    "version": "18.0.1.0.0",
    "category": "Sales",
    "author": "shop-logistics",
    "website": "https://github.com/shop-logistics/shop-logistics",
    "license": "LGPL-3",
    "depends": ["shop_logistics"],
    "data": [
        "security/ir.model.access.csv",
        "security/platform_connectors_rules.xml",
        "data/platform_connectors_data.xml",
        "data/platform_connectors_cron.xml",
        "views/logistics_sync_log_views.xml",
        "views/logistics_shop_views.xml",
        "views/logistics_sku_mapping_views.xml",
    ],
    "demo": [
        "demo/platform_connectors_demo.xml",
    ],
    "installable": True,
}
