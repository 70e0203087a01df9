"""STORAGES["default"] from the environment: local disk, or a private S3 bucket."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from playground.core.media_storage import (
    LOCAL_BACKEND,
    MAX_MEMORY_SIZE,
    S3_BACKEND,
    default_storage,
)

ROOT = Path(__file__).resolve().parent.parent


def options(**env: str) -> dict:
    storage = default_storage({"MEDIA_BUCKET": "media", **env})
    assert storage["BACKEND"] == S3_BACKEND
    return storage["OPTIONS"]


def test_local_disk_without_a_bucket():
    assert default_storage({}) == {"BACKEND": LOCAL_BACKEND}
    assert default_storage({"MEDIA_BUCKET": "  ", "MEDIA_ENDPOINT_URL": "nonsense"}) == {
        "BACKEND": LOCAL_BACKEND
    }


def test_a_bucket_is_private_and_spools_large_reads_to_disk():
    assert options() == {
        "bucket_name": "media",
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        "max_memory_size": MAX_MEMORY_SIZE,
        "signature_version": "s3v4",
    }
    assert 0 < MAX_MEMORY_SIZE <= 16 * 2**20  # 0 would keep every download in memory


def test_endpoint_region_and_prefix():
    got = options(
        MEDIA_ENDPOINT_URL="https://s3.example.test:9000/",
        MEDIA_REGION="eu-west-3",
        MEDIA_PREFIX="/playground/media/",
    )
    assert got["endpoint_url"] == "https://s3.example.test:9000"
    assert got["region_name"] == "eu-west-3"
    assert got["location"] == "playground/media"
    assert got["addressing_style"] == "path"  # the usual style of S3-compatible servers


def test_addressing_style_can_be_chosen():
    assert "addressing_style" not in options()  # AWS: boto3 decides
    assert options(MEDIA_ADDRESSING_STYLE="Virtual")["addressing_style"] == "virtual"
    got = options(MEDIA_ENDPOINT_URL="http://127.0.0.1:9000", MEDIA_ADDRESSING_STYLE="auto")
    assert got["addressing_style"] == "auto"


def test_credentials_never_enter_the_settings():
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY": "secret-value-123"}
    text = repr(default_storage({"MEDIA_BUCKET": "media", **env}))
    assert "AKIAEXAMPLEKEY" not in text and "secret-value-123" not in text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_ENDPOINT_URL": "s3.example.test"}, "MEDIA_ENDPOINT_URL must start with https"),
        ({"MEDIA_ENDPOINT_URL": "ftp://s3.example.test"}, "MEDIA_ENDPOINT_URL must start"),
        ({"MEDIA_ENDPOINT_URL": "https://"}, "MEDIA_ENDPOINT_URL must start"),
        ({"MEDIA_ENDPOINT_URL": "http://host:port"}, "MEDIA_ENDPOINT_URL is not a valid URL"),
        ({"MEDIA_ENDPOINT_URL": "https://s3.example.test/?a=1"}, "no query or fragment"),
        ({"MEDIA_REGION": "eu west"}, "MEDIA_REGION 'eu west' is not a region name"),
        ({"MEDIA_PREFIX": "a/../b"}, "MEDIA_PREFIX 'a/../b' must be a plain key prefix"),
        ({"MEDIA_ADDRESSING_STYLE": "dns"}, "MEDIA_ADDRESSING_STYLE must be one of"),
        ({"MEDIA_BUCKET": "My_Bucket"}, "MEDIA_BUCKET 'My_Bucket' is not a bucket name"),
        ({"MEDIA_BUCKET": "ab"}, "MEDIA_BUCKET 'ab' is not a bucket name"),
    ],
)
def test_bad_values_are_refused_by_name(env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        default_storage({"MEDIA_BUCKET": "media", **env})


def test_credentials_in_the_endpoint_are_refused_without_echoing_them():
    with pytest.raises(ImproperlyConfigured) as refused:
        default_storage(
            {"MEDIA_BUCKET": "media", "MEDIA_ENDPOINT_URL": "https://key:hunter22@s3.test"}
        )
    assert "must not hold credentials" in str(refused.value)
    assert "hunter22" not in str(refused.value)


def test_a_missing_library_is_named():
    def without_boto3(module: str) -> bool:
        return module != "boto3"

    with pytest.raises(ImproperlyConfigured, match="boto3 cannot be imported") as refused:
        default_storage({"MEDIA_BUCKET": "media"}, importable=without_boto3)
    assert "django-storages[s3]" in str(refused.value)
    with pytest.raises(ImproperlyConfigured, match="storages and boto3 cannot be imported"):
        default_storage({"MEDIA_BUCKET": "media"}, importable=lambda module: False)


def check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_check_stops_on_a_malformed_endpoint(tmp_path):
    done = check(
        DATA_DIR=str(tmp_path),
        MEDIA_BUCKET="media",
        MEDIA_ENDPOINT_URL="minio:9000",
        AWS_SECRET_ACCESS_KEY="secret-value-123",
    )
    assert done.returncode != 0
    assert "MEDIA_ENDPOINT_URL must start with https:// (or http://)" in done.stderr
    assert "secret-value-123" not in done.stderr + done.stdout
    fine = check(
        DATA_DIR=str(tmp_path), MEDIA_BUCKET="media", MEDIA_ENDPOINT_URL="http://127.0.0.1:9"
    )
    assert fine.returncode == 0, fine.stderr
