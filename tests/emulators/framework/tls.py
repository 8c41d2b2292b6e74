"""TLS for emulators: one trustme CA per process, a server certificate for 127.0.0.1/localhost.

Some SDKs insist on https; clients trust the emulator through the CA bundle at `ca_path()`
(requests: `REQUESTS_CA_BUNDLE` or `verify=`; urllib3/hubspot-api-client: `ssl_ca_cert`;
urllib/httpx: `client_context()`).
"""

from __future__ import annotations

import atexit
import os
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trustme

_lock = threading.Lock()
_ca: trustme.CA | None = None
_server_cert: trustme.LeafCert | None = None
_ca_path: Path | None = None


def _authority() -> tuple[trustme.CA, trustme.LeafCert, Path]:
    # Key generation costs milliseconds; one CA per process serves every emulator.
    global _ca, _server_cert, _ca_path
    with _lock:
        if _ca is None or _server_cert is None or _ca_path is None:
            _ca = trustme.CA()
            _server_cert = _ca.issue_cert("127.0.0.1", "localhost")
            handle, name = tempfile.mkstemp(prefix="emulator-ca-", suffix=".pem")
            os.close(handle)
            _ca_path = Path(name)
            _ca.cert_pem.write_to_path(str(_ca_path))
            atexit.register(_ca_path.unlink, missing_ok=True)
        return _ca, _server_cert, _ca_path


def ca_path() -> Path:
    """The PEM file of the CA that signed every emulator's certificate."""
    return _authority()[2]


def server_context() -> ssl.SSLContext:
    """A server-side context holding the emulator certificate."""
    _, cert, _ = _authority()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    return ctx


def client_context() -> ssl.SSLContext:
    """A client-side context that trusts the emulator CA (for urllib, httpx, http.client)."""
    return ssl.create_default_context(cafile=str(ca_path()))


@contextmanager
def trusted_env() -> Iterator[Path]:
    """Point requests (REQUESTS_CA_BUNDLE) and OpenSSL (SSL_CERT_FILE) at the emulator CA."""
    path = str(ca_path())
    saved = {k: os.environ.get(k) for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    os.environ.update({k: path for k in saved})
    try:
        yield Path(path)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
