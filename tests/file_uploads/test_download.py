"""An upload's `downloadUrl`: its bytes for an API key of its owner, for no one else."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from playground.apikeys.models import ApiKey
from playground.file_uploads.models import FileUpload
from tests.file_uploads.uploads import assert_refused, auth, png, upload_base64

pytestmark = pytest.mark.django_db


def get(client, url, secret, **headers):  # type: ignore[no-untyped-def]
    return client.get(urlsplit(url).path, **auth(secret), **headers)


def test_it_serves_the_bytes_to_any_key_of_the_owner(client, secret, alice):
    content = png((40, 30), "green")
    url = upload_base64(client, secret, content, fileName="green.png")["downloadUrl"]
    _key, second = ApiKey.issue(alice, "another", created_by=alice)
    for key in (secret, second):
        response = get(client, url, key)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'inline; filename="green.png"'
        assert response["Cache-Control"] == "private, max-age=600"
    etag = response["ETag"]
    assert get(client, url, secret, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_an_outsider_is_told_it_names_no_file_of_theirs(client, secret, outsider):
    url = upload_base64(client, secret, png())["downloadUrl"]
    assert_refused(get(client, url, outsider), 404, "the URL names no file of yours")


def test_it_needs_a_valid_key(client, secret, alice):
    url = upload_base64(client, secret, png())["downloadUrl"]
    assert_refused(get(client, url, None), 401, "Authorization: No API key")
    ApiKey.objects.filter(owner=alice).get().revoke()
    assert_refused(get(client, url, secret), 401, "Authorization: Invalid API key")


def test_an_expired_or_unknown_file_is_not_served(client, secret):
    url = upload_base64(client, secret, png())["downloadUrl"]
    FileUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(get(client, url, secret), 404, "the URL names no file of yours")
    unknown = url.replace(FileUpload.objects.get().token, "A" * 32)
    assert_refused(get(client, unknown, secret), 404, "the URL names no file of yours")


def test_the_file_name_in_the_url_only_decorates_it(client, secret):
    url = upload_base64(client, secret, png(), fileName="a.png")["downloadUrl"]
    assert get(client, url.replace("/a.png", "/other.png"), secret).status_code == 200


def test_it_answers_only_get_and_head(client, secret):
    url = upload_base64(client, secret, png())["downloadUrl"]
    assert client.head(urlsplit(url).path, **auth(secret)).status_code == 200
    response = client.post(urlsplit(url).path, **auth(secret))
    assert_refused(response, 405, "method: use GET")
