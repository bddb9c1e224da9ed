"""The simulators themselves behave like the outside services they stand for."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.simulators.printer import RawPrinter

ROOT = Path(__file__).resolve().parent.parent


def _send(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(payload)


def test_printer_keeps_each_job_exactly(tmp_path):
    printer = RawPrinter(spool_dir=tmp_path).start()
    try:
        first = b"SIZE 100 mm,150 mm\r\nCLS\r\nTEXT 10,10,\"TSS24.BF2\",0,1,1,\"\xe9\xa1\xba\xe4\xb8\xb0\"\r\nPRINT 1\r\n"
        second = bytes(range(256)) * 400  # binary raster data, 100 KiB
        _send(printer.port, first)
        _send(printer.port, second)
        assert printer.wait_for_jobs(2)
        assert printer.jobs == [first, second]
        assert (tmp_path / f"{printer.port}-2.bin").read_bytes() == second
    finally:
        printer.stop()


def test_offline_printer_refuses_then_comes_back():
    printer = RawPrinter().start()
    port = printer.port
    printer.stop()
    with pytest.raises(OSError):
        _send(port, b"lost?")
    printer.start()
    try:
        _send(port, b"^XA^FDback^FS^XZ")
        assert printer.wait_for_jobs(1)
        assert printer.jobs == [b"^XA^FDback^FS^XZ"]
    finally:
        printer.stop()


def test_simulator_process_serves_printers_and_reports_them(tmp_path):
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tests.simulators", "--state-file", str(state),
            "--spool-dir", str(tmp_path / "spool"), "--printer-ports", "0,0", "--no-shops",
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        deadline = time.monotonic() + 10
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        ports = [p["port"] for p in json.loads(state.read_text())["printers"]]
        assert len(set(ports)) == 2 and all(ports)
        _send(ports[1], b"job")
        spooled = tmp_path / "spool" / f"{ports[1]}-1.bin"
        deadline = time.monotonic() + 5
        while not spooled.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spooled.read_bytes() == b"job"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert not state.exists()
