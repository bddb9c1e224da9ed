import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

const BUS_NOTIFICATION = "label_printing/print_batch";
// The server notifies each step on the bus; the poll only covers a lost websocket.
const POLL_MS = 10000;
const ACTIVE_STATES = ["queued", "running"];

/**
 * Reload while a print batch is being prepared: when the server reports a step of a batch, and every
 * POLL_MS as long as a shown batch is still queued or preparing.
 */
function usePrintBatchRefresh({ isActive, concerns, reload }) {
    const bus = useService("bus_service");
    let timer;
    const onNotification = (payload) => {
        if (concerns(payload.id)) {
            reload();
        }
    };
    onMounted(() => {
        bus.subscribe(BUS_NOTIFICATION, onNotification);
        timer = setInterval(() => isActive() && reload(), POLL_MS);
    });
    onWillUnmount(() => {
        bus.unsubscribe(BUS_NOTIFICATION, onNotification);
        clearInterval(timer);
    });
}

export class PrintBatchFormController extends FormController {
    setup() {
        super.setup();
        usePrintBatchRefresh({
            isActive: () => ACTIVE_STATES.includes(this.model.root.data.state),
            concerns: (batchId) => batchId === this.model.root.resId,
            reload: () => !this.model.root.dirty && this.model.root.load(),
        });
    }
}

export class PrintBatchListController extends ListController {
    setup() {
        super.setup();
        usePrintBatchRefresh({
            isActive: () => this.model.root.records.some((record) => ACTIVE_STATES.includes(record.data.state)),
            concerns: () => true,
            reload: () => this.model.load(),
        });
    }
}

registry.category("views").add("label_print_batch_form", { ...formView, Controller: PrintBatchFormController });
registry.category("views").add("label_print_batch_list", { ...listView, Controller: PrintBatchListController });
