from odoo.tests import tagged

from .common import LabelPrintingCase


@tagged("post_install", "-at_install")
class TestDocuments(LabelPrintingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.office_printer = cls.env["logistics.printer"].create(
            {
                "name": "办公室打印机 Office",
                "connection": "network",
                "host": "127.0.0.1",
                "port": 9,
                "language": "pdf",
                "paper_size": "a4",
                "warehouse_id": cls.warehouse.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.office_printer.port = self.printer_sim.port

    def _direct_print(self, report_xmlid, pickings):
        # Odoo renders reports as HTML in tests unless asked for the real PDF.
        reports = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        return reports.logistics_direct_print_report(report_xmlid, pickings.ids)

    def test_packing_slip_goes_straight_to_the_document_printer(self):
        picking = self._delivery(self.sf, waybill="SF7770000000001")
        result = self._direct_print("label_printing.action_report_packing_slip", picking)
        self.assertTrue(result["printed"], result)
        job = self._job_of(picking)
        self.assertEqual((job.printer_id, job.kind, job.data_format), (self.office_printer, "document", "pdf"))
        self._run_queue_job(job)
        received = self._received()
        self.assertEqual(received, [job.attachment_id.raw])
        self.assertTrue(received[0].startswith(b"%PDF"))
        self.assertEqual(picking.logistics_state, "waybill_issued", "a packing slip is not the shipping label")
        self.assertFalse(picking._labels_already_printed())

    def test_packing_slip_content(self):
        picking = self._delivery(self.sf, waybill="SF7770000000002", remark="请放快递柜")
        html = self.env["ir.actions.report"]._render_qweb_html("label_printing.report_packing_slip", picking.ids)[0]
        html = html.decode()
        for expected in (picking.name, picking.sale_id.name, "SF7770000000002", "李娜", "保温杯", "请放快递柜",
                         "/track?ref=SF7770000000002"):
            self.assertIn(expected, html)

    def test_pick_list_adds_up_each_product_per_location(self):
        first = self._delivery(self.sf, waybill="SF7770000000003")
        second = self._delivery(self.zto, waybill="ZTO7770000000004")
        lines = (first | second)._pick_list_lines()
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["quantity"], 4)
        self.assertEqual(lines[0]["code"], "LP-CUP")
        self.assertIn(first.name, lines[0]["deliveries"])
        self.assertIn(second.name, lines[0]["deliveries"])
        pdf, _type = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            "label_printing.report_pick_list", (first | second).ids
        )
        self.assertTrue(pdf.startswith(b"%PDF"))

    def test_without_a_document_printer_the_browser_downloads(self):
        picking = self._delivery(self.sf, waybill="SF7770000000005")
        self.office_printer.language = "tspl"
        result = self._direct_print("label_printing.action_report_pick_list", picking)
        self.assertEqual(result, {"printed": False})
        self.assertFalse(self._job_of(picking))
