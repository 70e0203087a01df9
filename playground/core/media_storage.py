"""Where media (images, renditions, previews, inputs) is stored: local disk or an S3 bucket.

Built from the environment by settings.py, before Django is set up: imports nothing from the
app registry. The bucket stays private; every file is served by the app's own views, after
their access checks, never by a public or signed address. Credentials are not read here:
boto3 finds AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or its other sources) itself, so
they never appear in the settings.
"""

import importlib.util
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
# An object read for a response or an archive is downloaded into a spooled file first: kept
# in memory up to this size (thumbnails, display renditions), on disk beyond (originals).
MAX_MEMORY_SIZE = 2 * 2**20
ADDRESSING_STYLES = ("path", "virtual", "auto")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def default_storage(
    env: Mapping[str, str], importable: Callable[[str], bool] = _importable
) -> dict[str, Any]:
    """STORAGES["default"]: local disk unless MEDIA_BUCKET names a bucket."""
    bucket = env.get("MEDIA_BUCKET", "").strip()
    if not bucket:
        return {"BACKEND": LOCAL_BACKEND}
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise ImproperlyConfigured(
            f"MEDIA_BUCKET {bucket!r} is not a bucket name: 3 to 63 lower-case letters, "
            "digits, dots or hyphens, starting and ending with a letter or digit."
        )
    missing = [module for module in ("storages", "boto3") if not importable(module)]
    if missing:
        raise ImproperlyConfigured(
            f"MEDIA_BUCKET is set but {' and '.join(missing)} cannot be imported: install "
            "django-storages[s3] (which brings boto3), or unset MEDIA_BUCKET to store media "
            "on local disk."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "default_acl": None,  # objects stay private: the bucket's own policy, no public grant
        "querystring_auth": True,  # any address the storage makes is signed and expires
        "file_overwrite": False,  # a name taken gets a new one, as on disk
        "max_memory_size": MAX_MEMORY_SIZE,
        "signature_version": "s3v4",  # what AWS's newer regions and most other servers require
    }
    if endpoint := env.get("MEDIA_ENDPOINT_URL", "").strip():
        options["endpoint_url"] = _endpoint_url(endpoint)
    if region := env.get("MEDIA_REGION", "").strip():
        if not _REGION.match(region):
            raise ImproperlyConfigured(
                f"MEDIA_REGION {region!r} is not a region name, e.g. us-east-1."
            )
        options["region_name"] = region
    if prefix := env.get("MEDIA_PREFIX", "").strip().strip("/"):
        if any(part in {"", ".", ".."} for part in prefix.split("/")):
            raise ImproperlyConfigured(
                f"MEDIA_PREFIX {prefix!r} must be a plain key prefix such as playground/media "
                "(no empty, '.' or '..' parts)."
            )
        options["location"] = prefix
    style = env.get("MEDIA_ADDRESSING_STYLE", "").strip().lower()
    if style and style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"MEDIA_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}; got {style!r}."
        )
    # S3-compatible servers reached by their own address usually take the bucket in the path.
    style = style or ("path" if "endpoint_url" in options else "")
    if style:
        options["addressing_style"] = style
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def _endpoint_url(value: str) -> str:
    """An http(s) origin with an optional path; never credentials, a query or a fragment."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ImproperlyConfigured(f"MEDIA_ENDPOINT_URL is not a valid URL: {error}.") from error
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            "MEDIA_ENDPOINT_URL must start with https:// (or http://) and name a host, "
            "e.g. https://s3.example.com."
        )
    if "@" in parts.netloc:
        # Not echoed back: the user part may hold a key.
        raise ImproperlyConfigured(
            "MEDIA_ENDPOINT_URL must not hold credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment instead."
        )
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"MEDIA_ENDPOINT_URL must have no query or fragment; got {value!r}."
        )
    return value.rstrip("/")
