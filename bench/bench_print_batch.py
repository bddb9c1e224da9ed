"""Benchmark: Print Labels on many KDNiao deliveries without waybills, through a print batch, end to end.

    .venv/bin/python bench/bench_print_batch.py [--count 500] [--latency 0.1] [--templates] [--language tspl]

Runs in Odoo on the database ``shop_logistics_bench_labels`` (made like bench_kdniao_waybills.py's). The click
creates the print batch; each chunk job (run here one after the other, as the root.print channel does) issues
its waybills at the KDNiao simulator and renders its labels; the last one sends one job to a loopback printer
(tests/simulators/printer.py), which must receive it whole. ``--templates`` prints KDNiao's print templates
(wkhtmltopdf, pdftoppm) instead of our layout.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devctl  # noqa: E402
from bench_kdniao_waybills import (  # noqa: E402
    API_KEY,
    EBUSINESS_ID,
    configure_odoo,
    create_deliveries,
    ensure_bench_database,
)

BENCH_DB = "shop_logistics_bench_labels"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the simulator waits on every call")
    parser.add_argument("--templates", action="store_true", help="print KDNiao's print templates")
    parser.add_argument("--language", default="tspl", choices=("tspl", "zpl", "escpos", "pdf"))
    args = parser.parse_args()

    odoo_src = devctl.setup()
    ensure_bench_database(odoo_src, BENCH_DB)

    import odoo
    from odoo import api
    from odoo.addons.queue_job.job import Job
    from odoo.modules.registry import Registry

    from tests.simulators.kdniao import KdniaoSimulator
    from tests.simulators.printer import RawPrinter

    configure_odoo(odoo_src, BENCH_DB)
    simulator = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY}).start()
    simulator.rate_limits = {}
    printer_sim = RawPrinter().start()
    registry = Registry(BENCH_DB)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            pickings = create_deliveries(env, simulator, args.count)
            pickings.action_confirm()
            pickings.carrier_id.write({"kdniao_return_template": args.templates,
                                       "label_use_carrier_template": args.templates})
            env["logistics.printer"].search([]).active = False
            env["logistics.printer"].create(
                {"name": "Bench printer", "host": "127.0.0.1", "port": printer_sim.port, "language": args.language,
                 "paper_size": "100x150", "warehouse_id": pickings[0].picking_type_id.warehouse_id.id}
            )
            cr.commit()
            simulator.inject("latency", seconds=args.latency, count=10 * args.count)

            started = time.perf_counter()
            batch = env["logistics.print.batch"].browse(pickings.action_print_labels()["res_id"])
            cr.commit()
            click = time.perf_counter() - started
            chunk_times = []
            for queue_job in env["queue.job"].search(
                [("identity_key", "=like", f"logistics-print-batch-{batch.id}-%")], order="id"
            ):
                chunk_started = time.perf_counter()
                Job.load(env, queue_job.uuid).perform()
                cr.commit()
                chunk_times.append(time.perf_counter() - chunk_started)
            prepared = time.perf_counter() - started
            job = batch.job_ids
            Job.load(env, job.queue_job_uuid).perform()
            cr.commit()
            received = printer_sim.wait_for_jobs(1, timeout=60) and printer_sim.jobs[0] == job.attachment_id.raw
            total = time.perf_counter() - started
            result = (batch.state, batch.done_count, batch.failed_count, job.label_count, job.size, job.state)
    finally:
        simulator.stop()
        printer_sim.stop()
    state, done, failed, labels, size, job_state = result
    print(
        f"{args.count} deliveries, {'KDNiao templates' if args.templates else 'our layout'}, {args.language}, "
        f"KDNiao calls at {args.latency * 1000:.0f} ms: click {click:.2f} s; {len(chunk_times)} chunks "
        f"(mean {sum(chunk_times) / len(chunk_times):.2f} s, max {max(chunk_times):.2f} s); all prepared "
        f"{prepared:.2f} s; sent {total:.2f} s ({args.count / total:.0f} labels/s)"
    )
    print(f"batch {state}: {done} printed, {failed} failed; one job of {labels} labels, {size / 1e6:.1f} MB, "
          f"{job_state}, printer received it whole: {received}")
    return 0 if state == "done" and done == args.count and received else 1


if __name__ == "__main__":
    sys.exit(main())
