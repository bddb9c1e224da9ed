from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.label_printing import label_render

from .common import LabelPrintingCase


@tagged("post_install", "-at_install")
class TestPrintJobs(LabelPrintingCase):
    # ------------------------------------------------------------------ sending

    def test_printer_receives_exactly_the_job_bytes_in_carrier_then_location_order(self):
        zto_1 = self._delivery(self.zto, "ZT7700000000001")
        sf_1 = self._delivery(self.sf, "SF1000000000001")
        zto_2 = self._delivery(self.zto, "ZT7700000000002")
        pickings = zto_1 | sf_1 | zto_2
        result = pickings.action_print_labels()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        job = self._job_of(pickings)
        self.assertEqual((job.state, job.kind, job.label_count, job.data_format), ("queued", "label", 3, "tspl"))
        self.assertEqual(job.picking_ids, pickings)
        self.assertEqual(job.size, len(job.attachment_id.raw))
        self.assertEqual(set(pickings.mapped("logistics_state")), {"waybill_issued"}, "printed only once sent")

        self._run_queue_job(job)

        self.assertEqual(self._received(), [job.attachment_id.raw])
        self.assertEqual((job.state, job.attempts), ("sent", 1))
        self.assertTrue(job.sent_date)
        self.assertEqual(set(pickings.mapped("logistics_state")), {"printed"})
        data = self._received()[0]
        order = ["SF1000000000001", "ZT7700000000001", "ZT7700000000002"]
        for page, waybill in enumerate(order):
            self.assertEqual(self._code128(label_render.raster_from_tspl(data, page=page)), [waybill])

    def test_label_carries_the_delivery_data(self):
        picking = self._delivery(self.sf, "SF1000000000002", remark="勿电联")
        label = picking._label_data()
        self.assertEqual((label.waybill, label.express_code, label.express_name), ("SF1000000000002", "SF", "顺丰速运"))
        self.assertEqual(label.receiver["name"], "李娜")
        self.assertEqual(label.receiver["phone"], "13900000002")
        self.assertEqual((label.receiver["province"], label.receiver["city"]), ("广东省", "深圳市"))
        self.assertEqual(label.receiver["address"], "南山区科技园南区1栋201")
        self.assertEqual(label.sender["name"], "杭州优品旗舰店")
        self.assertEqual(label.sender["address"], "余杭区文一西路100号")
        self.assertEqual(label.goods_summary, "保温杯 ×2")
        self.assertEqual(label.remark, "勿电联")
        self.assertEqual(label.order_ref, picking.sale_id.name)

    def test_sub_waybills_print_one_label_per_parcel(self):
        picking = self._delivery(self.sf, "SF1000000000003")
        routing = {"mark_destination": "粤-深-南", "sorting_code": "755-W01 012", "package_name": "深圳转运中心",
                   "sub_waybills": ["SF1000000000004", "SF1000000000005"]}
        with patch.object(type(picking), "_label_routing", lambda self: routing):
            labels = picking._labels()
        self.assertEqual([label.waybill for label in labels], ["SF1000000000003", "SF1000000000004", "SF1000000000005"])
        numbering = [(label.sub_waybill_index, label.sub_waybill_count) for label in labels]
        self.assertEqual(numbering, [(1, 3), (2, 3), (3, 3)])
        self.assertEqual({label.mark_destination for label in labels}, {"粤-深-南"})
        self.assertEqual(labels[2].qr_payload, "SF1000000000005")

    def test_escpos_printer_gets_a_job_that_reads_back(self):
        self.printer.write({"language": "escpos", "paper_size": "76x130"})
        picking = self._delivery(self.zto, "ZT7700000000009")
        picking.action_print_labels()
        job = self._job_of(picking)
        self._run_queue_job(job)
        data = self._received()[0]
        self.assertEqual(data, job.attachment_id.raw)
        self.assertEqual(self._code128(label_render.raster_from_escpos(data)), ["ZT7700000000009"])

    # ------------------------------------------------------------------ offline printer

    def test_offline_printer_keeps_the_job_and_sends_it_when_back(self):
        picking = self._delivery(self.sf, "SF1000000000010")
        picking.action_print_labels()
        job = self._job_of(picking)
        first_queue_job = job.queue_job_uuid
        self.printer_sim.stop()

        self._run_queue_job(job)

        self.assertEqual((job.state, job.attempts), ("queued", 1))
        self.assertIn("refused the connection", job.last_error)
        self.assertNotEqual(job.queue_job_uuid, first_queue_job, "a new attempt is queued")
        retry = self.env["queue.job"].search([("uuid", "=", job.queue_job_uuid)])
        self.assertEqual((retry.state, retry.channel), ("pending", "root.print"))
        self.assertGreater(retry.eta, fields.Datetime.now())
        self.assertEqual(job.next_attempt_date, retry.eta)
        self.assertEqual(self.printer.online_state, "offline")
        self.assertEqual(picking.logistics_state, "waybill_issued")

        self.printer_sim.start()
        self._run_queue_job(job)

        self.assertEqual((job.state, job.attempts), ("sent", 2))
        self.assertFalse(job.last_error)
        self.assertEqual(self._received(), [job.attachment_id.raw])
        self.assertEqual(self.printer.online_state, "online")
        self.assertEqual(picking.logistics_state, "printed")

    def test_job_offline_too_long_fails_and_retry_sends_it(self):
        picking = self._delivery(self.sf, "SF1000000000011")
        picking.action_print_labels()
        job = self._job_of(picking)
        job.queued_date = fields.Datetime.now() - timedelta(hours=3)
        self.printer_sim.stop()
        self._run_queue_job(job)
        self.assertEqual(job.state, "failed")
        self.assertTrue(job.last_error)

        self.printer_sim.start()
        job.action_retry()
        self.assertEqual(job.state, "queued")
        self._run_queue_job(job)
        self.assertEqual(job.state, "sent")
        self.assertEqual(self._received(), [job.attachment_id.raw])

    def test_cron_requeues_a_job_that_lost_its_queue_job(self):
        picking = self._delivery(self.sf, "SF1000000000012")
        picking.action_print_labels()
        job = self._job_of(picking)
        lost = job.queue_job_uuid
        self.env["queue.job"].search([("uuid", "=", lost)]).unlink()
        self.assertFalse(self.env["logistics.print.job"]._cron_requeue_stuck_jobs(), "not stuck yet")
        job.next_attempt_date = fields.Datetime.now() - timedelta(minutes=20)

        self.assertEqual(self.env["logistics.print.job"]._cron_requeue_stuck_jobs(), job)
        self.assertNotEqual(job.queue_job_uuid, lost)
        self._run_queue_job(job)
        self.assertEqual(job.state, "sent")
        # A job whose queue job is still waiting is left alone.
        other = self._delivery(self.sf, "SF1000000000013")
        other.action_print_labels()
        waiting = self._job_of(other)
        waiting.next_attempt_date = fields.Datetime.now() - timedelta(minutes=20)
        before = waiting.queue_job_uuid
        self.env["logistics.print.job"]._cron_requeue_stuck_jobs()
        self.assertEqual(waiting.queue_job_uuid, before)

    # ------------------------------------------------------------------ batch

    def test_batch_with_partial_failure_prints_the_others_and_lists_the_failures(self):
        good = self._delivery(self.sf, "SF1000000000020") | self._delivery(self.zto, "ZT7700000000020")
        no_method = self._delivery()  # no shipping method: no way to get a waybill
        no_number = self._delivery(self.zto)  # a fixed-price method gives no waybill number
        unprintable = self._delivery(self.sf, "顺丰-20")  # not encodable in Code 128
        result = (good | no_method | no_number | unprintable).action_print_labels()

        params = result["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn(f"{no_method.name}: {no_method.name} has no shipping method", params["message"])
        self.assertIn(f"{no_number.name}: 中通快递 gave no waybill number", params["message"])
        self.assertIn(f"{unprintable.name}: its label cannot be made", params["message"])
        job = self._job_of(good)
        self.assertEqual(job.picking_ids, good)
        self.assertEqual(job.label_count, 2)
        self.assertIn(job.name, params["message"])
        self._run_queue_job(job)
        self.assertEqual(set(good.mapped("logistics_state")), {"printed"})
        for picking in no_method | no_number | unprintable:
            self.assertFalse(picking.print_job_ids)
            self.assertNotEqual(picking.logistics_state, "printed")

    def test_missing_waybills_are_issued_before_printing(self):
        picking = self._delivery(self.zto)
        self.assertFalse(picking.waybill_number)

        def send_shipping(carrier, pickings):
            return [{"exact_price": 10.0, "tracking_number": "ZT7700000000030"} for _picking in pickings]

        with patch.object(type(self.env["delivery.carrier"]), "fixed_send_shipping", send_shipping):
            result = picking.action_print_labels()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(picking.waybill_number, "ZT7700000000030")
        self.assertEqual(picking.logistics_state, "waybill_issued")
        self.assertEqual(self._job_of(picking).label_count, 1)

    # ------------------------------------------------------------------ no duplicate print, reprint

    def test_second_print_skips_printed_labels_and_reprint_sends_again_and_logs(self):
        picking = self._delivery(self.sf, "SF1000000000040")
        picking.action_print_labels()
        job = self._job_of(picking)
        again = picking.action_print_labels()  # still queued: not a second time either
        self.assertIn("Skipped", again["params"]["message"])
        self._run_queue_job(job)
        again = picking.action_print_labels()
        self.assertIn("Skipped", again["params"]["message"])
        self.assertIn(picking.name, again["params"]["message"])
        self.assertEqual(picking.print_job_ids, job)
        self.assertEqual(len(self._received()), 1)

        picking.action_reprint_labels()
        reprint = self._job_of(picking)
        self.assertNotEqual(reprint, job)
        self.assertEqual(reprint.kind, "reprint")
        self._run_queue_job(reprint)
        self.assertEqual(self._received(2), [job.attachment_id.raw, reprint.attachment_id.raw])
        log = picking.message_ids.filtered(lambda message: "reprinted" in (message.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn(reprint.name, log.body)
        self.assertIn(self.env.user.name, log.body)

        # The job's own Reprint button sends the same bytes again, logged as well.
        job.action_reprint()
        third = self._job_of(picking)
        self._run_queue_job(third)
        self.assertEqual(self._received(3)[-1], job.attachment_id.raw)
        self.assertEqual(len(picking.message_ids.filtered(lambda message: "reprinted" in (message.body or ""))), 2)

    def test_reprint_through_the_context_flag(self):
        picking = self._delivery(self.sf, "SF1000000000041")
        picking.action_print_labels()
        self._run_queue_job(self._job_of(picking))
        picking.with_context(label_reprint=True).action_print_labels()
        self.assertEqual(self._job_of(picking).kind, "reprint")

    # ------------------------------------------------------------------ no printer, printer choice

    def test_no_printer_returns_a_pdf_download(self):
        self.printer.active = False
        picking = self._delivery(self.sf, "SF1000000000050")
        action = picking.action_print_labels()
        job = self._job_of(picking)
        url = f"/web/content/{job.attachment_id.id}?download=true"
        self.assertEqual(action, {"type": "ir.actions.act_url", "url": url, "target": "self"})
        self.assertFalse(job.printer_id)
        self.assertEqual((job.state, job.data_format), ("sent", "pdf"))
        self.assertEqual(job.attachment_id.mimetype, "application/pdf")
        self.assertTrue(job.attachment_id.raw.startswith(b"%PDF"))
        self.assertEqual(picking.logistics_state, "printed")
        self.assertFalse(self.printer_sim.jobs)

    def test_user_printer_comes_before_the_warehouse_printer(self):
        groups = "base.group_user,shop_logistics.group_logistics_user"
        clerk = new_test_user(self.env, login="lp_desk", groups=groups)
        colleague = new_test_user(self.env, login="lp_colleague", groups=groups)
        own = self.env["logistics.printer"].create(
            {"name": "My desk", "host": "127.0.0.1", "port": self.printer_sim.port, "language": "zpl",
             "user_ids": [fields.Command.link(clerk.id)]}
        )
        printers = self.env["logistics.printer"]
        self.assertEqual(printers._default_for(self.warehouse, user=clerk), own)
        self.assertEqual(printers._default_for(self.warehouse, user=colleague), self.printer)
        self.assertFalse(printers._default_for(self.env["stock.warehouse"], user=colleague))
        picking = self._delivery(self.sf, "SF1000000000051")
        picking.with_user(clerk).action_print_labels()
        self.assertEqual(self._job_of(picking).printer_id, own)
        self.assertEqual(self._job_of(picking).data_format, "zpl")

    def test_clerk_prints_and_retries(self):
        clerk = new_test_user(self.env, login="lp_clerk", groups="base.group_user,shop_logistics.group_logistics_user")
        picking = self._delivery(self.sf, "SF1000000000060")
        picking.with_user(clerk).action_print_labels()
        job = self._job_of(picking)
        self.assertEqual(job.user_id, clerk)
        self.printer_sim.stop()
        self._run_queue_job(job)
        self.assertEqual(job.state, "queued")
        self.printer_sim.start()
        job.with_user(clerk).action_retry()
        self._run_queue_job(job)
        self.assertEqual(job.state, "sent")
        self.printer.with_user(clerk).action_check_online()
        self.assertEqual(self.printer.online_state, "online")

    # ------------------------------------------------------------------ online check

    def test_check_online(self):
        result = self.printer.action_check_online()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self.printer.online_state, "online")
        self.assertTrue(self.printer.last_check_date)
        self.printer_sim.stop()
        result = self.printer.action_check_online()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertEqual(self.printer.online_state, "offline")
        self.assertIn(self.printer.name, self.printer.last_check_message)
        self.assertIn(self.printer.last_check_message, result["params"]["message"])

    def test_privacy_shop_prints_masked_receivers(self):
        picking = self._delivery(self.sf, waybill="SF8880000000001")
        self.assertEqual(picking._labels()[0].receiver["phone"], "13900000002")
        self.shop.label_privacy = True
        masked = picking._labels()[0]
        self.assertNotIn("13900000002", masked.receiver["phone"])
        self.assertTrue(masked.receiver["phone"].endswith("0002"))
        self.assertNotEqual(masked.receiver["name"], "李娜")
