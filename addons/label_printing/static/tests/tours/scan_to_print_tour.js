import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("label_printing_scan_to_print_tour", {
    steps: () => [
        {
            content: "An unknown code is refused in red",
            trigger: "input.o_label_scan_input",
            run: "edit NOPE-404",
        },
        {
            trigger: "input.o_label_scan_input",
            run: "press Enter",
        },
        {
            trigger: ".o_label_scan_result.o_label_scan_not_found.text-bg-danger",
        },
        {
            content: "The order's label prints, in green",
            trigger: "input.o_label_scan_input",
            run: "edit SCAN-TOUR-1",
        },
        {
            trigger: "input.o_label_scan_input",
            run: "press Enter",
        },
        {
            trigger: ".o_label_scan_result.o_label_scan_printed.text-bg-success:contains('SF5550000000009')",
        },
        {
            content: "Scanned again: already printed, in orange",
            trigger: "input.o_label_scan_input",
            run: "edit SCAN-TOUR-1",
        },
        {
            trigger: "input.o_label_scan_input",
            run: "press Enter",
        },
        {
            trigger: ".o_label_scan_result.o_label_scan_already_printed.text-bg-warning",
        },
        {
            trigger: ".o_label_scan_history tr:eq(2)",
        },
    ],
});
