import io
import json

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.label_printing import label_render
from odoo.addons.queue_job.job import Job

from .common import LabelPrintingCase


@tagged("post_install", "-at_install")
class TestPrintBatch(LabelPrintingCase):
    """Print Labels on many deliveries: prepared in chunks by queue jobs (channel root.print), the progress on a
    print batch, then one job per printer in carrier and location order."""

    def _deliveries(self, count, account, prefix):
        return self.env["stock.picking"].concat(
            *(self._delivery(account, f"{prefix}{number:05d}") for number in range(1, count + 1))
        )

    def _batch_of(self, action):
        self.assertEqual((action["type"], action["res_model"]), ("ir.actions.act_window", "logistics.print.batch"))
        return self.env["logistics.print.batch"].browse(action["res_id"])

    def _chunk_jobs(self, batch):
        return self.env["queue.job"].search(
            [("identity_key", "=like", f"logistics-print-batch-{batch.id}-%")], order="id"
        )

    def _run(self, queue_job):
        return Job.load(self.env, queue_job.uuid).perform()

    def _counts(self, batch):
        return (batch.delivery_count, batch.pending_count, batch.done_count, batch.failed_count, batch.skipped_count)

    # ------------------------------------------------------------------ large selections

    def test_large_selection_is_prepared_in_the_queue_with_exact_progress_and_failures_listed(self):
        self.assertEqual(self.env["logistics.print.batch"]._async_threshold(), 50)
        self.assertEqual(self.env["logistics.print.batch"]._chunk_size(), 25)
        zto = self._deliveries(30, self.zto, "ZT77000000")
        sf = self._deliveries(30, self.sf, "SF10000000")
        no_method = self._delivery() | self._delivery()  # no shipping method: no waybill can be issued
        unprintable = self._delivery(self.sf, "顺丰-30")  # not encodable in Code 128
        printed = self._delivery(self.zto, "ZT7799999999999")
        printed._set_logistics_state("printed")
        good, bad = zto | sf, no_method | unprintable
        selection = zto | no_method | sf | printed | unprintable

        batch = self._batch_of(selection.action_print_labels())

        self.assertEqual((batch.state, batch.user_id, batch.reprint), ("queued", self.env.user, False))
        self.assertEqual(self._counts(batch), (64, 63, 0, 0, 1))
        self.assertAlmostEqual(batch.progress, 100 / 64)
        self.assertEqual(batch.problem_line_ids.picking_id, printed)
        self.assertIn("already printed", batch.problem_line_ids.reason)
        chunks = self._chunk_jobs(batch)
        self.assertEqual(len(chunks), 3, "63 deliveries in chunks of 25")
        self.assertEqual(set(chunks.mapped("channel")), {"root.print"})
        self.assertEqual(set(chunks.mapped("priority")), {20}, "after print jobs of other desks (priority 10)")
        self.assertEqual(set(chunks.mapped("state")), {"pending"})
        self.assertFalse(batch.job_ids)
        self.assertFalse(self._job_of(selection), "nothing is sent before the labels are prepared")
        # The clerk clicks again while the batch is being prepared: nothing is printed twice.
        again = (good | bad).action_print_labels()
        self.assertEqual(again["params"]["type"], "warning")
        self.assertIn("Skipped", again["params"]["message"])
        self.assertEqual(self.env["logistics.print.batch"].search_count([]), 1)

        lines = batch.line_ids.sorted("sequence")
        expected_done, expected_failed = 0, 0
        for index, chunk in enumerate(chunks):
            self._run(chunk)
            in_chunk = lines.filtered(lambda line, index=index: line.chunk == index).picking_id
            expected_done += len(in_chunk & good)
            expected_failed += len(in_chunk & bad)
            processed = expected_done + expected_failed + 1
            self.assertEqual(self._counts(batch), (64, 64 - processed, expected_done, expected_failed, 1))
            self.assertAlmostEqual(batch.progress, 100 * processed / 64)
            self.assertEqual(batch.state, "done" if index == 2 else "running")
            self.assertEqual(bool(batch.job_ids), index == 2, "sent once every chunk is prepared")

        self.assertEqual(self._counts(batch), (64, 0, 60, 3, 1))
        self.assertTrue(batch.date_done)
        self.assertFalse(batch.part_ids, "the prepared parts are dropped once sent")
        reasons = {line.picking_id: line.reason for line in batch.problem_line_ids}
        for picking in no_method:
            self.assertIn(f"{picking.name} has no shipping method", reasons[picking])
        self.assertIn("its label cannot be made", reasons[unprintable])
        job = batch.job_ids
        self.assertEqual((job.printer_id, job.kind, job.label_count, job.state), (self.printer, "label", 60, "queued"))
        self.assertEqual(job.picking_ids, good)
        self.assertEqual(batch.line_ids.filtered(lambda line: line.state == "done").job_id, job)

        self._run_queue_job(job)

        self.assertEqual(self._received(), [job.attachment_id.raw])
        self.assertEqual(set(good.mapped("logistics_state")), {"printed"})
        self.assertTrue(all(picking.logistics_state != "printed" for picking in bad))
        # One job, SF before ZTO (carrier order), each carrier's deliveries in order, the chunks joined seamlessly.
        data = job.attachment_id.raw
        self.assertEqual(data.count(b"SIZE "), 1, "the printer setup is sent once")
        self.assertEqual(data.count(b"PRINT 1,1"), 60)
        expected = sorted(sf.mapped("waybill_number")) + sorted(zto.mapped("waybill_number"))
        for page in (0, 24, 25, 29, 30, 49, 50, 59):
            self.assertEqual(self._code128(label_render.raster_from_tspl(data, page=page)), [expected[page]])

    def test_progress_is_pushed_to_the_clerk_on_the_bus(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        batch = self._batch_of(self._deliveries(3, self.sf, "SF20000000").action_print_labels())
        self.env["bus.bus"].search([]).unlink()
        self._run(self._chunk_jobs(batch))
        self.env.cr.precommit.run()  # the bus sends what a commit would send
        messages = [
            (json.loads(bus.channel), json.loads(bus.message)) for bus in self.env["bus.bus"].search([])
            if json.loads(bus.message)["type"] == "label_printing/print_batch"
        ]
        self.assertEqual(len(messages), 1)
        channel, message = messages[0]
        self.assertEqual(channel[1:], ["res.partner", self.env.user.partner_id.id])
        self.assertEqual(message["payload"], {"id": batch.id, "state": "done", "progress": 100.0})

    def test_threshold_and_chunk_size_are_system_parameters(self):
        parameters = self.env["ir.config_parameter"]
        deliveries = self._deliveries(5, self.zto, "ZT77100000")
        parameters.set_param("label_printing.async_threshold", 5)
        result = deliveries[:5].action_print_labels()
        self.assertEqual(result["tag"], "display_notification", "5 deliveries are not more than the threshold")
        self.assertFalse(self.env["logistics.print.batch"].search([]))

        more = self._deliveries(6, self.sf, "SF30000000")
        parameters.set_param("label_printing.batch_chunk_size", 4)
        batch = self._batch_of(more.action_print_labels())
        self.assertEqual(len(self._chunk_jobs(batch)), 2)
        parameters.set_param("label_printing.batch_chunk_size", "many")
        self.assertEqual(self.env["logistics.print.batch"]._chunk_size(), 25)

    def test_deliveries_of_two_warehouses_go_to_their_printers(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        here = self._deliveries(2, self.sf, "SF40000000")
        elsewhere = self._deliveries(2, self.zto, "ZT77200000")
        other_warehouse = self.env["stock.warehouse"].create({"name": "无打印机仓", "code": "NOP"})
        elsewhere.picking_type_id = other_warehouse.out_type_id
        batch = self._batch_of((here | elsewhere).action_print_labels())
        self._run(self._chunk_jobs(batch))
        printer_job = batch.job_ids.filtered("printer_id")
        download = batch.job_ids - printer_job
        self.assertEqual((printer_job.picking_ids, printer_job.data_format), (here, "tspl"))
        self.assertEqual((download.picking_ids, download.data_format, download.state), (elsewhere, "pdf", "sent"))
        self.assertEqual(batch.download_job_id, download)
        self.assertEqual(batch.action_download()["url"], f"/web/content/{download.attachment_id.id}?download=true")
        self.assertEqual(len(label_render.PdfReader(io.BytesIO(download.attachment_id.raw)).pages), 2)

    def test_reprint_in_a_batch_prints_again_and_logs_it(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        deliveries = self._deliveries(3, self.sf, "SF50000000")
        deliveries._advance_logistics_state("printed")
        batch = self._batch_of(deliveries.action_reprint_labels())
        self.assertTrue(batch.reprint)
        self.assertEqual(batch.skipped_count, 0)
        self._run(self._chunk_jobs(batch))
        self.assertEqual((batch.job_ids.kind, batch.job_ids.label_count), ("reprint", 3))
        for picking in deliveries:
            self.assertEqual(len(picking.message_ids.filtered(lambda m: "reprinted" in (m.body or ""))), 1)

    def test_cancel_leaves_the_rest_out_and_failed_ones_print_again(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        self.env["ir.config_parameter"].set_param("label_printing.batch_chunk_size", 2)
        deliveries = self._deliveries(4, self.zto, "ZT77300000")
        batch = self._batch_of(deliveries.action_print_labels())
        first, second = self._chunk_jobs(batch)
        self._run(first)
        self.assertEqual(self._counts(batch), (4, 2, 2, 0, 0))

        batch.action_cancel()

        self.assertEqual((batch.state, self._counts(batch)), ("cancelled", (4, 0, 0, 4, 0)))
        self.assertFalse(batch.part_ids)
        self.assertIn("cancelled by", batch.problem_line_ids[0].reason)
        self.assertEqual(self._run(second), "cancelled", "a cancelled batch's chunk does nothing")
        self.assertFalse(batch.job_ids)
        with self.assertRaises(UserError):
            batch.action_cancel()

        result = batch.action_print_failed()
        retry = self._batch_of(result)
        self.assertNotEqual(retry, batch)
        for chunk in self._chunk_jobs(retry):
            self._run(chunk)
        self.assertEqual(retry.job_ids.picking_ids, deliveries)

    def test_unexpected_error_in_a_chunk_fails_its_deliveries_not_the_batch(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        deliveries = self._deliveries(3, self.sf, "SF60000000")
        batch = self._batch_of(deliveries.action_print_labels())
        # A printer whose paper has no label layout is a configuration the code did not foresee.
        self.env.cr.execute("UPDATE logistics_printer SET paper_size = 'a5' WHERE id = %s", (self.printer.id,))
        self.printer.invalidate_recordset()
        with self.assertLogs("odoo.addons.label_printing.models.logistics_print_batch", "ERROR"):
            self._run(self._chunk_jobs(batch))
        self.assertEqual((batch.state, batch.failed_count), ("done", 3))
        self.assertIn("could not be prepared", batch.problem_line_ids[0].reason)

    def test_stalled_batch_is_queued_again_by_the_cron(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        batch = self._batch_of(self._deliveries(3, self.sf, "SF70000000").action_print_labels())
        lost = self._chunk_jobs(batch)
        lost.unlink()
        model = self.env["logistics.print.batch"]
        self.assertFalse(model._cron_resume_stalled(), "not stalled yet")
        self.env.cr.execute(
            "UPDATE logistics_print_batch SET write_date = now() at time zone 'utc' - interval '1 hour' WHERE id = %s",
            (batch.id,),
        )
        batch.invalidate_recordset()
        self.assertEqual(model._cron_resume_stalled(), batch)
        resumed = self._chunk_jobs(batch)
        self.assertEqual(len(resumed), 1)
        self.assertEqual(model._cron_resume_stalled(), batch)
        self.assertEqual(self._chunk_jobs(batch), resumed, "a chunk still waiting is not queued twice")
        self._run(resumed)
        self.assertEqual(batch.done_count, 3)

    def test_clerk_runs_a_batch(self):
        clerk = new_test_user(self.env, login="lp_batch_clerk",
                              groups="base.group_user,shop_logistics.group_logistics_user")
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        deliveries = self._deliveries(3, self.sf, "SF80000000")
        batch = self._batch_of(deliveries.with_user(clerk).action_print_labels())
        self.assertEqual(batch.user_id, clerk)
        chunk = self._chunk_jobs(batch)
        self.assertEqual(chunk.user_id, clerk)
        self._run(chunk)
        self.assertEqual(batch.with_user(clerk).done_count, 3)
        self.assertEqual(batch.job_ids.user_id, clerk)

    # ------------------------------------------------------------------ picking batches

    def _picking_batch(self, pickings):
        return self.env["stock.picking.batch"].create(
            {"picking_ids": [Command.set(pickings.ids)], "picking_type_id": pickings[0].picking_type_id.id}
        )

    def test_picking_batch_prints_its_deliveries(self):
        deliveries = self._deliveries(3, self.zto, "ZT77400000") | self._delivery(self.sf, "SF9000000000001")
        picking_batch = self._picking_batch(deliveries)
        result = picking_batch.action_print_labels()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        job = self._job_of(deliveries)
        self.assertEqual((job.picking_ids, job.label_count), (deliveries, 4))
        self._run_queue_job(job)
        first = label_render.raster_from_tspl(self._received()[0], page=0)
        self.assertEqual(self._code128(first), ["SF9000000000001"], "sorted by carrier as everywhere")
        again = picking_batch.action_print_labels()
        self.assertIn("Skipped", again["params"]["message"])

    def test_large_picking_batch_prints_through_a_print_batch(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        deliveries = self._deliveries(3, self.sf, "SF91000000")
        picking_batch = self._picking_batch(deliveries)
        batch = self._batch_of(picking_batch.action_print_labels())
        self.assertEqual(batch.picking_batch_ids, picking_batch)
        self._run(self._chunk_jobs(batch))
        self.assertEqual(batch.job_ids.picking_ids, deliveries)
        reprint = self._batch_of(picking_batch.action_reprint_labels())
        self.assertTrue(reprint.reprint)

    def test_picking_batch_without_delivery_is_refused(self):
        receipt_type = self.warehouse.in_type_id
        receipt = self.env["stock.picking"].create(
            {"picking_type_id": receipt_type.id, "location_id": self.env.ref("stock.stock_location_suppliers").id,
             "location_dest_id": self.warehouse.lot_stock_id.id}
        )
        picking_batch = self.env["stock.picking.batch"].create({"picking_ids": [Command.set(receipt.ids)]})
        with self.assertRaisesRegex(UserError, "has no delivery to print a label for"):
            picking_batch.action_print_labels()


@tagged("post_install", "-at_install")
class TestPrintBatchScreen(HttpCase, LabelPrintingCase):
    def test_print_batch_form_follows_the_queue_in_a_real_browser(self):
        self.env["ir.config_parameter"].set_param("label_printing.async_threshold", 2)
        deliveries = self.env["stock.picking"].concat(
            *(self._delivery(self.sf, f"SF777000000000{number}") for number in range(1, 4))
        )
        picking_batch = self.env["stock.picking.batch"].create(
            {"picking_ids": [Command.set(deliveries.ids)], "picking_type_id": deliveries[0].picking_type_id.id}
        )
        self.start_tour(f"/odoo/action-stock_picking_batch.stock_picking_batch_action/{picking_batch.id}",
                        "label_printing_print_batch_tour", login="admin")
        batch = self.env["logistics.print.batch"].search([("picking_batch_ids", "=", picking_batch.id)])
        self.assertEqual((batch.state, batch.done_count), ("done", 3))
        self.assertEqual(batch.job_ids.picking_ids, deliveries)
