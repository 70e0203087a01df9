"""Deleting images and whole jobs: the rows in one transaction, then every file they owned.

Rows go first and files only once that transaction has committed, so a failure (or a rollback
of an enclosing transaction) never leaves a row pointing at a missing file; the worst case is
a file left on disk, which is logged.

A deleted job keeps its row, emptied (no prompt, images, previews or inputs) and hidden from
every page, so its cost stays in the spend totals: deleting never gives budget back. Deleting
images (even every image of a job) keeps the job as it is.

A job deleted while its worker still waits on the upstream cannot come back: `store_original`
refuses a deleted job (JobDeleted) and removes the files it wrote; the runner still records
what the images cost, since they were billed. Previews are skipped once the job is cancelled.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from playground.core.stored_files import (
    StoredFile,
    remove_after_commit,
    stored_files,
)
from playground.gallery.models import Image
from playground.generations.models import Generation, GenerationInput, Preview
from playground.inputs.models import InputFile

logger = logging.getLogger(__name__)


def delete_images(images: Iterable[Image]) -> None:
    """Delete these images with their renditions and their previews; their jobs stay."""
    pks = [image.pk for image in images]
    with transaction.atomic():
        # Re-read inside the transaction: only what this call deletes has its files removed.
        rows = list(Image.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
        if not rows:
            return
        indexes = {(row.generation_id, row.index) for row in rows}
        previews = [
            preview
            for preview in Preview.objects.filter(generation_id__in={g for g, _ in indexes})
            if (preview.generation_id, preview.image_index) in indexes
        ]
        files = [file for row in [*rows, *previews] for file in stored_files(row)]
        Preview.objects.filter(pk__in=[preview.pk for preview in previews]).delete()
        Image.objects.filter(pk__in=[row.pk for row in rows]).delete()
        remove_after_commit(files)


def delete_job(job: Generation) -> None:
    """Delete a job: its images, previews and inputs, and each uploaded reference or mask
    that no other job uses. A queued or running job is cancelled first."""
    if not job.is_finished:
        try:
            job.cancel()
        except Generation.DoesNotExist:
            return  # deleted meanwhile
    with transaction.atomic():
        # Locked: a result being stored for this job waits, then finds it deleted.
        row = (
            Generation.objects.select_for_update()
            .filter(pk=job.pk, deleted_at__isnull=True)
            .first()
        )
        if row is None:
            return
        inputs = set(
            GenerationInput.objects.filter(generation=row).values_list("input_file_id", flat=True)
        )
        if row.mask_id is not None:
            inputs.add(row.mask_id)
        owned = [*Image.objects.filter(generation=row), *Preview.objects.filter(generation=row)]
        files = [file for item in owned for file in stored_files(item)]
        Image.objects.filter(generation=row).delete()
        Preview.objects.filter(generation=row).delete()
        GenerationInput.objects.filter(generation=row).delete()
        Generation.objects.filter(pk=row.pk).update(
            deleted_at=timezone.now(), prompt="", mask=None, notices=[]
        )
        files += _release_inputs(inputs)
        remove_after_commit(files)


def _release_inputs(pks: set[Any]) -> list[StoredFile]:
    """Delete the input files among `pks` that no job refers to any more; their files.

    Each row is locked (in a fixed order, against deadlocks) before its references are
    counted, so of two jobs sharing a file and deleted at once, the second waits for the
    first to commit and then sees that nobody uses the file: it is neither deleted while
    still needed nor left behind by both. (SQLite serialises writers, which does the same.)
    """
    if not pks:
        return []
    locked = list(InputFile.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    used = set(
        GenerationInput.objects.filter(input_file_id__in=pks).values_list(
            "input_file_id", flat=True
        )
    ) | set(Generation.objects.filter(mask_id__in=pks).values_list("mask_id", flat=True))
    unused = [input_file for input_file in locked if input_file.pk not in used]
    if not unused:
        return []
    InputFile.objects.filter(pk__in=[input_file.pk for input_file in unused]).delete()
    return [file for input_file in unused for file in stored_files(input_file)]
