"""Stand-ins between the client and the server: a proxy that loses answers, a stub that
answers 429/503 first."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LossyProxy:
    """A TCP proxy to `upstream_port` that, while `drop_answers` > 0, lets a request reach the
    server but cuts the client's connection instead of passing the answer back."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.drop_answers = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, answers):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if answers:
                    with self._lock:
                        drop = self.drop_answers > 0
                        if drop:
                            self.drop_answers -= 1
                            self.dropped += 1
                    if drop:
                        break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.sock.close()


class BusyStub:
    """An HTTP server answering the first `busy` requests with `status` and Retry-After, then
    200 with a job state; it records each request's body and arrival time."""

    def __init__(self, busy, status=503, retry_after="1"):
        import time

        stub = self
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append((time.monotonic(), body))
                if len(stub.requests) <= busy:
                    payload = json.dumps({"error": "busy", "code": "rate_limited"
                                          if status == 429 else "store_unavailable"}).encode()
                    self.send_response(status)
                    self.send_header("Retry-After", retry_after)
                else:
                    payload = json.dumps({"id": "j", "status": "in_progress", "seq": 2,
                                          "progress": body.get("progress")}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
