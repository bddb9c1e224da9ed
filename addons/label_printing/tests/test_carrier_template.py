import io
import os
import re
import subprocess
import tempfile
import unittest
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.label_printing import label_render

from tests.simulators.kdniao import KdniaoSimulator

from .common import LabelPrintingCase

EBUSINESS_ID = "test7600001"
API_KEY = "label-template-key"
DECODERS = {
    "tspl": label_render.raster_from_tspl,
    "zpl": label_render.raster_from_zpl,
    "escpos": label_render.raster_from_escpos,
}


@tagged("post_install", "-at_install")
class TestCarrierTemplate(LabelPrintingCase):
    """"Use Carrier's Print Template": the label HTML KDNiao returns (IsReturnPrintTemplate=1), issued by the
    KDNiao simulator over HTTP, prints instead of our layout; without a template our layout prints."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "kdniao.account" not in cls.env:
            raise unittest.SkipTest("carrier_kdn is not installed: no KDNiao print templates")
        cls.sim = KdniaoSimulator(accounts={EBUSINESS_ID: API_KEY})
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        kdniao = cls.env["kdniao.account"].create(
            {"name": "Simulator", "ebusiness_id": EBUSINESS_ID, "api_key": API_KEY, "api_url": cls.sim.base_url,
             "timeout": 5}
        )
        product = cls.env["product.product"].create({"name": "中通快递 KDNiao", "type": "service"})
        cls.kdn_zto = cls.env["delivery.carrier"].create(
            {"name": "中通快递", "delivery_type": "kdniao", "product_id": product.id, "kdniao_return_template": True,
             "label_use_carrier_template": True}
        )
        cls.env["logistics.carrier.account"].create(
            {"name": "中通 KDNiao", "carrier_id": cls.kdn_zto.id, "express_code": "ZTO", "kdniao_account_id": kdniao.id,
             "kdniao_customer_name": "testzto", "kdniao_customer_pwd": "testztopwd"}
        )

    def _kdniao_delivery(self):
        picking = self._delivery()
        picking.carrier_id = self.kdn_zto
        return picking

    def _printed(self, picking, reprint=False):
        """The bytes of the job that printed ``picking``."""
        result = picking._print_labels(reprint=reprint)
        if result.get("params"):
            self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        return self._job_of(picking).attachment_id.raw

    def _symbols(self, image):
        return sorted(kind for kind, _data in self._scan(image))

    def _pdf_text(self, pdf):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
            file.write(pdf)
            file.flush()
            text = subprocess.run(["pdftotext", file.name, "-"], capture_output=True, text=True, check=True).stdout
        return re.sub(r"\s", "", text)

    # ------------------------------------------------------------------ the template prints

    def test_thermal_printers_print_the_carriers_template(self):
        picking = self._kdniao_delivery()
        data = self._printed(picking)  # Print Labels issues the waybill first
        waybill = picking.waybill_number
        self.assertRegex(waybill, r"^\d{14}$")
        request = [r for r in self.sim.requests if r["request_type"] == "1007"][-1]["data"]
        self.assertEqual(request["IsReturnPrintTemplate"], "1")
        self.assertEqual(picking.label_attachment_id.mimetype, "text/html")
        layouts = {"tspl": ("100x150", 203), "zpl": ("100x180", 300), "escpos": ("76x130", 203)}
        for language, (paper, dpi) in layouts.items():
            with self.subTest(language=language):
                if language != "tspl":
                    self.printer.write({"language": language, "paper_size": paper, "dpi": str(dpi)})
                    data = self._printed(picking, reprint=True)
                decode = DECODERS[language]
                raster = decode(data, dpi=dpi) if language == "tspl" else decode(data)
                self.assertEqual(raster.size, label_render._raster_size(label_render.LAYOUTS[paper], dpi))
                self.assertEqual(self._code128(raster), [waybill], "the template's barcode reads back")
                # Our layout carries a QR code next to the barcode; KDNiao's template has none.
                self.assertEqual(self._symbols(raster), ["CODE-128"])

    def test_pdf_download_carries_the_template_text(self):
        self.printer.active = False
        picking = self._kdniao_delivery()
        pdf = self._printed(picking)
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = self._pdf_text(pdf)
        self.assertIn(f"运单号：{picking.waybill_number}", text)
        self.assertIn(f"订单号：{picking.kdniao_order_code}", text, "the template's own text")
        self.assertIn(re.sub(r"\s", "", picking.kdniao_mark_destination), text)
        self.assertNotIn("已验视", text, "none of our layout")
        page = label_render.PdfReader(io.BytesIO(pdf)).pages[0]
        self.assertEqual([round(float(side) / 72 * 25.4) for side in page.mediabox[2:]], [100, 150])

    def test_our_layout_and_the_template_in_one_job_in_carrier_order(self):
        template_picking = self._kdniao_delivery()
        ours = self._delivery(self.sf, "SF1000000000777")
        (template_picking | ours).action_print_labels()
        job = self._job_of(ours)
        self.assertEqual((job, job.label_count), (self._job_of(template_picking), 2))
        data = job.attachment_id.raw
        first, second = (label_render.raster_from_tspl(data, page=page) for page in (0, 1))
        self.assertEqual(self._code128(first), ["SF1000000000777"])
        self.assertEqual(self._symbols(first), ["CODE-128", "QR-Code"])
        self.assertEqual(self._code128(second), [template_picking.waybill_number])
        self.assertEqual(self._symbols(second), ["CODE-128"])

    # ------------------------------------------------------------------ our layout

    def test_option_off_prints_our_layout(self):
        self.kdn_zto.label_use_carrier_template = False
        picking = self._kdniao_delivery()
        raster = label_render.raster_from_tspl(self._printed(picking))
        self.assertTrue(picking.label_attachment_id, "the template is there, unused")
        self.assertEqual(self._symbols(raster), ["CODE-128", "QR-Code"])
        self.printer.active = False
        text = self._pdf_text(self._printed(picking, reprint=True))
        self.assertIn("已验视", text)
        self.assertNotIn("运单号：", text)

    def test_no_template_prints_our_layout(self):
        self.kdn_zto.kdniao_return_template = False
        picking = self._kdniao_delivery()
        raster = label_render.raster_from_tspl(self._printed(picking))
        self.assertFalse(picking.label_attachment_id)
        self.assertEqual(self._code128(raster), [picking.waybill_number])
        self.assertEqual(self._symbols(raster), ["CODE-128", "QR-Code"])

    def test_privacy_shop_prints_our_masked_layout(self):
        self.shop.label_privacy = True
        self.printer.active = False
        picking = self._kdniao_delivery()
        text = self._pdf_text(self._printed(picking))
        self.assertIn("李*", text)
        self.assertNotIn("李娜", text)

    def test_template_that_cannot_be_printed_falls_back_to_our_layout(self):
        picking = self._kdniao_delivery()
        picking._logistics_issue_waybills()
        with patch.dict(os.environ, {"PATH": "/nonexistent"}), self.assertLogs(
            "odoo.addons.label_printing.models.stock_picking", "WARNING"
        ) as logs:
            data = self._printed(picking)
        self.assertIn("wkhtmltopdf is not installed", logs.output[0])
        raster = label_render.raster_from_tspl(data)
        self.assertEqual(self._code128(raster), [picking.waybill_number])
        self.assertEqual(self._symbols(raster), ["CODE-128", "QR-Code"])
