import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("shop_logistics_tracking_page_tour", {
    steps: () => [
        {
            content: "A wrong phone tail finds nothing",
            trigger: "input#number",
            run: "edit SF1234567890123",
        },
        {
            trigger: "input#phone_tail",
            run: "edit 1111",
        },
        {
            trigger: "button.o_logistics_tracking_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Not found, in Chinese",
            trigger: ".o_logistics_tracking_not_found:contains('没有')",
        },
        {
            trigger: "input#number",
            run: "edit SF1234567890123",
        },
        {
            trigger: "input#phone_tail",
            run: "edit 8000",
        },
        {
            trigger: "button.o_logistics_tracking_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The parcel, its carrier and its newest scan",
            trigger: ".o_logistics_tracking_result .o_logistics_tracking_waybill:contains('SF1234567890123')",
        },
        {
            trigger: ".o_logistics_tracking_events li:first:contains('上海转运中心')",
        },
    ],
});
