import { registry } from "@web/core/registry";

/**
 * Reports marked "Print Straight to the Printer" go to the warehouse's document printer; when the server
 * has no printer for them it answers printed: false and the browser downloads the PDF as usual.
 */
async function logisticsDirectPrint(action, options, env) {
    if (!action.logistics_direct_print || action.report_type !== "qweb-pdf") {
        return false;
    }
    const docids = action.context?.active_ids || (action.context?.active_id ? [action.context.active_id] : []);
    if (!docids.length) {
        return false;
    }
    const result = await env.services.orm.call("ir.actions.report", "logistics_direct_print_report", [
        action.report_name,
        docids,
    ]);
    if (!result.printed) {
        return false;
    }
    env.services.notification.add(result.message, { type: "success" });
    if (options.onClose) {
        options.onClose();
    }
    return true;
}

registry.category("ir.actions.report handlers").add("label_printing_direct_print", logisticsDirectPrint);
