"""What the app writes under DATA_DIR is for its owner only: files 0600, folders 0700.

Each case starts a fresh process on its own DATA_DIR, as the web server and the worker do,
so that the settings run their start-up work for real.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

# Migrates an empty DATA_DIR, runs one job against the stand-in (results, thumbnails, a
# preview) and stores an uploaded mask; prints the modes of everything under DATA_DIR while
# the database connection (and so its -wal and -shm files) is still open.
RUN_A_JOB = """
import io, json, os, stat, sys
from pathlib import Path

import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from PIL import Image

call_command("migrate", "--noinput", verbosity=0)
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.inputs.storage import store_mask
from playground.offline_api.server import OfflineImagesAPI
from playground.providers.models import Provider
from tests.jobs import make_job

api = OfflineImagesAPI(log=False).start()
settings.OFFLINE_API_PORT = api.port  # the bundled stand-in is the one on OFFLINE_API_PORT
provider = Provider(name="Stand-in", kind=Provider.Kind.OFFLINE, base_url=api.base_url,
                    is_default=True)
provider.set_api_key("sk-test-key-0123456789")
provider.save()
owner = get_user_model().objects.create_user("dora", password="dora-password-1")
job = make_job(owner, provider, partial_images=1)
run_generation_job(job.pk)
job.refresh_from_db()
assert job.state == Generation.State.SUCCEEDED, job.state
mask = io.BytesIO()
Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(mask, "PNG")
store_mask(mask.getvalue())
api.stop()

with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM auth_user")  # the connection holds -wal and -shm
    root = Path(settings.DATA_DIR)
    modes = {
        str(path.relative_to(root)): [stat.S_IMODE(path.lstat().st_mode), path.is_dir()]
        for path in [root, *root.rglob("*")]
        if path.is_dir() or path.is_file()
    }
print(json.dumps(modes))
"""


def run(code: str, data_dir: Path) -> dict[str, list]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}},
        "DJANGO_SETTINGS_MODULE": "playground.settings",
        "DATA_DIR": str(data_dir),
        "STATIC_ROOT": str(data_dir / "staticfiles"),
        "UPSTREAM_BACKOFF_SECONDS": "0.05",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_fresh_data_dir_is_owner_only(tmp_path):
    data_dir = tmp_path / "data"
    modes = run(RUN_A_JOB, data_dir)

    assert modes["."] == [0o700, True]
    for name in ("playground.sqlite3", "playground.sqlite3-wal", "playground.sqlite3-shm"):
        assert modes[name] == [0o600, False], name
    assert modes["secret_key"] == [0o600, False]
    media = {name: mode for name, mode in modes.items() if name.startswith("media/")}
    files = [name for name, (_, is_dir) in media.items() if not is_dir]
    # The original, its thumbnails, its display rendition, a live preview and the mask.
    assert len(files) >= 5, sorted(media)
    assert any("preview" in name for name in files), sorted(media)
    expected = {True: 0o700, False: 0o600}
    wrong = {name: oct(mode) for name, (mode, is_dir) in modes.items() if mode != expected[is_dir]}
    assert wrong == {}


def test_an_existing_data_dir_is_tightened_at_start(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "media" / "results").mkdir(parents=True)
    (data_dir / "staticfiles").mkdir()
    open_files = {
        data_dir / "playground.sqlite3": b"",
        data_dir / "secret_key": b"x" * 50,
        data_dir / "media" / "results" / "old.png": b"png",
        data_dir / "staticfiles" / "app.css": b"body{}",
    }
    for path, content in open_files.items():
        path.write_bytes(content)
        path.chmod(0o644)
    for folder in (data_dir, data_dir / "media", data_dir / "media" / "results"):
        folder.chmod(0o755)
    (data_dir / "staticfiles").chmod(0o755)

    run("import django; django.setup(); print('{}')", data_dir)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(data_dir) == 0o700
    assert mode(data_dir / "media") == mode(data_dir / "media" / "results") == 0o700
    assert mode(data_dir / "playground.sqlite3") == mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir / "media" / "results" / "old.png") == 0o600
    # Static files are public: left readable.
    assert mode(data_dir / "staticfiles") == 0o755
    assert mode(data_dir / "staticfiles" / "app.css") == 0o644


def test_collected_static_files_stay_readable_by_everyone(tmp_path):
    """The image collects them as root and runs as another user: they must not be 0600."""
    data_dir = tmp_path / "data"
    code = (
        "import django; django.setup(); from django.core.files.base import ContentFile; "
        "from django.core.files.storage import storages; "
        "storages['staticfiles'].save('css/site.css', ContentFile(b'body{}')); print('{}')"
    )
    run(code, data_dir)
    collected = data_dir / "staticfiles"  # STATIC_ROOT in run()
    assert stat.S_IMODE((collected / "css").stat().st_mode) == 0o755
    assert stat.S_IMODE((collected / "css" / "site.css").stat().st_mode) == 0o644
