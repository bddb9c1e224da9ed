"""printer_transport without a printer: the raw TCP port of the simulator, and the errors a clerk reads."""

from unittest.mock import patch

from odoo.tests import BaseCase, tagged

from odoo.addons.label_printing import printer_transport as transport

from tests.simulators.printer import RawPrinter


@tagged("post_install", "-at_install")
class TestPrinterTransport(BaseCase):
    def setUp(self):
        super().setUp()
        self.printer = RawPrinter().start()
        self.addCleanup(self.printer.stop)
        self.address = transport.PrinterAddress("network", host="127.0.0.1", port=self.printer.port, timeout=2)

    def test_network_job_is_one_connection_with_all_bytes(self):
        data = bytes(range(256)) * 4096  # 1 MiB, more than one socket buffer
        transport.send(self.address, data)
        transport.send(self.address, b"SIZE 100 mm,150 mm\r\n")
        self.assertTrue(self.printer.wait_for_jobs(2))
        self.assertEqual(self.printer.jobs, [data, b"SIZE 100 mm,150 mm\r\n"])

    def test_offline_network_printer(self):
        transport.check_online(self.address)
        self.printer.stop()
        for call in (lambda: transport.send(self.address, b"x"), lambda: transport.check_online(self.address)):
            with self.assertRaises(transport.PrinterError) as caught:
                call()
            self.assertEqual(caught.exception.reason, "refused")
            self.assertTrue(caught.exception.retryable)
            self.assertIn("refused the connection", str(caught.exception))

    def test_unknown_host_is_not_retried(self):
        address = transport.PrinterAddress("network", host="printer.invalid", port=9100)
        with self.assertRaises(transport.PrinterError) as caught:
            transport.send(address, b"x")
        self.assertEqual(caught.exception.reason, "unknown_host")
        self.assertFalse(caught.exception.retryable)

    def test_cups_without_lp_is_a_clear_error(self):
        address = transport.PrinterAddress("cups", cups_queue="labels")
        with patch.object(transport.subprocess, "run", side_effect=FileNotFoundError("lp")):
            with self.assertRaises(transport.PrinterError) as caught:
                transport.send(address, b"x")
        self.assertEqual(caught.exception.reason, "cups_missing")
        self.assertIn("no lp command", str(caught.exception))

    def test_cups_raw_job_and_status(self):
        address = transport.PrinterAddress("cups", cups_queue="labels")
        done = transport.subprocess.CompletedProcess
        with patch.object(transport.subprocess, "run", return_value=done([], 0, b"request id is labels-7", b"")) as run:
            transport.send(address, b"^XA^XZ")
        self.assertEqual(run.call_args.args[0], ["lp", "-d", "labels", "-o", "raw"])
        self.assertEqual(run.call_args.kwargs["input"], b"^XA^XZ")
        disabled = done([], 0, b"printer labels disabled since Mon 01 Jan -\n\tPaused", b"")
        with patch.object(transport.subprocess, "run", return_value=disabled) as run:
            with self.assertRaises(transport.PrinterError) as caught:
                transport.check_online(address)
        self.assertEqual(run.call_args.args[0], ["lpstat", "-p", "labels"])
        self.assertEqual(caught.exception.reason, "cups_disabled")
        idle = done([], 0, b"printer labels is idle.  enabled since Mon 01 Jan", b"")
        with patch.object(transport.subprocess, "run", return_value=idle):
            transport.check_online(address)
        unknown = done([], 1, b"", b'lp: The printer or class does not exist.')
        with patch.object(transport.subprocess, "run", return_value=unknown):
            with self.assertRaises(transport.PrinterError) as caught:
                transport.send(address, b"x")
        self.assertEqual(caught.exception.reason, "cups_unknown_queue")

    def test_usb_errors_are_clear(self):
        bad = transport.PrinterAddress("usb", usb_vendor_id="zebra", usb_product_id="1")
        with self.assertRaises(transport.PrinterError) as caught:
            transport.send(bad, b"x")
        self.assertIn(caught.exception.reason, ("usb_bad_id", "usb_unavailable"))
        absent = transport.PrinterAddress("usb", usb_vendor_id="0x0fe6", usb_product_id="0x811e")
        with self.assertRaises(transport.PrinterError) as caught:
            transport.send(absent, b"x")
        self.assertIn(caught.exception.reason, ("usb_not_found", "usb_unavailable"))
