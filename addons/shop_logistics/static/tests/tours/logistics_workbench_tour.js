import { registry } from "@web/core/registry";

function openLogisticsApp(label) {
    return [
        {
            content: "Open the app switcher",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: `Open the Logistics app (${label})`,
            trigger: `.o_app[data-menu-xmlid='shop_logistics.menu_logistics_root']:contains('${label}')`,
            run: "click",
        },
    ];
}

function openMenu(section, item) {
    return [
        {
            trigger: `.o_menu_sections [data-menu-xmlid='shop_logistics.${section}']`,
            run: "click",
        },
        {
            trigger: `.o-dropdown--menu [data-menu-xmlid='shop_logistics.${item}']`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("shop_logistics_workbench_tour", {
    steps: () => [
        ...openLogisticsApp("Logistics"),
        {
            content: "The workbench card of the shop offers its held order",
            trigger: ".o_logistics_workbench .o_kanban_record:contains('Tour Shop') button:contains('1 On Hold')",
            run: "click",
        },
        {
            content: "The held order is listed in red with its reason",
            trigger: ".o_list_view .o_data_row.text-danger:contains('TOUR-1'):contains('TOUR street missing')",
        },
        ...openMenu("menu_logistics_shipments", "menu_logistics_shipments_exception"),
        {
            content: "The exception list is open",
            trigger: ".o_breadcrumb:contains('Shipments in Exception')",
        },
        ...openMenu("menu_logistics_reporting", "menu_logistics_reporting_shipments"),
        {
            content: "The graph view is shown",
            trigger: ".o_graph_renderer",
        },
        ...openMenu("menu_logistics_config", "menu_logistics_config_shops"),
        {
            content: "The shop list is shown",
            trigger: ".o_list_view .o_data_row:contains('Tour Shop')",
        },
    ],
});

registry.category("web_tour.tours").add("shop_logistics_workbench_tour_zh", {
    steps: () => [
        ...openLogisticsApp("物流"),
        {
            content: "工作台显示店铺卡片和挂起订单数",
            trigger: ".o_logistics_workbench .o_kanban_record:contains('Tour Shop') button:contains('1 已挂起')",
        },
        ...openMenu("menu_logistics_orders", "menu_logistics_orders_on_hold"),
        {
            content: "挂起的订单以红色显示",
            trigger: ".o_data_row.text-danger:contains('TOUR-1'):contains('地址不完整')",
        },
        {
            content: "选择挂起的订单",
            trigger: ".o_data_row:contains('TOUR-1') .o_list_record_selector input",
            run: "click",
        },
        {
            content: "批量放行",
            trigger: ".o_control_panel_actions button:contains('放行')",
            run: "click",
        },
        {
            content: "订单已放行，不再出现在挂起列表中",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('TOUR-1')))",
        },
    ],
});
