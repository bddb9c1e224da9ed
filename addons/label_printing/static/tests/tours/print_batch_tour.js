import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { session } from "@web/session";

/** Play the queue_job runner: mark the waiting chunk jobs enqueued and ask Odoo to run them over HTTP. */
async function runPrintBatchChunks() {
    const call = (model, method, args, kwargs = {}) =>
        rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs });
    const jobs = await call("queue.job", "search_read", [
        [["method_name", "=", "_run_chunk"], ["state", "=", "pending"]],
        ["uuid"],
    ]);
    if (!jobs.length) {
        throw new Error("no print batch chunk waiting in the queue");
    }
    for (const job of jobs) {
        await call("queue.job", "write", [[job.id], { state: "enqueued" }]);
        await fetch(`/queue_job/runjob?db=${encodeURIComponent(session.db)}&job_uuid=${job.uuid}`);
    }
}

registry.category("web_tour.tours").add("label_printing_print_batch_tour", {
    steps: () => [
        {
            content: "Print the labels of the picking batch",
            trigger: ".o_form_view .o_form_statusbar button[name='action_print_labels']",
            run: "click",
        },
        {
            content: "Many deliveries: the print batch opens, queued",
            trigger: ".o_form_view .o_field_widget[name='progress'] .o_progressbar",
        },
        {
            trigger: ".o_form_statusbar .o_statusbar_status .o_arrow_button_current:contains('Queued')",
        },
        {
            content: "The queue prepares the labels in the background",
            trigger: ".o_form_view .o_field_widget[name='delivery_count']",
            run: runPrintBatchChunks,
        },
        {
            content: "The form follows by itself: done, every delivery printed",
            trigger: ".o_form_statusbar .o_statusbar_status .o_arrow_button_current:contains('Done')",
            timeout: 30000,
        },
        {
            trigger: ".o_form_view .o_field_widget[name='progress']:contains('100')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='done_count']:contains('3')",
        },
        {
            trigger: ".o_form_view button[name='action_view_jobs']:contains('Print Jobs')",
        },
    ],
});
