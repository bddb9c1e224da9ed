"""Message channels: the queue behind pull/websocket channels (TOP TMC, PDD), a minimal RFC 6455
websocket server side, and the plain HTTP POST used for webhooks/pushes."""

import base64
import hashlib
import http.client
import threading
import urllib.parse


class MessageQueue:
    """Messages for pull or websocket channels: published, handed out, redelivered until confirmed."""

    def __init__(self):
        self._messages = {}
        self._leased_until = {}
        self._next_id = 1000
        self._lock = threading.Lock()

    def publish(self, message):
        with self._lock:
            self._next_id += 1
            message = dict(message, id=self._next_id)
            self._messages[self._next_id] = message
            return message

    def lease(self, quantity, now, hold):
        """Up to ``quantity`` messages not handed out in the last ``hold`` (the redelivery delay)."""
        with self._lock:
            ready = [m for i, m in self._messages.items() if self._leased_until.get(i, now) <= now]
            chosen = ready[:quantity]
            for message in chosen:
                self._leased_until[message["id"]] = now + hold
            return chosen

    def confirm(self, ids):
        with self._lock:
            for message_id in ids:
                self._messages.pop(int(message_id), None)
                self._leased_until.pop(int(message_id), None)

    def pending(self):
        with self._lock:
            return list(self._messages.values())


# --------------------------------------------------------------------------- websocket (RFC 6455, text frames)

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    """Server side of one websocket: unfragmented frames, which is all the message channels use."""

    def __init__(self, handler):
        self._rfile = handler.rfile
        self._wfile = handler.wfile
        self._send_lock = threading.Lock()
        self.closed = threading.Event()

    @staticmethod
    def accept_key(client_key):
        return base64.b64encode(hashlib.sha1((client_key + WEBSOCKET_GUID).encode()).digest()).decode()

    def send_text(self, text):
        self._send(0x1, text.encode("utf-8"))

    def _send(self, opcode, payload):
        size = len(payload)
        if size < 126:
            head = bytes([0x80 | opcode, size])
        elif size < 65536:
            head = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 127]) + size.to_bytes(8, "big")
        with self._send_lock:
            if self.closed.is_set():
                return
            try:
                self._wfile.write(head + payload)
                self._wfile.flush()
            except OSError:
                self.closed.set()

    def _read(self, count):
        data = self._rfile.read(count)
        if len(data) < count:
            raise ConnectionError("websocket closed")
        return data

    def receive(self):
        """The next text payload from the client; None once the connection is closed."""
        while not self.closed.is_set():
            try:
                first, second = self._read(2)
                size = second & 0x7F
                if size == 126:
                    size = int.from_bytes(self._read(2), "big")
                elif size == 127:
                    size = int.from_bytes(self._read(8), "big")
                mask = self._read(4) if second & 0x80 else bytes(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(size)))
            except (ConnectionError, OSError, ValueError):
                self.closed.set()
                return None
            opcode = first & 0x0F
            if opcode == 0x8:
                self._send(0x8, payload[:2])
                self.closed.set()
                return None
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x1:
                return payload.decode("utf-8", errors="replace")
        return None


def post_bytes(url, body, headers, timeout):
    """POST raw bytes; (status, body text), or (None, reason) when nothing came back.

    Header names go out exactly as the platform writes them (Douyin's lower-case ``app-id`` and
    ``event-sign``, WooCommerce's ``X-WC-Webhook-Signature``): urllib would re-case them
    (``App-Id``, ``X-Wc-Webhook-Signature``), which receivers reading a plain dict — as some
    platform SDKs' push verifiers do — would not find."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return None, str(error) or type(error).__name__
    finally:
        connection.close()
