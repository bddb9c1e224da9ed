import shutil
import subprocess
import tempfile
from pathlib import Path

from odoo import Command
from odoo.tests import TransactionCase

from odoo.addons.queue_job.job import Job

from tests.simulators.printer import RawPrinter


class LabelPrintingCase(TransactionCase):
    """A warehouse in Hangzhou with stock, SF and ZTO carrier accounts, buyers, and a TSPL printer on a fake raw
    TCP port (tests.simulators.printer) that is the warehouse's default printer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        address = cls._partner("杭州打印仓", "0571-88886666", "余杭区文一西路100号", "杭州市", "base.state_cn_ZJ")
        cls.warehouse = cls.env["stock.warehouse"].create(
            {"name": "杭州打印仓", "code": "HZP", "partner_id": address.id}
        )
        cls.shop = cls.env["logistics.shop"].create(
            {"name": "杭州优品旗舰店", "code": "LP-TM", "platform": "tmall", "warehouse_id": cls.warehouse.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "LP-CUP", "type": "consu", "is_storable": True, "weight": 0.4}
        )
        cls.env["stock.quant"]._update_available_quantity(cls.product, cls.warehouse.lot_stock_id, 1000)
        cls.buyer = cls._partner(
            "李娜", "13900000002", "广东省深圳市南山区科技园南区1栋201", "深圳市", "base.state_cn_GD"
        )
        cls.sf = cls._carrier_account("顺丰速运", "SF")
        cls.zto = cls._carrier_account("中通快递", "ZTO")
        cls.printer = cls.env["logistics.printer"].create(
            {
                "name": "打包台 Test Packing",
                "connection": "network",
                "host": "127.0.0.1",
                "port": 9,  # set to the simulator's port in setUp
                "language": "tspl",
                "paper_size": "100x150",
                "warehouse_id": cls.warehouse.id,
            }
        )

    def setUp(self):
        super().setUp()
        # A fresh printer per test: jobs of one test never show up in another.
        self.printer_sim = RawPrinter().start()
        self.addCleanup(self.printer_sim.stop)
        self.printer.port = self.printer_sim.port

    @classmethod
    def _partner(cls, name, phone, street, city, state_xmlid):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "phone": phone,
                "street": street,
                "city": city,
                "state_id": cls.env.ref(state_xmlid).id,
                "country_id": cls.env.ref("base.cn").id,
            }
        )

    @classmethod
    def _carrier_account(cls, name, code):
        product = cls.env["product.product"].create({"name": name, "type": "service", "list_price": 10.0})
        carrier = cls.env["delivery.carrier"].create({"name": name, "delivery_type": "fixed", "product_id": product.id})
        return cls.env["logistics.carrier.account"].create(
            {"name": f"{name} account", "carrier_id": carrier.id, "express_code": code}
        )

    def _delivery(self, account=None, waybill=None, remark="请放快递柜"):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.buyer.id,
                "shop_id": self.shop.id,
                "buyer_remark": remark,
                "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 2})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        if account:
            picking.write({"carrier_id": account.carrier_id.id, "carrier_account_id": account.id})
        if waybill:
            picking.waybill_number = waybill
            picking._set_logistics_state("routed")
            picking._set_logistics_state("waybill_issued")
        return picking

    def _job_of(self, pickings):
        return self.env["logistics.print.job"].search([("picking_ids", "in", pickings.ids)], order="id desc", limit=1)

    def _run_queue_job(self, print_job):
        """Run the job's current queue job as the queue_job runner would."""
        self.assertTrue(print_job.queue_job_uuid)
        return Job.load(self.env, print_job.queue_job_uuid).perform()

    def _received(self, count=1):
        self.assertTrue(self.printer_sim.wait_for_jobs(count), "the printer received no job")
        return [job for job in self.printer_sim.jobs if job]  # a connection without bytes is an online check

    def _scan(self, image):
        """[(symbology, data)] that zbarimg reads from a Pillow image."""
        if not shutil.which("zbarimg"):
            self.skipTest("zbarimg (zbar-tools) is not installed")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "label.png"
            image.save(path)
            result = subprocess.run(["zbarimg", "-q", str(path)], capture_output=True, text=True, check=False)
        return [tuple(line.split(":", 1)) for line in result.stdout.splitlines() if ":" in line]

    def _code128(self, image):
        return [data for kind, data in self._scan(image) if kind == "CODE-128"]
