"""A local HTTP server for weight files (127.0.0.1, a thread, stops by itself)."""

from __future__ import annotations

import http.server
import threading
from typing import Any


class WeightsServer:
    """Serve ``files`` (URL path -> bytes) on 127.0.0.1; count requests; stop after ``lifetime``.

    ``drop`` lists paths whose response announces the full length but closes the connection
    after half of the bytes (a broken transfer).
    """

    def __init__(self, files: dict[str, bytes], drop: tuple[str, ...] = (),
                 lifetime: float = 300.0) -> None:
        self.files = dict(files)
        self.drop = set(drop)
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "no such file")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.drop:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> WeightsServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        self.stop()
        self._thread.join(timeout=10)
