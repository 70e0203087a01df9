"""Removing the files rows held: the one way files are deleted, and only after the rows.

Rows go first and files only once their transaction has committed, so a rollback never leaves
a row pointing at a missing file; the worst case is a file left on disk, which is logged.
"""

import logging
from collections.abc import Iterable

from django.core.files.storage import Storage
from django.db import models, transaction

logger = logging.getLogger(__name__)

StoredFile = tuple[Storage, str]


def stored_files(instance: models.Model) -> list[StoredFile]:
    """Every file a row holds, from each of its file fields (renditions added later included)."""
    found = []
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.FileField):
            field_file = getattr(instance, field.attname)
            if field_file.name:
                found.append((field_file.storage, field_file.name))
    return found


def remove_files(files: Iterable[StoredFile]) -> None:
    """Delete files now; one that cannot be deleted is logged and the others still go."""
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:
            logger.warning("could not delete the stored file %s", name, exc_info=True)


def remove_after_commit(files: list[StoredFile]) -> None:
    """Delete files once the current transaction has committed (at once outside one)."""
    if files:
        transaction.on_commit(lambda: remove_files(files), robust=True)
