"""What settings.py needs at start for a public deployment: SITE_URL, and private data files.

Imports nothing from Django's app registry: settings.py runs this before Django is set up.
"""

import contextlib
import ipaddress
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$")


@dataclass(frozen=True)
class SiteUrl:
    """The site's public address: scheme, host (as ALLOWED_HOSTS spells it) and origin."""

    scheme: str
    host: str
    origin: str

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"

    @property
    def netloc(self) -> str:
        return self.origin.split("://", 1)[1]


def parse_site_url(value: str) -> SiteUrl | None:
    """SITE_URL, e.g. https://images.example.com; None when unset.

    Only an origin is accepted (scheme, host, optional port): a path, query, fragment or user
    name would silently be dropped from the origin checks, so they are refused at start.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"SITE_URL {value!r} is not a valid URL: {error}.") from error
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(
            f"SITE_URL must start with https:// (or http://) and name a host, e.g. "
            f"https://images.example.com; got {value!r}."
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "@" in parts.netloc:
        raise ImproperlyConfigured(
            f"SITE_URL must be the site's origin only (scheme, host and optional port, no path, "
            f"query or user name), e.g. https://images.example.com; got {value!r}."
        )
    host = _allowed_host(parts.hostname or "", value)
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    return SiteUrl(scheme=parts.scheme, host=host, origin=origin)


def weak_secret_key(key: str) -> bool:
    """What `check --deploy` warns of (security.W009): short, repetitive or Django's sample."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


def _allowed_host(hostname: str, value: str) -> str:
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        if _DNS_NAME.match(hostname):
            return hostname.rstrip(".")
        raise ImproperlyConfigured(
            f"SITE_URL has no valid host name (letters, digits, dots and dashes); got {value!r}."
        ) from None
    return f"[{address}]" if address.version == 6 else str(address)


def private_sqlite_file(path: Path) -> None:
    """Create the database file owner-only before SQLite does (it would use 0644); SQLite gives
    its -wal and -shm files the database file's mode. Fixes the modes of existing ones."""
    # Not ours, or in a folder that does not exist: SQLite reports either more clearly.
    with contextlib.suppress(PermissionError, FileNotFoundError):
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
        os.close(descriptor)
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        _restrict(file, PRIVATE_FILE_MODE)


def create_private_file_once(path: Path, text: str) -> None:
    """Write `text` to a new owner-only file, atomically: when two processes start on a fresh
    DATA_DIR (web and worker), both end up reading the same file, never a half-written one."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        with contextlib.suppress(FileExistsError):  # the other process won: keep its file
            os.link(temporary, path)
    finally:
        temporary.unlink()


def private_directory(path: Path) -> bool:
    """Create `path` owner-only, or restrict an existing one; True when its mode was changed."""
    path.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    return _restrict(path, PRIVATE_DIRECTORY_MODE)


def private_tree(root: Path, keep_readable: tuple[Path, ...] = ()) -> None:
    """Owner-only modes for every file and directory under `root` (a data directory from before
    they were enforced), except the trees in `keep_readable` (collected static files)."""
    skipped = {path.resolve() for path in keep_readable}
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories if (Path(directory) / name).resolve() not in skipped
        ]
        for name in subdirectories:
            _restrict(Path(directory) / name, PRIVATE_DIRECTORY_MODE)
        for name in files:
            _restrict(Path(directory) / name, PRIVATE_FILE_MODE)


def _restrict(path: Path, mode: int) -> bool:
    """chmod when the mode differs and the entry is ours; sockets and links are left alone."""
    try:
        status = path.lstat()
    except FileNotFoundError:
        return False
    kind = stat.S_IFMT(status.st_mode)
    if kind not in {stat.S_IFREG, stat.S_IFDIR} or stat.S_IMODE(status.st_mode) == mode:
        return False
    if status.st_uid != os.geteuid():
        return False  # not ours to change (a mounted volume owned by someone else)
    path.chmod(mode)
    return True
