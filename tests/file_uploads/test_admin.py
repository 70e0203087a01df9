"""The admin lists uploads (owner, name, size, expiry) and can delete them; it never shows a
file's bytes or the token of its address, and nobody adds or edits one there."""

import pytest

from playground.file_uploads.models import FileUpload
from tests.file_uploads.uploads import png, upload_base64

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/file_uploads/fileupload/"


@pytest.fixture
def admin(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-1")


def test_it_lists_owner_name_size_and_expiry(client, secret, admin):
    content = png((64, 48))
    upload_base64(client, secret, content, uploadPath="refs", fileName="cat.png")
    upload = FileUpload.objects.get()
    client.force_login(admin)
    page = client.get(CHANGELIST).content.decode()
    assert "refs/cat.png" in page and "alice" in page
    assert f"{len(content)}\xa0bytes" in page and "image/png" in page
    assert upload.token not in page

    detail = client.get(f"{CHANGELIST}{upload.pk}/change/").content.decode()
    assert "refs/cat.png" in detail and "64" in detail
    assert upload.token not in detail and upload.file.name not in detail


def test_nobody_adds_or_edits_an_upload_there(client, secret, admin):
    upload_base64(client, secret, png())
    upload = FileUpload.objects.get()
    client.force_login(admin)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    page = client.post(f"{CHANGELIST}{upload.pk}/change/", {"file_name": "x.png"})
    assert page.status_code == 403
    upload.refresh_from_db()
    assert upload.file_name != "x.png"


def test_an_admin_can_delete_one(client, secret, admin):
    upload_base64(client, secret, png())
    upload = FileUpload.objects.get()
    client.force_login(admin)
    response = client.post(f"{CHANGELIST}{upload.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not FileUpload.objects.exists()
