"""The renditions of a job's images (display size and thumbnails), made on a few threads.

Decoding and encoding images is the costly part of storing a result. While the threads have
room, a job's renditions are made before it settles, so its card shows them as it appears.
When results arrive in a burst, a job settles as soon as its originals are stored and its
renditions follow; until they exist the views serve the original (or a thumbnail made from
it) in their place. Hundreds of jobs finishing together then do not settle one behind the
other's images.
"""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import DatabaseError, connection

from playground.gallery.models import Image
from playground.gallery.storage import make_renditions, store_renditions
from playground.generations.watcher import release_connection

logger = logging.getLogger(__name__)

# A few per core finish sooner, and with far less memory, than hundreds fighting over them.
RENDITION_THREADS = 2 * (os.cpu_count() or 1)
# Images whose renditions failed for a reason other than the database: not tried again.
_unmakeable: set[int] = set()

_pool = ThreadPoolExecutor(max_workers=RENDITION_THREADS, thread_name_prefix="renditions")
_pending = 0  # images handed to the pool and not finished
_pending_lock = threading.Lock()


def has_room_for(count: int) -> bool:
    """Whether the threads could start on `count` more images at once."""
    with _pending_lock:
        return _pending + count <= RENDITION_THREADS


def _count_pending(change: int) -> None:
    global _pending
    with _pending_lock:
        _pending += change


def add_renditions(stored: list[tuple[Image, bytes]]) -> int:
    """Make and store the renditions of these images, side by side; returns how many were
    added. It waits for them, so a job's slot stays taken meanwhile and a burst of results
    cannot pile up undecoded images in memory."""
    release_connection()  # the threads making them need connections from the same small pool
    _count_pending(len(stored))
    futures = [_pool.submit(_add_one, image, data) for image, data in stored]
    return sum(future.result() for future in futures)


def _add_one(image: Image, data: bytes) -> bool:
    try:
        return store_renditions(image, make_renditions(data))
    except DatabaseError as error:
        logger.warning("image %s: renditions not stored (%s); made again later", image.pk, error)
    except Exception:
        # The original is kept and shown in their place.
        logger.exception("image %s: its renditions could not be made", image.pk)
        _unmakeable.add(image.pk)
    finally:
        # Closed even on SQLite: these threads live on, and each connection's page cache
        # would grow with the database.
        connection.close()
        _count_pending(-1)
    return False


def add_missing_renditions(stored_before: datetime, limit: int) -> int:
    """Make the renditions a worker stopped before making (or a busy database refused), for
    images stored before `stored_before`; returns how many were added."""
    images = list(
        Image.objects.filter(thumbnail="", created_at__lt=stored_before)
        .exclude(pk__in=_unmakeable)
        .order_by("pk")[:limit]
    )
    release_connection()
    stored = []
    for image in images:
        try:
            with image.file.open("rb") as original:
                stored.append((image, original.read()))
        except OSError:
            logger.warning("image %s: its original cannot be read for renditions", image.pk)
    return add_renditions(stored) if stored else 0
