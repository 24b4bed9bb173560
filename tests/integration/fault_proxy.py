"""Fault injection in front of an S3 endpoint, for the store fault tests.

FaultProxy: a small threaded HTTP/1.1 reverse proxy (stdlib only). It forwards every request to
the upstream unchanged, Host header included, so SigV4 signatures made for the proxy's address
still validate upstream, and it counts requests. A script of Fault rules replaces or damages
chosen responses: an S3 error document (503 SlowDown, 500 InternalError, 429, 403, ...), a delay
before answering, a body cut short (clean close or TCP reset), a stall mid-body, a reset before
any response.

Toxiproxy: runs a toxiproxy-server binary and drives its HTTP API for TCP-level faults
(reset_peer, timeout, latency, bandwidth).

Run as a script for manual experiments:
    python3 fault_proxy.py --upstream 127.0.0.1:9000 --fault status:503:SlowDown:2
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from xml.sax.saxutils import escape

# Headers that describe one hop, never forwarded. Expect is answered by the proxy itself
# (100-continue) and Transfer-Encoding is replaced by Content-Length after de-chunking.
_HOP_BY_HOP = frozenset(
    [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    ]
)

_COPY_CHUNK = 64 * 1024


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS just handed out."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Fault:
    """One rule of a proxy script.

    A request matches when its method equals `method` (None: any) and `path_contains` (None: any)
    is a substring of its path with query. The first `skip` matching requests pass untouched, the
    next `times` (None: all) get the fault. Kinds:
      status    answer `status` with an S3 error document (`code`, `message`), nothing forwarded
      delay     wait `seconds`, then forward
      truncate  forward, send headers and `after_bytes` of the body, then close (RST if `reset`)
      stall     forward, send headers and `after_bytes` of the body, then go silent for `seconds`
                and close
      reset     close with a TCP reset before answering
    Build them with the class methods.
    """

    kind: str
    status: int = 0
    code: str = ""
    message: str = ""
    seconds: float = 0.0
    after_bytes: int = 0
    reset: bool = False
    method: Optional[str] = None
    path_contains: Optional[str] = None
    times: Optional[int] = 1
    skip: int = 0
    # How many matching requests this rule has seen / damaged.
    seen: int = 0
    applied: int = 0

    @classmethod
    def error(cls, status: int, code: str, message: str = "", **match) -> "Fault":
        return cls("status", status=status, code=code, message=message or code, **match)

    @classmethod
    def delay(cls, seconds: float, **match) -> "Fault":
        return cls("delay", seconds=seconds, **match)

    @classmethod
    def truncate(cls, after_bytes: int, reset: bool = False, **match) -> "Fault":
        return cls("truncate", after_bytes=after_bytes, reset=reset, **match)

    @classmethod
    def stall(cls, after_bytes: int, seconds: float, **match) -> "Fault":
        return cls("stall", after_bytes=after_bytes, seconds=seconds, **match)

    @classmethod
    def reset_connection(cls, **match) -> "Fault":
        return cls("reset", **match)

    def describe(self) -> str:
        if self.kind == "status":
            return f"{self.status} {self.code}"
        if self.kind == "delay":
            return f"delay {self.seconds}s"
        if self.kind == "truncate":
            return f"truncate after {self.after_bytes} bytes" + (" (reset)" if self.reset else "")
        if self.kind == "stall":
            return f"stall after {self.after_bytes} bytes for {self.seconds}s"
        return self.kind

    def _matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclasses.dataclass
class RequestRecord:
    """What the proxy saw and did, per request, in arrival order."""

    method: str
    path: str
    body_bytes: int
    fault: Optional[str]  # Fault.describe() of the fault applied, None when forwarded intact
    status: int = 0  # status sent to the client (0 when none was, e.g. reset)
    completed: bool = False  # the whole response was sent
    aborted: bool = False  # the client connection failed while the proxy was answering


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: "FaultProxy", address):
        self.proxy = proxy
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real S3 endpoint
    server: _ProxyServer

    def setup(self):
        super().setup()
        self.upstream: Optional[http.client.HTTPConnection] = None
        self.server.proxy._register(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()
            self.server.proxy._unregister(self.connection)

    def handle_one_request(self):
        # A client that resets its connection between requests is normal here, not an error.
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        pass

    def do_GET(self):
        self._handle()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    # -- request side --------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        proxy = self.server.proxy
        body = self._read_body()
        fault = proxy._take_fault(self.command, self.path)
        record = proxy._record(self.command, self.path, len(body), fault)
        try:
            if fault is not None and fault.kind == "status":
                self._send_error_document(fault, record)
            elif fault is not None and fault.kind == "reset":
                self._reset_and_close()
            else:
                if fault is not None and fault.kind == "delay":
                    if proxy._stopping.wait(fault.seconds):
                        self._reset_and_close()
                        return
                self._forward(body, fault, record)
        except (OSError, http.client.HTTPException):
            # The client went away (e.g. it gave up on a stalled response) or the upstream failed:
            # nothing more can be answered on this connection.
            record.aborted = True
            self.close_connection = True

    # -- responses ------------------------------------------------------------------------------

    def _send_error_document(self, fault: Fault, record: RequestRecord):
        document = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(fault.code)}</Code><Message>{escape(fault.message)}</Message>"
            f"<Resource>{escape(self.path.split('?')[0])}</Resource>"
            f"<RequestId>nimbus-fault-proxy</RequestId></Error>"
        ).encode()
        self.send_response_only(fault.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(document)))
        if fault.status in (429, 503):
            self.send_header("Retry-After", "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(document)
        self.wfile.flush()
        record.status = fault.status
        record.completed = True

    def _reset_and_close(self):
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        # The descriptor really closes (sending the RST) once finish() closes rfile/wfile too.
        self.connection.close()

    def _upstream_request(self, body: bytes) -> http.client.HTTPResponse:
        proxy = self.server.proxy
        # One retry on a fresh connection covers an idle keep-alive connection the upstream closed.
        for attempt in range(2):
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout
                )
            try:
                self.upstream.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in self.headers.items():
                    if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                        continue
                    self.upstream.putheader(name, value)
                if body or self.command in ("PUT", "POST"):
                    self.upstream.putheader("Content-Length", str(len(body)))
                self.upstream.endheaders(body if body else None)
                return self.upstream.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.upstream.close()
                self.upstream = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _forward(self, body: bytes, fault: Optional[Fault], record: RequestRecord):
        response = self._upstream_request(body)
        payload_length = response.getheader("Content-Length")
        whole = None
        if self.command != "HEAD" and payload_length is None:
            whole = response.read()  # chunked upstream: re-frame with a length
            payload_length = str(len(whole))

        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                continue
            self.send_header(name, value)
        if payload_length is not None:
            self.send_header("Content-Length", payload_length)
        self.end_headers()
        record.status = response.status

        if self.command == "HEAD":
            response.read()
            self.wfile.flush()
            record.completed = True
            return
        limit = None
        if fault is not None and fault.kind in ("truncate", "stall"):
            limit = fault.after_bytes
        sent = 0
        pending = whole
        while limit is None or sent < limit:
            if pending is None:
                chunk = response.read(_COPY_CHUNK)
            else:
                chunk, pending = pending[:_COPY_CHUNK], pending[_COPY_CHUNK:] or b""
            if not chunk:
                break
            if limit is not None:
                chunk = chunk[: limit - sent]
            self.wfile.write(chunk)
            sent += len(chunk)
        self.wfile.flush()
        if limit is None:
            record.completed = True
            return
        # Damaged response: the rest of the upstream body is abandoned with its connection.
        self.upstream.close()
        self.upstream = None
        if fault.kind == "stall":
            self.server.proxy._stopping.wait(fault.seconds)
        if fault.kind == "truncate" and fault.reset:
            self._reset_and_close()
        else:
            self.close_connection = True


class FaultProxy:
    """A reverse proxy on 127.0.0.1:<free port> in front of `upstream` ("host:port")."""

    def __init__(self, upstream: str, upstream_timeout: float = 60.0):
        host, _, port = upstream.rpartition(":")
        self.upstream_host = host or "127.0.0.1"
        self.upstream_port = int(port)
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._records: list[RequestRecord] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: Optional[_ProxyServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        self._server = _ProxyServer(self, ("127.0.0.1", 0))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        # Keep-alive connections would otherwise keep their handler threads blocked in recv.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"

    # -- script and counters ---------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(self, method: Optional[str] = None, path_contains: Optional[str] = None) -> int:
        """Requests received (every attempt, damaged or not) matching the filters."""
        return sum(
            1
            for r in self.requests()
            if (method is None or r.method == method)
            and (path_contains is None or path_contains in r.path)
        )

    def injected(self) -> int:
        return sum(1 for r in self.requests() if r.fault is not None)

    def wait_for(self, predicate, timeout: float) -> bool:
        """Polls predicate(self) until true or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return predicate(self)

    def _take_fault(self, method: str, path: str) -> Optional[Fault]:
        with self._lock:
            for fault in self._faults:
                if not fault._matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                if fault.times is not None and fault.applied >= fault.times:
                    continue
                fault.applied += 1
                return fault
        return None

    def _record(self, method, path, body_bytes, fault) -> RequestRecord:
        record = RequestRecord(method, path, body_bytes, fault.describe() if fault else None)
        with self._lock:
            self._records.append(record)
        return record

    def _register(self, conn: socket.socket):
        with self._lock:
            self._connections.add(conn)

    def _unregister(self, conn: socket.socket):
        with self._lock:
            self._connections.discard(conn)


