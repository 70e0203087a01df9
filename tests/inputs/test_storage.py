"""Stored inputs: one row and one file per content, nothing half-written on failure."""

import hashlib
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import IntegrityError
from PIL import Image

if not apps.is_installed("playground.inputs"):
    pytest.skip("playground.inputs is not in INSTALLED_APPS", allow_module_level=True)

from playground.inputs import storage
from playground.inputs.images import normalize_mask, normalize_reference
from playground.inputs.models import InputFile
from tests.inputs.pictures import decoded, gradient, jpeg_rotated, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[str]:
    return sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file())


def normalized(data: bytes, name: str = "photo.png"):  # type: ignore[no-untyped-def]
    return normalize_reference(name, io.BytesIO(data), len(data))


def test_it_stores_the_original_bytes_under_their_sha256(media):
    data = png(gradient())
    sha256 = hashlib.sha256(data).hexdigest()
    row = storage.store_input(normalized(data))
    assert row.sha256 == sha256
    assert (row.format, row.width, row.height, row.byte_size) == ("png", 64, 48, len(data))
    assert row.content_type == "image/png"
    assert row.file.name == f"inputs/{sha256[:2]}/{sha256}.png"
    assert row.thumbnail.name == f"inputs/thumbs/{sha256[:2]}/{sha256}.webp"
    assert storage.read_bytes(row) == data
    assert decoded(row.thumbnail.read()).format == "WEBP"
    assert str(row) == f"input {sha256[:12]} (png, 64x48)"


def test_it_stores_the_same_image_once(media):
    data = png(gradient())
    first = storage.store_input(normalized(data, "a.png"))
    second = storage.store_input(normalized(data, "b.png"))
    assert first.pk == second.pk
    assert InputFile.objects.count() == 1
    assert stored_files(media) == sorted([first.file.name, first.thumbnail.name])


def test_it_stores_a_reencoded_image(media):
    image = normalized(jpeg_rotated(gradient(), 6), "phone.jpg")
    row = storage.store_input(image)
    assert (row.format, row.width, row.height) == ("jpeg", 48, 64)
    stored = storage.read_bytes(row)
    assert hashlib.sha256(stored).hexdigest() == row.sha256 == image.sha256
    assert len(stored) == row.byte_size


def test_it_leaves_no_files_when_saving_the_row_fails(media, monkeypatch):
    def broken_save(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(InputFile, "save", broken_save)
    with pytest.raises(RuntimeError):
        storage.store_input(normalized(png(gradient())))
    assert stored_files(media) == []
    monkeypatch.undo()
    assert InputFile.objects.count() == 0


def test_it_leaves_no_files_when_the_thumbnail_cannot_be_written(media, monkeypatch):
    original = storage.ContentFile

    def failing_content(*args: object, **kwargs: object) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(storage, "ContentFile", failing_content)
    with pytest.raises(OSError, match="disk full"):
        storage.store_input(normalized(png(gradient())))
    monkeypatch.setattr(storage, "ContentFile", original)
    assert stored_files(media) == []
    assert InputFile.objects.count() == 0


def test_it_deletes_its_files_when_the_row_cannot_be_inserted(media, monkeypatch):
    data = png(gradient())
    winner = storage.store_input(normalized(data))
    monkeypatch.setattr(storage, "find_input", lambda sha256: None)
    with pytest.raises(IntegrityError):
        storage.store_input(normalized(data))
    assert InputFile.objects.count() == 1
    assert stored_files(media) == sorted([winner.file.name, winner.thumbnail.name])


def test_it_deletes_the_losers_files_and_returns_the_existing_row(media, monkeypatch):
    data = png(gradient())
    winner = storage.store_input(normalized(data))
    lookups = iter([None, winner])  # not there before writing; there after the IntegrityError
    monkeypatch.setattr(storage, "find_input", lambda sha256: next(lookups))
    loser = storage.store_input(normalized(data))
    assert loser.pk == winner.pk
    assert InputFile.objects.count() == 1
    assert stored_files(media) == sorted([winner.file.name, winner.thumbnail.name])


def test_it_stores_a_mask_once(media):
    picture = Image.new("RGBA", (64, 48), (0, 0, 0, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 10, 10))
    data = png(picture)
    mask, _ = normalize_mask("mask.png", io.BytesIO(data), len(data), (64, 48))
    row = storage.store_mask(mask)
    assert (row.format, row.width, row.height, row.byte_size) == ("png", 64, 48, len(mask))
    assert row.sha256 == hashlib.sha256(mask).hexdigest()
    assert storage.read_bytes(row) == mask
    assert storage.store_mask(mask).pk == row.pk
    assert len(stored_files(media)) == 2


def test_it_copies_an_uploaded_temporary_file_rather_than_moving_it(media):
    data = png(gradient())
    upload = TemporaryUploadedFile("upload.png", "image/png", len(data), None)
    upload.write(data)
    row = storage.store_input(normalize_reference(upload.name, upload, upload.size))
    assert Path(upload.temporary_file_path()).exists()
    assert storage.read_bytes(row) == data
    upload.close()
