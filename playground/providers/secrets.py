"""Encryption at rest for provider keys (Fernet with keys derived from SECRET_KEY).

Keys are encrypted with the current SECRET_KEY and read with it or any of
SECRET_KEY_FALLBACKS, so rotating SECRET_KEY the Django way keeps every stored key readable
until `manage.py rotate_provider_keys` has re-encrypted them with the new one.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class KeyUnreadable(Exception):
    """A stored key that none of the current or fallback secret keys can decrypt.

    Never replaced by an empty string: the key is still stored, an admin has to enter it again."""

    def __init__(
        self,
        message: str = "The stored key cannot be decrypted with SECRET_KEY or "
        "SECRET_KEY_FALLBACKS: an admin needs to enter it again.",
    ) -> None:
        super().__init__(message)


def _derive(secret: str) -> Fernet:
    digest = hashlib.sha256(b"provider-keys:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_derive(secret) for secret in secrets])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    """The plain key, "" when none is stored; raises KeyUnreadable when it cannot be read."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyUnreadable() from None


def rotate(token: str) -> str:
    """The same key encrypted with the current SECRET_KEY; raises KeyUnreadable."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise KeyUnreadable() from None


def mask(plain: str) -> str:
    """sk-...abcd: enough to recognise a key, not enough to use it."""
    if not plain:
        return ""
    return f"{plain[:3]}...{plain[-4:]}" if len(plain) > 10 else "****"
