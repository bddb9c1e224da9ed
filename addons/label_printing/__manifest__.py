{
    "name": "Label Printing",
    "summary": "E-waybill labels in batch, straight to thermal printers (ESC/POS, TSPL, ZPL, PDF)",
    "version": "18.0.1.0.0",
    "category": "Inventory/Delivery",
    "author": "shop-logistics",
    "website": "https://github.com/shop-logistics/shop-logistics",
    "license": "LGPL-3",
    "depends": ["shop_logistics", "stock_picking_batch"],
    "data": [
        "security/ir.model.access.csv",
        "security/label_printing_rules.xml",
        "data/label_printing_data.xml",
        "views/logistics_printer_views.xml",
        "views/logistics_print_job_views.xml",
        "views/logistics_print_batch_views.xml",
        "views/stock_picking_batch_views.xml",
        "views/stock_picking_views.xml",
        "views/scan_to_print_views.xml",
        "report/logistics_reports.xml",
    ],
    "demo": [
        "demo/label_printing_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "label_printing/static/src/scan_to_print/*",
            "label_printing/static/src/direct_print/*",
            "label_printing/static/src/print_batch/*",
        ],
        "web.assets_tests": [
            "label_printing/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
