"""collectstatic with the production storage: modules import each other by hashed names."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from playground.core.static_storage import ManifestStaticStorage

RELATIVE_IMPORT = re.compile(r"""(?:from\s*|import\s*\(?)["'](\.{1,2}/[^"']+)["']""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.js$")


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("static")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "playground.core.static_storage.ManifestStaticStorage"},
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    return root, manifest


def test_the_references_module_imports_its_parts_by_hashed_names(collected) -> None:  # type: ignore[no-untyped-def]
    root, manifest = collected
    index = (root / manifest["js/references/index.js"]).read_text()
    imports = RELATIVE_IMPORT.findall(index)
    assert "./api.js" not in imports
    assert len(imports) >= 5
    for path in imports:
        assert HASHED.search(path), path
        assert (root / "js/references" / path).is_file(), path


def test_every_relative_import_of_the_projects_modules_is_hashed(collected) -> None:  # type: ignore[no-untyped-def]
    root, manifest = collected
    modules = [name for name in manifest if name.startswith("js/") and name.endswith(".js")]
    for name in modules:
        hashed = root / manifest[name]
        for path in RELATIVE_IMPORT.findall(hashed.read_text()):
            assert HASHED.search(path), f"{name} imports {path}"
            assert (hashed.parent / path).resolve().is_file(), f"{name} imports {path}"


def test_imports_in_third_party_scripts_are_left_as_they_are(collected) -> None:  # type: ignore[no-untyped-def]
    root, manifest = collected
    assert ManifestStaticStorage.support_js_module_import_aggregation
    others = [n for n in manifest if n.endswith(".js") and not n.startswith("js/")]
    assert others, "expected scripts of other apps or vendor/"
    for name in others:
        original = RELATIVE_IMPORT.findall((root / name).read_text())
        assert RELATIVE_IMPORT.findall((root / manifest[name]).read_text()) == original, name
