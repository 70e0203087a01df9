"""Deleting uploads whose 3 days are over, from the worker's recovery round.

Each batch is taken in its own short transaction; on PostgreSQL, `SKIP LOCKED` gives workers
sweeping at once disjoint batches. The rows go first and their files once the deletion has
committed (models.py), so no row ever names a missing file; a row another worker deleted
first is simply not there, and deleting a file already gone does nothing.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from playground.file_uploads.models import FileUpload

SWEEP_BATCH = 200
SWEEP_BATCHES = 10  # per recovery round of the worker


def delete_expired_uploads(now: datetime | None = None) -> int:
    """Delete the expired uploads, rows and files, at most SWEEP_BATCHES batches of them;
    returns how many rows this call deleted."""
    now = now or timezone.now()
    deleted = 0
    for _batch in range(SWEEP_BATCHES):
        with transaction.atomic():
            pks = list(
                FileUpload.objects.expired(now)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            if pks:
                deleted += FileUpload.objects.filter(pk__in=pks).delete()[0]
        if len(pks) < SWEEP_BATCH:
            break
    return deleted
