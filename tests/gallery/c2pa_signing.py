"""Sign test images with real C2PA manifests: a throwaway CA and an end-entity certificate.

c2pa-rs checks the signing certificate's profile: an X.509 v3 end-entity certificate (not a
CA) with the digitalSignature key usage, an extended key usage C2PA accepts (emailProtection
here), an authority key identifier, and a chain up to an issuer. The chain is not on any trust
list, so the library reports "signingCredential.untrusted" and the validation state "Valid"
(intact, signer unvouched), never "Trusted".
"""

import datetime
import io
import struct
import zlib
from dataclasses import dataclass

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image as PILImage

CLAIM_GENERATOR = {"name": "playground-test", "version": "1.0"}
GENERATIVE_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@dataclass(frozen=True)
class Credentials:
    chain_pem: bytes  # the signer's certificate, then its CA
    key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Playground Test CA"),
        ]
    )


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def make_credentials(common_name: str = "Playground Test Signer") -> Credentials:
    """A P-256 CA and a signer it issued (for ES256), valid from yesterday for a month."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Playground Test Root")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signer=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Credentials(
        chain_pem=leaf.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def png(color: str = "teal", size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def sign_png(data: bytes, credentials: Credentials) -> bytes:
    """The PNG with an embedded manifest: one c2pa.created action by a generative AI model."""
    manifest = {
        "claim_generator_info": [CLAIM_GENERATOR],
        "title": "test.png",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": "playground-test/1.0",
                            "digitalSourceType": GENERATIVE_AI,
                        }
                    ]
                },
            }
        ],
    }
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.chain_pem, credentials.key_pem, None
    )
    signed = io.BytesIO()
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/png", io.BytesIO(data), signed)
    return signed.getvalue()


def tamper(signed: bytes) -> bytes:
    """Change pixels inside the image data (IDAT), leaving the manifest as it was.

    The chunk is decompressed, a few pixel bytes flipped and the chunk rewritten with its
    length and CRC, so the picture still decodes: only the C2PA data hash can tell.
    """
    at = signed.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", signed[at : at + 4])
    pixels = bytearray(zlib.decompress(signed[at + 8 : at + 8 + length]))
    for offset in range(1, 9):  # byte 0 of a scanline is its filter type
        pixels[offset] ^= 0xFF
    body = zlib.compress(bytes(pixels))
    chunk = struct.pack(">I", len(body)) + b"IDAT" + body
    chunk += struct.pack(">I", zlib.crc32(b"IDAT" + body))
    return signed[:at] + chunk + signed[at + 12 + length :]


def damage_manifest(signed: bytes) -> bytes:
    """Zero out part of the embedded manifest store (PNG chunk caBX), its CRC made good
    again, so the picture still decodes and only the manifest is unreadable."""
    at = signed.index(b"caBX") - 4
    (length,) = struct.unpack(">I", signed[at : at + 4])
    body = bytearray(signed[at + 8 : at + 8 + length])
    body[40:200] = bytes(160)
    chunk = signed[at : at + 8] + bytes(body) + struct.pack(">I", zlib.crc32(b"caBX" + body))
    return signed[:at] + chunk + signed[at + 12 + length :]
