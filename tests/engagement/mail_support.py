"""A real IMAP server on loopback (pymap's in-memory ``dict`` backend) and the emails the mail tests send
(not collected as tests)."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

from tests.engagement.test_adapter_email import FIRST_EMAIL, INVOICE_PDF

IMAP_USER, IMAP_PASSWORD = "demouser", "demopass"

# Alice answers her own first email (In-Reply-To and References name it) and attaches a CSV statement.
REPLY_WITH_ATTACHMENT = b"""\
Message-ID: <CAF7x1q=reply777@mail.example.com>
In-Reply-To: <CAF7x1q=abc123@mail.example.com>
References: <CAF7x1q=abc123@mail.example.com>
Date: Fri, 14 Mar 2025 12:10:00 +0000
MIME-Version: 1.0
From: Alice Smith <alice.smith@example.com>
To: CEA Support <support@cea.example>
Subject: Re: Invoice INV-2025-0042 is wrong
Content-Type: multipart/mixed; boundary="------------mixed0777"

--------------mixed0777
Content-Type: text/plain; charset=UTF-8

Here is my bank statement showing both payments.

--------------mixed0777
Content-Type: text/csv; name="statement.csv"
Content-Disposition: attachment; filename="statement.csv"

date,amount
2025-03-01,49.99
2025-03-01,49.99

--------------mixed0777--
""".replace(b"\n", b"\r\n")

STATEMENT_CSV = b"date,amount\r\n2025-03-01,49.99\r\n2025-03-01,49.99\r\n"


def plain_email(message_id: str, sender: str = "bruno@example.org", subject: str = "Where is my order?") -> bytes:
    return (
        f"Message-ID: <{message_id}>\r\n"
        "Date: Fri, 14 Mar 2025 15:30:12 +0100\r\n"
        f"From: {sender}\r\n"
        "To: support@cea.example\r\n"
        f"Subject: {subject}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Order 10455 has not arrived.\r\n"
    ).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class ImapServer:
    """pymap on 127.0.0.1:``port``, one user; ``client()`` logs in as that user (the tests' own view)."""

    port: int

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def new_folder(self, *messages: bytes) -> str:
        """A folder of its own for a test, holding ``messages`` in this order."""
        folder = f"Support-{uuid.uuid4().hex[:8]}"
        with self.client() as client:
            client.create_folder(folder)
            for message in messages:
                client.append(folder, message)
        return folder

    def append(self, folder: str, message: bytes) -> None:
        with self.client() as client:
            client.append(folder, message)

    def uids_and_flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
            return {uid: tuple(data[b"FLAGS"]) for uid, data in fetched.items()}


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (valid a day) and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "imap-cert.pem", directory / "imap-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def imap_server_fixture(tls: tuple[Path, Path] | None = None) -> Iterator[ImapServer]:
    """Start pymap (the ``dict`` backend: in memory) on a free port; stopped after the module.

    With ``tls`` (certificate and key files), the server offers STARTTLS; without, plain IMAP only.
    """
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="cea-test-pymap-", suffix=".log", delete=False)  # noqa: SIM115
    launcher = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())"
    security = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else ["--no-tls"]
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, "--host", "127.0.0.1", "--port", str(port), *security, "dict"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"pymap did not start on port {port}; see {log.name}")
        time.sleep(0.1)
    try:
        yield ImapServer(port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


__all__ = [
    "FIRST_EMAIL",
    "INVOICE_PDF",
    "REPLY_WITH_ATTACHMENT",
    "STATEMENT_CSV",
    "ImapServer",
    "free_port",
    "imap_server_fixture",
    "plain_email",
    "self_signed_certificate",
]
