"""Every URL of the app, fed crafted query strings and form values: never a 5xx.

The URLs come from `playground.urls` itself, so a new view is walked without editing this file.
Integer parts of a path are filled with an object of the signed-in user and with a number too
big for a database integer. Exceptions become 500 responses (`raise_request_exception=False`),
so one run lists every failing URL with the parameters that broke it.
"""

import io
import re
import traceback
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image as PILImage

from playground.core.query import parse_id, parse_month
from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations.models import Generation, GenerationInput, Preview
from playground.inputs.images import normalize_reference
from playground.inputs.storage import store_input, store_mask
from tests.jobs import FORM_FIELDS, make_job

pytestmark = pytest.mark.django_db

ROUTE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")  # <int:pk>, <token>
HUGE = "99999999999999999999999"  # beyond a 64-bit integer: SQLite cannot bind it
HOSTILE_VALUES = [
    HUGE,
    str(2**63),
    "-1",
    "0",
    "-99999999999999999999",
    "\u0661\u0662",  # Arabic-Indic "12": str.isdigit() and int() accept it
    "\uff11\uff12",  # fullwidth "12"
    "\x00",
    "1\x002",
    "x" * 5000,
    "9" * 5000,  # longer than int() converts
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "' OR '1'='1' --",
    '"; DROP TABLE generations_generation; --',
    "",
    " ",
    '{"a": [1, {"b": null}]}',
    "[1, 2]",
    "null",
    "1e309",
    "NaN",
    "inf",
    "-inf",
    "1.5",
    "0x10",
    "9999-12",
    "0001-01",
    "0000-00",
    "99999999999x99999999999",
    "\u0661\u0660\u0662\u0664x\u0661\u0660\u0662\u0664",
    "0x0",
    "xhigh",
    "max",
    "auto",
    "<script>alert(1)</script>",
    "\u202egnp.exe \U0001f600 \u0130 \ufeff",
    "%00",
    "%ff",
]
# The few values that most often get past a lenient parser; tried one field at a time.
SHARP_VALUES = [HUGE, "\u0661\u0662", "\x00", "1e309", "xhigh"]
# What the app's forms and views read; each is also tried alone beside valid values, since a
# value often breaks only once the others let the request get far enough.
FIELD_NAMES = [
    *FORM_FIELDS,
    "output_compression",
    "input_fidelity",
    "partial_images",
    "reference",
    "reference_sizes",
    "prompt_chars",
    "image_order",
]
PARAM_NAMES = [*FIELD_NAMES, "month", "page", "thumb", "next", "q", "o", "p", "a[]"]
# Query strings and bodies sent as typed: invalid UTF-8, repeated keys, PHP-style arrays.
RAW_QUERIES = [
    "&".join(f"{name}=%ff" for name in PARAM_NAMES),
    "&".join(f"{name}=%00" for name in PARAM_NAMES),
    "&".join(f"{name}=%C0%AE%C0%AE%2F" for name in PARAM_NAMES),
    "reference=1&reference=1&reference=" + HUGE + "&reference=%D9%A1",
    "model=gpt-image-2&model=gpt-image-2.5-sunburst&quality=xhigh&quality=low",
    "a[]=1&a[]=2&reference[]=1&month[year]=2025",
    "=&&=&==&%ff=%ff&%00",
    "month=9999-12",
    "month=1-1",
    "model=gpt-image-2&quality=xhigh",
]


@pytest.fixture(autouse=True)
def own_media(settings, tmp_path):
    """Stored images and references go to this test's folder, so none outlive it."""
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    """Alice's objects whose ids fill the URLs: an image, an edit of it, a preview."""

    image: Image
    job: Generation
    preview: Preview


