"""TLS for the lab's API servers: a throw-away CA and a server certificate for
127.0.0.1, made at each start.

The API servers must speak HTTPS because kubectl (client-go's clientcmd) sends a
kubeconfig's credentials only to `https://` servers: over plain HTTP the bearer
token would silently be left out. The CA goes into the kubeconfig as
`certificate-authority-data`, so kubectl and the python client verify the server.
"""

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chaosext.lab.kubeconfig import write_private

CA_FILE = "ca.crt"
CERT_FILE = "apiserver.crt"
KEY_FILE = "apiserver.key"


@dataclass(frozen=True)
class Certificates:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def generate(days: int = 365) -> Certificates:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    start, end = (
        now - datetime.timedelta(minutes=5),
        now + datetime.timedelta(days=days),
    )
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("meshdrill-lab-ca"))
        .issuer_name(_name("meshdrill-lab-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("meshdrill-lab-apiserver"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Certificates(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def write(directory: Path, certs: Certificates) -> None:
    """Save the CA (for clients) and the server's certificate and key (0600)."""
    write_private(directory / CA_FILE, certs.ca_pem.decode())
    write_private(directory / CERT_FILE, certs.cert_pem.decode())
    write_private(directory / KEY_FILE, certs.key_pem.decode())


def server_context(directory: Path) -> ssl.SSLContext:
    """The API servers' TLS context (HTTP/1.1 only: aiohttp speaks no HTTP/2)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / CERT_FILE, directory / KEY_FILE)
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_context(ca_file: Path) -> ssl.SSLContext:
    """A client context trusting the lab's CA."""
    return ssl.create_default_context(cafile=str(ca_file))
