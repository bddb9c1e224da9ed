from odoo.tests import HttpCase, tagged

from .common import LabelPrintingCase


@tagged("post_install", "-at_install")
class TestScanToPrint(LabelPrintingCase):
    def _printed_job(self, picking):
        job = self._job_of(picking)
        self._run_queue_job(job)
        return job

    def test_scanning_an_order_number_prints_its_label(self):
        picking = self._delivery(self.sf, waybill="SF5550000000001")
        answer = self.env["stock.picking"].label_scan(picking.sale_id.name)
        self.assertEqual(answer["status"], "printed", answer["message"])
        self.assertEqual(answer["picking"]["id"], picking.id)
        self.assertIn("SF5550000000001", answer["message"])
        job = self._printed_job(picking)
        self.assertEqual(job.state, "sent")
        self.assertEqual(self._received(), [job.attachment_id.raw])
        self.assertEqual(picking.logistics_state, "printed")

    def test_platform_order_and_waybill_numbers_find_the_delivery(self):
        picking = self._delivery(self.sf, waybill="SF5550000000002")
        picking.sale_id.platform_order_id = "TM-2026-77"
        found = self.env["stock.picking"]._scan_find("TM-2026-77")
        self.assertEqual(found, picking)
        self.assertEqual(self.env["stock.picking"]._scan_find("SF5550000000002"), picking)

    def test_product_barcode_prints_the_oldest_single_item_parcel(self):
        self.product.barcode = "6901234567892"
        two_items = self._delivery(self.sf, waybill="SF5550000000003")
        single = self._delivery(self.sf, waybill="SF5550000000004")
        single.move_ids.product_uom_qty = 1
        answer = self.env["stock.picking"].label_scan("6901234567892")
        self.assertEqual(answer["status"], "printed", answer["message"])
        self.assertEqual(answer["picking"]["id"], single.id, "one-item parcels first")
        second = self.env["stock.picking"].label_scan("6901234567892")
        self.assertEqual(second["picking"]["id"], two_items.id, "then the next unprinted one")

    def test_unknown_code_is_not_found(self):
        jobs_before = self.env["logistics.print.job"].search_count([])
        answer = self.env["stock.picking"].label_scan("NO-SUCH-CODE-1")
        self.assertEqual(answer["status"], "not_found")
        self.assertIn("NO-SUCH-CODE-1", answer["message"])
        self.assertEqual(self.env["logistics.print.job"].search_count([]), jobs_before)

    def test_held_order_is_refused_with_its_reason(self):
        picking = self._delivery(self.sf, waybill="SF5550000000005")
        picking.sale_id._logistics_hold("address", "缺少门牌号")
        answer = self.env["stock.picking"].label_scan(picking.sale_id.name)
        self.assertEqual(answer["status"], "on_hold")
        self.assertIn("缺少门牌号", answer["message"])
        self.assertFalse(self._job_of(picking))

    def test_already_printed_warns_and_reprint_prints_again(self):
        picking = self._delivery(self.sf, waybill="SF5550000000006")
        self.assertEqual(self.env["stock.picking"].label_scan(picking.name)["status"], "printed")
        first = self._printed_job(picking)
        again = self.env["stock.picking"].label_scan(picking.name)
        self.assertEqual(again["status"], "already_printed")
        self.assertEqual(self._job_of(picking), first, "no second job")
        reprint = self.env["stock.picking"].label_scan(picking.name, reprint=True)
        self.assertEqual(reprint["status"], "printed")
        self.assertNotEqual(self._job_of(picking), first)
        self.assertEqual(self._job_of(picking).kind, "reprint")

    def test_delivery_without_a_way_to_get_a_waybill_fails_clearly(self):
        picking = self._delivery()
        answer = self.env["stock.picking"].label_scan(picking.name)
        self.assertEqual(answer["status"], "failed")
        self.assertIn(picking.name, answer["message"])


@tagged("post_install", "-at_install")
class TestScanToPrintScreen(HttpCase, LabelPrintingCase):
    def test_scan_screen_in_a_real_browser(self):
        picking = self._delivery(self.sf, waybill="SF5550000000009")
        picking.sale_id.name = "SCAN-TOUR-1"
        self.start_tour("/odoo/action-label_printing.action_scan_to_print", "label_printing_scan_to_print_tour",
                        login="admin")
        self.assertEqual(self._job_of(picking).state, "queued")
