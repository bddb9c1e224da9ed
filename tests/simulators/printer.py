"""A network label printer on raw TCP (port 9100 style) that keeps every job's bytes.

A job is everything one connection sends until it closes, as on a real JetDirect/raw port. Jobs are
kept in memory and, when a spool directory is given, written to ``<spool>/<port>-<n>.bin``.
The printer can be switched offline (connections refused) to exercise the callers' retries.
"""

import socketserver
import threading
from pathlib import Path


class _JobHandler(socketserver.BaseRequestHandler):
    def handle(self):
        number = self.server.printer._next_number()
        chunks = []
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            chunks.append(data)
        self.server.printer._store(number, b"".join(chunks))


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class RawPrinter:
    def __init__(self, host="127.0.0.1", port=0, spool_dir=None):
        self.host = host
        self.requested_port = port
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self._jobs = {}
        self._accepted = 0
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1] if self._server else self.requested_port

    @property
    def online(self):
        return self._server is not None

    def start(self):
        if self._server:
            return self
        self._server = _Server((self.host, self.requested_port), _JobHandler)
        self._server.printer = self
        self.requested_port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"printer-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Go offline: the port refuses connections until ``start`` is called again."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def jobs(self):
        """Finished jobs in the order their connections were accepted."""
        with self._lock:
            return [self._jobs[number] for number in sorted(self._jobs)]

    def _next_number(self):
        with self._lock:
            self._accepted += 1
            return self._accepted

    def _store(self, number, payload):
        # The spool file is written before the job counts as finished, so a caller that saw
        # the job in ``jobs`` can read its file.
        if self.spool_dir:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            (self.spool_dir / f"{self.port}-{number}.bin").write_bytes(payload)
        with self._lock:
            self._jobs[number] = payload

    def wait_for_jobs(self, count, timeout=5.0):
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.jobs) >= count:
                return True
            time.sleep(0.01)
        return len(self.jobs) >= count
