"""HTTPS servers for the KMEs: one listening port per trusted node's key manager, mutual TLS.

Why one port per KME rather than one server routing by host or path: in ETSI GS QKD 014 an SAE
talks to *its* KME at that KME's address, and the KME proves who it is with its own server
certificate. A port per KME keeps that shape, so an unmodified client configured with a KME's
address and the CA sees exactly what it would see in a real network, and a request reaching the
wrong KME is refused (401) as it would be there.

The calling SAE is the common name of the client certificate, which the server requires and
verifies against the throwaway CA. Plain HTTP exists only for debugging, behind `insecure=True`
(the CLI's `--insecure-http`); the SAE then names itself in an `X-SAE-ID` header, which anyone can
forge, which is why it is off by default.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kme.api import MAX_BODY_BYTES, KmeApi
from kme.certs import CertificateSet

INSECURE_IDENTITY_HEADER = "X-SAE-ID"
HANDSHAKE_TIMEOUT_S = 10.0


def client_common_name(peer_cert: dict[str, Any] | None) -> str | None:
    """The subject CN of a verified peer certificate (ssl.getpeercert() form)."""
    if not peer_cert:
        return None
    for rdn in peer_cert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: an SAE asking often reuses its connection
    server: _KmeHttpServer

    def _serve(self) -> None:
        length_text = self.headers.get("Content-Length", "0")
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._reply(400, {"message": f"bad Content-Length {length_text[:20]!r}"})
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if self.server.insecure:
            caller = self.headers.get(INSECURE_IDENTITY_HEADER)
        else:
            caller = client_common_name(self.request.getpeercert())
        status, payload = self.server.api.handle(
            self.command, path, query, body, caller, self.server.kme_id
        )
        self._reply(status, payload)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve()

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve()

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.log_requests:
            super().log_message(format, *args)


class _KmeHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        api: KmeApi,
        kme_id: str,
        tls: ssl.SSLContext | None,
        log_requests: bool,
    ) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.kme_id = kme_id
        self.insecure = tls is None
        self.log_requests = log_requests
        if tls is not None:
            # Handshake in the request's own thread, not in accept(): a slow or silent client
            # must not stall every other SAE of this KME.
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return  # no valid client certificate: no HTTP at all
            request.settimeout(None)
        super().finish_request(request, client_address)


def server_tls_context(certs: CertificateSet, kme_id: str) -> ssl.SSLContext:
    """TLS >= 1.2, this KME's certificate, client certificates required and checked."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    pair = certs.kmes[kme_id]
    context.load_cert_chain(pair.cert, pair.key)
    context.load_verify_locations(certs.ca.cert)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@dataclass
class KmeEndpoint:
    kme_id: str
    node: int
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"{self.host}:{self.port}"


class KmeServers:
    """Every KME's server, each on its own thread; `close()` stops them all."""

    def __init__(
        self,
        api: KmeApi,
        *,
        certs: CertificateSet | None,
        host: str = "127.0.0.1",
        port_base: int = 0,
        log_requests: bool = False,
    ) -> None:
        """Bind one port per KME (port_base + node index, or free ports when port_base is 0).

        `certs=None` serves plain HTTP: callers must have chosen that explicitly (insecure).
        """
        self.endpoints: dict[str, KmeEndpoint] = {}
        self._servers: list[_KmeHttpServer] = []
        self._threads: list[threading.Thread] = []
        try:
            for kme_id, node in sorted(api.network.directory.kmes.items(), key=lambda kv: kv[1]):
                tls = None if certs is None else server_tls_context(certs, kme_id)
                port = 0 if port_base == 0 else port_base + node
                server = _KmeHttpServer((host, port), api, kme_id, tls, log_requests)
                self._servers.append(server)
                self.endpoints[kme_id] = KmeEndpoint(kme_id, node, host, server.server_address[1])
        except BaseException:
            self.close()
            raise
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        for server in self._servers:
            if self._threads:
                server.shutdown()
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> KmeServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
