"""Encryption at rest for provider keys (Fernet with a key derived from SECRET_KEY)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"provider-keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # SECRET_KEY changed since the key was stored: treat it as missing, never crash a page.
        return ""


def mask(plain: str) -> str:
    """sk-...abcd: enough to recognise a key, not enough to use it."""
    if not plain:
        return ""
    return f"{plain[:3]}...{plain[-4:]}" if len(plain) > 10 else "****"
