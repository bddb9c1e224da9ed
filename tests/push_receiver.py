"""A local HTTP endpoint that records pushes (headers exactly as they came, name case included) and answers
what the test chooses: the receiving side of the simulators' webhooks, for tests."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A local endpoint that records pushes and answers what the platform expects (or not)."""

    def __init__(self, answer=(200, b'{"code":0,"msg":"success"}')):
        self.answer = answer
        self.received = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append((dict(self.headers.items()), body))
                status, payload = owner.answer
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
