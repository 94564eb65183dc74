"""A throwaway certificate authority for loopback TLS: the fake vendor server answers https:// with it.

`loopback_tls(folder)` writes a self-signed certificate for 127.0.0.1 and localhost (a CA certificate
that is also the server's, so one file is the whole trust chain) and returns the server-side
`ssl.SSLContext` and the PEM path clients are told to trust (`SSL_CERT_FILE`, which aiohttp, httpx2
and the vendor SDKs read, as a university's TLS-inspecting proxy set-up would use).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path


def loopback_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """(server context, CA file) for a certificate valid for 127.0.0.1 and localhost for one day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "affectlens loopback test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "loopback-ca.pem", folder / "loopback-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
