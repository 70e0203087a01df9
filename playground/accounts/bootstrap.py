"""The first admin account, created on the first `make run`."""

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model

ADMIN_USERNAME = "admin"


def ensure_admin(credentials_file: Path) -> str | None:
    """Create the admin account when there is no superuser; returns its new password.

    The login is also written to `credentials_file` (readable by the owner only), so that a
    person who missed the first start's output can still find it.
    """
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(ADMIN_USERNAME, "", password)
    credentials_file.write_text(f"username: {ADMIN_USERNAME}\npassword: {password}\n")
    credentials_file.chmod(0o600)
    return password