def png(size: tuple[int, int], color: str = "red", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    PILImage.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(alice) -> World:
    source_job = make_job(alice, state="succeeded")
    image = store_image(source_job, 0, png((64, 48)))
    job = make_job(alice, state="running", prompt="an edit of the first image")
    job.operation = Generation.Operation.EDIT
    data = png((64, 48), "blue")
    reference = normalize_reference("ref.png", io.BytesIO(data), len(data))
    GenerationInput.objects.create(
        generation=job, position=0, input_file=store_input(reference), source_image=image
    )
    job.mask = store_mask(png((64, 48), (0, 0, 0, 0), "RGBA"))
    job.save()
    store_image(job, 0, png((64, 48), "green"))
    preview = Preview(generation=job)
    preview.file.save("preview.webp", ContentFile(png((8, 8))))
    return World(image=image, job=job, preview=preview)


def app_routes() -> list[tuple[str, str]]:
    """(url name, route) of every path() of the app, admin left out (walked apart)."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route != "admin/":
                    walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append((entry.name or route, route))

    walk(get_resolver("playground.urls").url_patterns, "")
    return found


def fill(route: str, world: World, huge: bool) -> str:
    """The route with its parameters filled: alice's objects, or a too-big integer."""
    ids = {
        "pk": world.image.pk if route.startswith("gallery/") else world.job.pk,
        "preview_pk": world.preview.pk,
        "position": 0,
    }

    def value(parameter: re.Match[str]) -> str:
        converter, name = parameter[1], parameter[2]
        if converter != "int":
            return "x"
        return HUGE if huge else str(ids.get(name, 1))

    return "/" + ROUTE_PARAMETER.sub(value, route)


def hostile_data(thorough: bool) -> list[dict[str, Any]]:
    """Every field at once with each value; when thorough, also one field at a time."""
    values = HOSTILE_VALUES if thorough else SHARP_VALUES
    every_field = [dict.fromkeys(PARAM_NAMES, value) for value in values]
    if not thorough:
        return every_field
    repeated = [{name: [value, value] for name in PARAM_NAMES} for value in SHARP_VALUES]
    one_field = [{**FORM_FIELDS, name: value} for name in FIELD_NAMES for value in SHARP_VALUES]
    return [*every_field, *repeated, *one_field]


def junk_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("../../x.png", b"\x00not a picture", "image/png")


class Walk:
    """Sends requests and keeps every 5xx with what was sent and what was raised."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.failures: list[str] = []

    def check(self, method: str, path: str, sent: object, response: Any) -> None:
        if response.status_code < 500:
            return
        cause = "no exception"
        if error := getattr(response, "exc_info", None):
            frames = traceback.extract_tb(error[2])
            ours = [
                f for f in frames if "/playground/" in f.filename and "-packages" not in f.filename
            ]
            where = (ours or frames)[-1]  # the project's own line, else Django's
            cause = f"{error[0].__name__}: {str(error[1])[:200]} at {where.filename}:{where.lineno}"
        sent_text = str(sent)[:300]
        self.failures.append(f"{method} {path} {sent_text!r} -> {response.status_code} {cause}")

    def get(self, path: str, thorough: bool = True) -> None:
        for data in hostile_data(thorough):
            self.check("GET", path, data, self.client.get(path, data))
        for query in RAW_QUERIES:
            self.check("GET", path, query, self.client.get(f"{path}?{query}"))

    def accepts_post(self, path: str) -> bool:
        response = self.client.post(path, {})
        self.check("POST", path, {}, response)
        return response.status_code != 405

    def post(self, path: str, thorough: bool = True) -> None:
        for data in hostile_data(thorough):
            self.check("POST", path, data, self.client.post(path, data))
        data = {**FORM_FIELDS, "image[]": junk_file(), "mask": junk_file(), "reference": HUGE}
        self.check("POST", path, "junk files", self.client.post(path, data))
        form = "application/x-www-form-urlencoded"
        for query in RAW_QUERIES:
            response = self.client.post(path, query.encode(), content_type=form)
            self.check("POST", path, query, response)
        broken = "multipart/form-data; boundary=xyz"
        self.check("POST", path, "broken multipart", self.client.post(path, b"--x\r\n", broken))

    def report(self) -> str:
        return f"{len(self.failures)} server errors:\n" + "\n".join(self.failures)


def alice_client(alice) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


@pytest.mark.parametrize(("name", "route"), app_routes(), ids=[n for n, _ in app_routes()])
def test_it_answers_hostile_input_without_a_server_error(name, route, alice, provider, world):
    walk = Walk(alice_client(alice))
    path, huge_path = fill(route, world, huge=False), fill(route, world, huge=True)
    walk.get(path)
    if walk.accepts_post(path):
        walk.post(path)
    if huge_path != path:  # the object cannot exist: a few queries are enough
        walk.get(huge_path, thorough=False)
        walk.post(huge_path, thorough=False)
    assert not walk.failures, walk.report()


# Server errors inside Django's admin itself, answered with a 400 by BadInputMiddleware.
ADMIN_TRAPS = {
    # ModelAdmin.get_object() calls get_field("") for an empty ?_to_field= on a change page.
    "_to_field": "/admin/gallery/image/{image}/change/?_to_field=",
    # UserAdmin filters by group; a group id beyond 64 bits reaches SQLite unchecked.
    "groups": "/admin/auth/user/?groups__exact=" + HUGE,
}


def changelists() -> list[tuple[str, list[str]]]:
    """(changelist URL, its list_filter field names) of every registered model."""
    return [
        (
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
            [f for f in model_admin.list_filter if isinstance(f, str)],
        )
        for model, model_admin in admin.site._registry.items()
    ]


def changelist_queries(filters: list[str]) -> list[dict[str, str]]:
    """?q= search, ?o= ordering, ?p= page and the changelist's filters, all hostile."""
    names = ["q", "o", "p", "e", "all", "_popup", "_to_field", "_changelist_filters"]
    names += ["owner__id__exact"]
    names += filters + [f"{f}__exact" for f in filters]
    every = [dict.fromkeys(names, value) for value in HOSTILE_VALUES]
    return every + [{name: value} for name in names for value in SHARP_VALUES]


@pytest.fixture
def staff_client(django_user_model) -> Client:
    staff = django_user_model.objects.create_superuser("carol", password="carol-password-1")
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    return client


def test_it_answers_hostile_input_in_the_admin_without_a_server_error(
    staff_client, provider, world
):
    walk = Walk(staff_client)
    walk.get(reverse("admin:index"), thorough=False)
    for changelist, filters in changelists():
        for data in changelist_queries(filters):
            walk.check("GET", changelist, data, staff_client.get(changelist, data))
        for query in RAW_QUERIES:
            walk.check("GET", changelist, query, staff_client.get(f"{changelist}?{query}"))
        for object_id in (HUGE, "%ff", "..%2F..%2F", "%00"):
            walk.get(f"{changelist}{object_id}/change/", thorough=False)
    for path in (
        reverse("admin:gallery_image_change", args=[world.image.pk]),
        reverse("admin:generations_generation_change", args=[world.job.pk]),
    ):
        walk.get(path, thorough=False)
    assert not walk.failures, walk.report()


@pytest.mark.parametrize("trap", sorted(ADMIN_TRAPS))
def test_it_answers_400_to_what_trips_django_admin(trap, staff_client, provider, world):
    url = ADMIN_TRAPS[trap].format(image=world.image.pk)
    # PostgreSQL takes the huge group id and simply finds no group.
    expected = 200 if trap == "groups" and connection.vendor == "postgresql" else 400
    assert staff_client.get(url).status_code == expected


def arabic_indic(number: int) -> str:
    """The number in Arabic-Indic digits, which str.isdigit() and int() both accept."""
    return str(number).translate({ord("0") + d: 0x0660 + d for d in range(10)})


def test_it_ignores_unusable_reference_ids_on_the_playground(logged_in, world):
    usable = str(world.image.pk)
    for junk in (HUGE, arabic_indic(world.image.pk), "9" * 5000, "-1", "0"):
        response = logged_in.get("/", {"reference": [junk, usable]})
        assert response.status_code == 200
        page = response.content.decode()
        # One chip with its id; the chip template's empty input is not a reference.
        assert page.count('name="reference" value=') == 1
        assert f'name="reference" value="{usable}"' in page


def test_it_refuses_unusable_reference_ids_in_an_edit(logged_in, world):
    jobs = Generation.objects.count()
    for junk in (HUGE, arabic_indic(world.image.pk), "9" * 5000):
        response = logged_in.post("/generations/", {**FORM_FIELDS, "reference": junk})
        assert response.status_code == 422
        assert "not found in your gallery" in response.content.decode()
    assert Generation.objects.count() == jobs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        (HUGE, None),
        ("0", None),
        ("-1", None),
        ("\u0661\u0662", None),
        ("\uff11\uff12", None),
        ("12\n", None),
        (" 12", None),
        ("", None),
        (None, None),
    ],
)
def test_it_parses_only_ascii_ids_a_database_can_hold(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03", (2025, 3)),
        ("1-1", (1, 1)),  # a month, though out of the usage page's range
        ("2025-13", None),
        ("2025-0", None),
        ("\u0662\u0660\u0662\u0665-\u0660\u0663", None),
        ("99999-01", None),
        ("2025-03-01", None),
        ("", None),
    ],
)
def test_it_parses_only_ascii_months(text, expected):
    assert parse_month(text) == expected
