"""Uploads are deleted, rows and files, once their 3 days are over: by the worker's recovery
round, idempotently, and safely with several workers sweeping at once."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from playground.file_uploads.models import KEPT_FOR, FileUpload
from playground.file_uploads.sweep import delete_expired_uploads
from playground.generations.recovery import recover_orphaned_jobs
from tests.file_uploads.uploads import auth, png, upload_base64

pytestmark = pytest.mark.django_db(transaction=True)


def on_disk(upload: FileUpload) -> Path:
    return Path(django_settings.MEDIA_ROOT) / upload.file.name


def test_it_deletes_uploads_only_once_their_three_days_are_over(client, secret):
    upload_base64(client, secret, png((30, 30)))
    upload = FileUpload.objects.get()
    assert upload.expires_at - upload.uploaded_at == KEPT_FOR == timedelta(days=3)
    assert on_disk(upload).exists()

    assert delete_expired_uploads(now=upload.expires_at - timedelta(seconds=1)) == 0
    assert FileUpload.objects.exists() and on_disk(upload).exists()

    assert delete_expired_uploads(now=upload.expires_at) == 1
    assert not FileUpload.objects.exists() and not on_disk(upload).exists()
    assert delete_expired_uploads(now=upload.expires_at + timedelta(days=1)) == 0  # idempotent


def test_the_workers_recovery_round_sweeps_them(client, secret):
    for color in ("red", "blue"):
        upload_base64(client, secret, png((30, 30), color))
    old, fresh = FileUpload.objects.order_by("pk")
    FileUpload.objects.filter(pk=old.pk).update(uploaded_at=old.uploaded_at - KEPT_FOR)
    FileUpload.objects.filter(pk=old.pk).update(expires_at=old.expires_at - KEPT_FOR)

    recover_orphaned_jobs()
    assert list(FileUpload.objects.all()) == [fresh]
    assert not on_disk(old).exists() and on_disk(fresh).exists()
    url = f"/api/uploads/{old.token}/{old.file_name}"
    assert client.get(url, **auth(secret)).status_code == 404


def test_several_workers_sweeping_at_once_delete_each_upload_once(client, secret):
    for index in range(12):
        upload_base64(client, secret, png((20, 20 + index)))
    uploads = list(FileUpload.objects.all())
    later = max(upload.expires_at for upload in uploads) + timedelta(seconds=1)
    start = threading.Barrier(3)
    counts: list[int] = []
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            counts.append(delete_expired_uploads(now=later))
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sum(counts) == 12
    assert not FileUpload.objects.exists()
    assert not any(on_disk(upload).exists() for upload in uploads)


def test_a_deleted_owner_or_an_admins_deletion_takes_the_files_too(client, secret, alice):
    upload_base64(client, secret, png((30, 30), "red"))
    upload_base64(client, secret, png((30, 30), "blue"))
    first, second = FileUpload.objects.order_by("pk")
    first.delete()
    assert not on_disk(first).exists() and on_disk(second).exists()
    alice.delete()
    assert not FileUpload.objects.exists() and not on_disk(second).exists()