# ------------------------------------------------------------------------------------------------
# Toxiproxy


class ToxiproxyError(RuntimeError):
    pass


class Toxiproxy:
    """A toxiproxy-server on a free loopback port, driven through its HTTP API."""

    def __init__(self, binary: str):
        self.binary = binary
        self.api_port = free_port()
        self._process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 10.0) -> "Toxiproxy":
        self._process = subprocess.Popen(
            [self.binary, "-host", "127.0.0.1", "-port", str(self.api_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace")
                raise ToxiproxyError(f"toxiproxy-server exited: {err.strip()}")
            try:
                self._call("GET", "/version")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        self.stop()
        raise ToxiproxyError(f"toxiproxy-server did not answer on port {self.api_port}")

    def stop(self):
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stderr.close()
        self._process = None

    def __enter__(self) -> "Toxiproxy":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            raise ToxiproxyError(
                f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}"
            ) from None
        return json.loads(text) if text.strip() else None

    def create_proxy(self, name: str, upstream: str) -> str:
        """Creates a proxy to `upstream` ("host:port"); returns its listen address "host:port"."""
        listen = f"127.0.0.1:{free_port()}"
        created = self._call(
            "POST", "/proxies", {"name": name, "listen": listen, "upstream": upstream}
        )
        return created.get("listen", listen)

    def delete_proxy(self, name: str):
        self._call("DELETE", f"/proxies/{name}")

    def add_toxic(
        self,
        proxy: str,
        toxic_type: str,
        attributes: dict,
        stream: str = "downstream",
        name: Optional[str] = None,
        toxicity: float = 1.0,
    ) -> str:
        """Adds a toxic (latency, bandwidth, timeout, reset_peer, ...); returns its name."""
        name = name or f"{toxic_type}_{stream}"
        self._call(
            "POST",
            f"/proxies/{proxy}/toxics",
            {
                "name": name,
                "type": toxic_type,
                "stream": stream,
                "toxicity": toxicity,
                "attributes": attributes,
            },
        )
        return name

    def remove_toxic(self, proxy: str, name: str):
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")


# ------------------------------------------------------------------------------------------------


def _parse_fault(text: str) -> Fault:
    """status:CODE:S3CODE[:TIMES] | delay:SECONDS[:TIMES] | truncate:BYTES[:TIMES] |
    reset-body:BYTES[:TIMES] | stall:BYTES:SECONDS[:TIMES] | reset[:TIMES]   (TIMES 0 = always)"""
    kind, *args = text.split(":")

    def times(index):
        n = int(args[index]) if len(args) > index else 1
        return None if n == 0 else n

    if kind == "status":
        return Fault.error(int(args[0]), args[1], times=times(2))
    if kind == "delay":
        return Fault.delay(float(args[0]), times=times(1))
    if kind == "truncate":
        return Fault.truncate(int(args[0]), times=times(1))
    if kind == "reset-body":
        return Fault.truncate(int(args[0]), reset=True, times=times(1))
    if kind == "stall":
        return Fault.stall(int(args[0]), float(args[1]), times=times(2))
    if kind == "reset":
        return Fault.reset_connection(times=times(0))
    raise ValueError(f"unknown fault '{text}'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="host:port of the S3 endpoint")
    parser.add_argument("--fault", action="append", default=[], help=_parse_fault.__doc__)
    args = parser.parse_args()
    proxy = FaultProxy(args.upstream)
    for text in args.fault:
        proxy.add_fault(_parse_fault(text))
    with proxy:
        print(f"fault proxy on {proxy.endpoint} -> {args.upstream}; Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    for r in proxy.requests():
        print(f"{r.method} {r.path} {r.status} {r.fault or ''}")


if __name__ == "__main__":
    main()
