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

/* Customer service, in Chinese: the order of a parcel in trouble is red; its ticket is taken, resolved by a
   re-delivery and then listed as resolved; the order is no longer red. */
registry.category("web_tour.tours").add("shop_logistics_ticket_tour", {
    steps: () => [
        ...openLogisticsApp("物流"),
        ...openMenu("menu_logistics_orders", "menu_logistics_orders_all"),
        {
            content: "派送失败的订单在订单列表中显示为红色",
            trigger: ".o_list_view .o_data_row.text-danger:contains('TOUR-EXC-1')",
        },
        ...openMenu("menu_logistics_shipments", "menu_logistics_shipments_tickets"),
        {
            content: "异常工单列表",
            trigger: ".o_breadcrumb:contains('异常工单')",
        },
        {
            content: "打开这张派送失败的工单",
            trigger: ".o_list_view .o_data_row:contains('TOURWB7001'):contains('派送失败') td[name='name']",
            run: "click",
        },
        {
            content: "工单显示快件和承运商上报的问题",
            trigger: ".o_form_view .o_field_widget[name='detail']:contains('派送不成功')",
        },
        {
            content: "把工单分派给自己",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_assign_to_me']",
            run: "click",
        },
        {
            content: "工单进入处理中，负责人是自己",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='in_progress']",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='user_id'] input:value(Tour CS)",
        },
        {
            content: "处理方式：重新派送",
            trigger: ".o_form_view .o_field_widget[name='resolution'] select",
            run: 'select "redeliver"',
        },
        {
            content: "写下处理说明",
            trigger: ".o_form_view .o_field_widget[name='resolution_note'] textarea",
            run: "edit 已联系买家，约好明天重新派送",
        },
        {
            content: "处理完成",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_resolve']",
            run: "click",
        },
        {
            content: "工单已解决",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='done']",
        },
        {
            content: "回到工单列表",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('异常工单')",
            run: "click",
        },
        {
            content: "默认只看未关闭的工单：已解决的不在其中",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('TOURWB7001')))",
        },
        {
            content: "去掉“未关闭”筛选",
            trigger: ".o_searchview_facet:contains('未关闭') .o_facet_remove",
            run: "click",
        },
        {
            content: "已解决的工单带着处理方式列在列表中",
            trigger: ".o_list_view .o_data_row:contains('TOURWB7001'):contains('重新派送'):contains('已解决')",
        },
        ...openMenu("menu_logistics_orders", "menu_logistics_orders_all"),
        {
            content: "订单不再是红色",
            trigger: ".o_list_view .o_data_row:not(.text-danger):contains('TOUR-EXC-1')",
        },
    ],
});

/* Logistics manager over the #5 screens: a held order is released from the audit queue, the routing rules are
   read, and the routing of a delivery is simulated with its explanation. */
registry.category("web_tour.tours").add("shop_logistics_routing_tour", {
    steps: () => [
        ...openLogisticsApp("Logistics"),
        ...openMenu("menu_logistics_orders", "menu_logistics_orders_on_hold"),
        {
            content: "The held order shows its reason in red",
            trigger: ".o_list_view .o_data_row.text-danger:contains('TOUR-HOLD-1'):contains('TOUR street missing') td[name='name']",
            run: "click",
        },
        {
            content: "The order says why it is held",
            trigger: ".o_form_view .alert-danger:contains('TOUR street missing')",
        },
        {
            content: "Release it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_logistics_release']",
            run: "click",
        },
        {
            content: "Released: the order can be held again, not released",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_logistics_release'])) button[name='action_logistics_hold']",
        },
        {
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Orders on Hold')",
            run: "click",
        },
        {
            content: "The released order left the queue",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('TOUR-HOLD-1')))",
        },
        ...openMenu("menu_logistics_config", "menu_logistics_config_routing_rules"),
        {
            content: "The routing rules, by priority",
            trigger: ".o_list_view .o_data_row:contains('Tour ZTO rule'):contains('Tour ZTO') td[name='name']",
            run: "click",
        },
        {
            content: "The rule's conditions and carrier",
            trigger: ".o_form_view .o_field_widget[name='region_set_ids']:contains('江浙沪')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='carrier_account_id'] input",
        },
        ...openMenu("menu_logistics_shipments", "menu_logistics_shipments_to_route"),
        {
            content: "Open the delivery to route",
            trigger: ".o_list_view .o_data_row:contains('TOUR-ROUTE-1') td[name='name']",
            run: "click",
        },
        {
            content: "Simulate its routing",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_logistics_simulate_routing']",
            run: "click",
        },
        {
            content: "The decision and why: the rule, the expected freight and the rules skipped",
            trigger: ".modal .o_field_widget[name='line_ids'] .o_data_row:contains('Tour ZTO rule'):contains('Rule Tour ZTO rule matched'):contains('Expected freight')",
        },
        {
            trigger: ".modal .o_field_widget[name='line_ids'] .o_data_row:contains('Destination not in')",
        },
        {
            content: "Close: nothing was changed",
            trigger: ".modal-footer button:contains('Close')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
