import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

// Tone (Hz, ms) per answer: a clerk hears the result without looking up from the parcel.
const TONES = {
    printed: [[880, 120]],
    already_printed: [[520, 150], [520, 150]],
    on_hold: [[330, 250], [330, 250]],
    not_found: [[220, 450]],
    failed: [[220, 200], [180, 400]],
};
const HISTORY_SIZE = 20;

function beep(tones) {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) {
        return;
    }
    const audio = new AudioContext();
    let start = audio.currentTime;
    for (const [frequency, duration] of tones) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = frequency;
        gain.gain.value = 0.2;
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start);
        oscillator.stop(start + duration / 1000);
        start += duration / 1000 + 0.05;
    }
}

export class ScanToPrint extends Component {
    static template = "label_printing.ScanToPrint";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.input = useRef("scanInput");
        this.state = useState({ code: "", reprint: false, busy: false, last: null, history: [] });
        onMounted(() => this.input.el.focus());
    }

    get statusLabels() {
        return {
            printed: _t("Printed"),
            already_printed: _t("Already printed"),
            on_hold: _t("On hold"),
            not_found: _t("Not found"),
            failed: _t("Not printed"),
        };
    }

    async onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            await this.scan();
        }
    }

    async scan() {
        const code = this.state.code.trim();
        if (!code || this.state.busy) {
            return;
        }
        this.state.busy = true;
        try {
            const answer = await this.orm.call("stock.picking", "label_scan", [code], {
                reprint: this.state.reprint,
            });
            this.show({ ...answer, code });
            if (answer.action) {
                await this.action.doAction(answer.action);
            }
        } finally {
            this.state.code = "";
            this.state.busy = false;
            this.input.el?.focus();
        }
    }

    show(answer) {
        this.state.last = answer;
        this.state.history.unshift(answer);
        this.state.history.splice(HISTORY_SIZE);
        beep(TONES[answer.status] || TONES.failed);
    }

    panelClass(status) {
        return {
            printed: "text-bg-success",
            already_printed: "text-bg-warning",
            on_hold: "text-bg-warning",
            not_found: "text-bg-danger",
            failed: "text-bg-danger",
        }[status];
    }
}

registry.category("actions").add("label_printing.scan_to_print", ScanToPrint);
