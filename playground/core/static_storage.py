"""Static files storage: hashed, compressed names, also inside JavaScript modules."""

from collections.abc import Callable
from re import Match

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage

# The project's own scripts; only these are written as ES modules.
MODULE_ROOT = "js/"

_MODULE_IMPORT_TEMPLATES = frozenset(
    template for _, template in HashedFilesMixin._js_module_import_aggregation_patterns[1]
)


class ManifestStaticStorage(CompressedManifestStaticFilesStorage):
    """Rewrites relative `import ... from "./x.js";` lines of modules to hashed names.

    Without this a hashed module would load its dependencies by their unhashed names, so a
    browser could combine one release's module with another's dependencies. Django's rewriting
    is regex based, so: end every import statement with ";"; keep `import` and `from`
    followed by a quoted path out of comments and strings; re-export with `import { a }`
    plus `export { a };` rather than `export ... from` (after another import its path gets
    rewritten twice and collectstatic fails); and avoid import cycles between modules.

    Only files under MODULE_ROOT are rewritten: third-party scripts are not written with
    those rules in mind (django-htmx's, for one, has `import("../htmx")` in a type comment).
    """

    support_js_module_import_aggregation = True

    def url_converter(
        self, name: str, hashed_files: dict[str, str], template: str | None = None
    ) -> Callable[[Match[str]], str]:
        if template in _MODULE_IMPORT_TEMPLATES and not name.startswith(MODULE_ROOT):
            return _unchanged
        return super().url_converter(name, hashed_files, template)


def _unchanged(match: Match[str]) -> str:
    return match.group("matched")
