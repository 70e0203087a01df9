"""An upload's `downloadUrl` given to createTask (`input_urls`, `mask_url`): read from storage
for the owner, never fetched over HTTP."""

from typing import Any

from django.urls import Resolver404, resolve

from playground.file_uploads.models import NOT_YOURS, FileUpload

DOWNLOAD_VIEW = "file-upload-download"


class UploadUnusable(ValueError):
    """A path of an upload that is not the owner's, or no longer kept; str() says so."""


def uploaded_bytes(owner: Any, path: str) -> bytes | None:
    """The bytes of the owner's upload that a path of this server names; None when the path
    is not an upload's at all."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name != DOWNLOAD_VIEW:
        return None
    upload = FileUpload.objects.owned_live(owner, match.kwargs["token"])
    if upload is None:
        raise UploadUnusable(NOT_YOURS)
    try:
        with upload.file.open("rb") as stored:
            return stored.read()
    except OSError as error:  # deleted by the sweep a moment ago
        raise UploadUnusable(NOT_YOURS) from error
