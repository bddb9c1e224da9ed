"""Send a finished job (its bytes) to a label printer, and check that a printer answers. Plain Python, no Odoo.

Three transports (project note "labels-and-printers.md" §4.3):

- ``network``: raw TCP, port 9100 on nearly every printer (AppSocket/JetDirect). The whole job goes through one
  connection, which is then closed: the printer treats a connection as one job. A closed connection does not
  mean printed (the printer buffers), only delivered.
- ``cups``: a raw CUPS queue, ``lp -d <queue> -o raw`` with the job on standard input. ``-o raw`` skips every
  filter, which command bytes need.
- ``usb``: python-escpos ``Usb`` (pyusb/libusb) by vendor and product ID.

Every failure is a ``PrinterError`` whose ``reason`` (one of ``REASONS``) says what went wrong in a way a caller
can translate, and whose ``retryable`` says whether sending again later may work (printer off, cable out, network
down) or whether someone has to change something first (no ``lp`` command, unknown queue, bad IDs).
"""

import os
import socket
import subprocess
from dataclasses import dataclass

DEFAULT_TIMEOUT = 10.0  # seconds, for connecting and for every send on the socket

REASONS = {
    # reason: (clerk message in English, retryable)
    "unreachable": ("The printer does not answer (switched off, unplugged or not on the network).", True),
    "refused": ("The printer refused the connection (switched off, busy or wrong port).", True),
    "timeout": ("The printer did not answer in time.", True),
    "interrupted": ("The connection to the printer broke while sending; some labels may have printed.", True),
    "unknown_host": ("The printer's host name is unknown.", False),
    "cups_missing": ("CUPS is not installed on the Odoo server (no lp command).", False),
    "cups_refused": ("CUPS refused the job.", False),
    "cups_disabled": ("The CUPS queue is stopped or does not accept jobs.", True),
    "cups_unknown_queue": ("CUPS has no queue of this name.", False),
    "usb_unavailable": ("USB printing is not available on the Odoo server (no python-escpos, pyusb or libusb).", False),
    "usb_bad_id": ("The USB vendor and product IDs must be hexadecimal numbers such as 0x0fe6.", False),
    "usb_not_found": ("The USB printer is not connected, or the Odoo server may not use it.", True),
    "usb_error": ("The USB printer reported an error.", True),
    "bad_configuration": ("The printer's connection settings are incomplete.", False),
}


class PrinterError(Exception):
    """A job could not reach the printer. ``str()`` is a sentence for a person; ``detail`` the technical cause."""

    def __init__(self, reason, detail=""):
        message, self.retryable = REASONS[reason]
        super().__init__(f"{message} ({detail})" if detail else message)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PrinterAddress:
    connection: str  # network | cups | usb
    host: str = ""
    port: int = 9100
    cups_queue: str = ""
    usb_vendor_id: str = ""
    usb_product_id: str = ""
    timeout: float = DEFAULT_TIMEOUT

    def __str__(self):
        if self.connection == "network":
            return f"{self.host}:{self.port}"
        if self.connection == "cups":
            return f"CUPS {self.cups_queue}"
        return f"USB {self.usb_vendor_id}:{self.usb_product_id}"


def send(address, data):
    """Deliver ``data`` (bytes) to the printer as one job; raises PrinterError."""
    if not data:
        raise ValueError("an empty print job")
    _transport(address)[0](address, data)


def check_online(address):
    """Raise PrinterError when the printer cannot take a job now; return None when it can."""
    _transport(address)[1](address)


def _transport(address):
    transports = {
        "network": (_send_network, _check_network),
        "cups": (_send_cups, _check_cups),
        "usb": (_send_usb, _check_usb),
    }
    if address.connection not in transports:
        raise PrinterError("bad_configuration", f"connection {address.connection!r}")
    return transports[address.connection]


# ------------------------------------------------------------------------------------------------ network


def _connect(address):
    if not address.host or not 0 < address.port < 65536:
        raise PrinterError("bad_configuration", "host and port")
    try:
        return socket.create_connection((address.host, address.port), timeout=address.timeout)
    except socket.gaierror as error:
        raise PrinterError("unknown_host", f"{address.host}: {error.strerror}") from error
    except ConnectionRefusedError as error:
        raise PrinterError("refused", str(address)) from error
    except TimeoutError as error:
        raise PrinterError("timeout", str(address)) from error
    except OSError as error:
        raise PrinterError("unreachable", f"{address}: {error.strerror or error}") from error


def _send_network(address, data):
    with _connect(address) as connection:
        try:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)  # end of job
        except TimeoutError as error:
            raise PrinterError("timeout", str(address)) from error
        except OSError as error:
            raise PrinterError("interrupted", f"{address}: {error.strerror or error}") from error


def _check_network(address):
    _connect(address).close()


# --------------------------------------------------------------------------------------------------- CUPS


def _run(command, address, data=None):
    try:
        return subprocess.run(
            command,
            input=data,
            capture_output=True,
            timeout=address.timeout,
            env=dict(os.environ, LC_ALL="C"),  # English lpstat/lp messages, which the checks below read
            check=False,
        )
    except FileNotFoundError as error:
        raise PrinterError("cups_missing", command[0]) from error
    except subprocess.TimeoutExpired as error:
        raise PrinterError("timeout", str(address)) from error


def _cups_queue(address):
    if not address.cups_queue:
        raise PrinterError("bad_configuration", "CUPS queue")
    return address.cups_queue


def _send_cups(address, data):
    result = _run(["lp", "-d", _cups_queue(address), "-o", "raw"], address, data)
    if result.returncode:
        detail = result.stderr.decode(errors="replace").strip()
        reason = "cups_unknown_queue" if "does not exist" in detail else "cups_refused"
        raise PrinterError(reason, detail)


def _check_cups(address):
    result = _run(["lpstat", "-p", _cups_queue(address)], address)
    output = result.stdout.decode(errors="replace").strip()
    if result.returncode or not output:
        raise PrinterError("cups_unknown_queue", result.stderr.decode(errors="replace").strip() or address.cups_queue)
    if "disabled" in output or "not accepting" in output:
        raise PrinterError("cups_disabled", output.splitlines()[0])


# ---------------------------------------------------------------------------------------------------- USB


def _usb_ids(address):
    try:
        return int(address.usb_vendor_id, 16), int(address.usb_product_id, 16)
    except (TypeError, ValueError) as error:
        raise PrinterError("usb_bad_id", f"{address.usb_vendor_id}:{address.usb_product_id}") from error


def _usb_printer(address):
    try:
        from escpos.printer import Usb
    except ImportError as error:
        raise PrinterError("usb_unavailable", str(error)) from error
    if not Usb.is_usable():
        raise PrinterError("usb_unavailable", "pyusb")
    vendor, product = _usb_ids(address)
    return Usb(vendor, product, timeout=int(address.timeout * 1000))


def _open_usb(address):
    from escpos.exceptions import DeviceNotFoundError, USBNotFoundError

    printer = _usb_printer(address)
    try:
        printer.open()
    except (DeviceNotFoundError, USBNotFoundError) as error:
        raise PrinterError("usb_not_found", str(address)) from error
    except ValueError as error:  # pyusb's NoBackendError: libusb is not installed
        raise PrinterError("usb_unavailable", str(error)) from error
    return printer


def _send_usb(address, data):
    printer = _open_usb(address)
    try:
        printer._raw(data)
    except Exception as error:  # pyusb raises usb.core.USBError (an IOError) or its own timeouts
        raise PrinterError("usb_error", str(error)) from error
    finally:
        printer.close()


def _check_usb(address):
    _open_usb(address).close()
