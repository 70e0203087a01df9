"""The request fields of the File Upload API, checked as Kie documents them.

`base64Data` (bare base64 or a data URL), `fileUrl`, `file`, and the optional `uploadPath`
(folders, without leading or trailing slashes) and `fileName` (with its extension; a random
one when missing). Every refusal is an ApiError naming its field.
"""

import base64
import binascii
import re
import secrets
from typing import Any
from urllib.parse import unquote, urlsplit

from playground.api import outbound
from playground.core.body_limits import megabytes
from playground.core.errors import ApiError, invalid
from playground.file_uploads.models import MAX_NAME, MAX_UPLOAD_PATH

BASE64_DATA = "base64Data"
FILE = "file"
FILE_URL = "fileUrl"
FILE_NAME = "fileName"
UPLOAD_PATH = "uploadPath"
MAX_URL_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def too_large(field_name: str, max_bytes: int) -> ApiError:
    return ApiError(
        413, f"the file is larger than {megabytes(max_bytes)}.", param=field_name, code="too_large"
    )


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters."
    if "/" in name or "\\" in name:
        return "a file name, not a path: put folders in uploadPath."
    if _CONTROL.search(name) or name in (".", ".."):
        return "not a usable file name."
    return None


def file_name(value: Any) -> str:
    """The name the program chose, or "" when it chose none (Kie then makes one up)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(FILE_NAME, "must be a string.")
    name = value.strip()
    if name and (problem := _name_problem(name)):
        raise invalid(FILE_NAME, problem)
    return name


def usable_name(name: str) -> str:
    """`name` if it can be a file name (an upload's own name, a URL's last part), else ""."""
    name = name.strip()
    return name if name and _name_problem(name) is None else ""


def made_up_name(image_format: str) -> str:
    return f"{secrets.token_hex(8)}.{EXTENSIONS[image_format]}"


def upload_path(value: Any) -> str:
    """Folders like `images/user-uploads`; slashes around it are dropped."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(UPLOAD_PATH, "must be a string.")
    path = value.strip().strip("/")
    if len(path) > MAX_UPLOAD_PATH:
        raise invalid(UPLOAD_PATH, f"longer than {MAX_UPLOAD_PATH} characters.")
    if "\\" in path or _CONTROL.search(path):
        raise invalid(UPLOAD_PATH, "may not hold backslashes or control characters.")
    if path and any(part in ("", ".", "..") for part in path.split("/")):
        raise invalid(
            UPLOAD_PATH,
            "folder names separated by single slashes, without . or .. "
            "(for example images/user-uploads).",
        )
    return path


def base64_content(value: Any, max_bytes: int) -> bytes:
    """The bytes of bare base64 or of a `data:<type>;base64,<data>` URL."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(
            BASE64_DATA,
            "required: the file in base64, bare or as a data URL (data:image/png;base64,...).",
        )
    payload = value.strip()
    if payload[:5].lower() == "data:":
        header, comma, payload = payload[5:].partition(",")
        params = [part.strip().lower() for part in header.split(";")[1:]]
        if not comma or "base64" not in params:
            raise invalid(BASE64_DATA, "a data URL must be base64: data:image/png;base64,<data>.")
    payload = "".join(payload.split())  # line breaks some encoders insert
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise too_large(BASE64_DATA, max_bytes)
    try:
        content = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise invalid(BASE64_DATA, "not valid base64.") from error
    if not content:
        raise invalid(BASE64_DATA, "holds no data.")
    return content


def file_url(value: Any) -> tuple[str, str]:
    """(the URL, its host) of an http(s) URL to fetch."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(FILE_URL, "required: the http(s) URL of the image, as a string.")
    url = value.strip()
    if len(url) > MAX_URL_CHARS:
        raise invalid(FILE_URL, f"longer than {MAX_URL_CHARS} characters.")
    try:
        _parts, host = outbound.split_http_url(url)
    except outbound.RefusedUrl as refused:
        raise invalid(FILE_URL, str(refused)) from refused
    return url, host


def url_file_name(url: str) -> str:
    """The last part of a URL's path, when it can be a file name (Kie names the file so)."""
    return usable_name(unquote(urlsplit(url).path.rpartition("/")[2]))
