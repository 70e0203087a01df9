"""The image work one edit request may cause: a pixel budget per request, decode slots per
process, and one decode per reference (its thumbnail comes from the same decode)."""

import io
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from playground.generations.edit_inputs import InputsRefused, prepare_edit_inputs
from playground.generations.models import Generation
from playground.inputs import storage
from playground.inputs.images import ImageRefused, normalize_reference
from playground.inputs.limits import BUSY, DecodeSlots, check_request_pixels, process_slots
from playground.inputs.models import InputFile
from tests.inputs.pictures import gradient, jpeg, png, with_png_size
from tests.jobs import FORM_FIELDS

FORM = {**FORM_FIELDS, "model": "gpt-image-1.5", "prompt": "a gift basket with all the items"}
HTMX = {"HX-Request": "true"}


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def palette_bomb(width: int = 6000, height: int = 6600) -> bytes:
    """A palette PNG of a few hundred bytes whose header claims `width` x `height` pixels.

    Its pixel data is that of an 8x8 image: decoding it would fail as "damaged", so a refusal
    that names the pixel total proves the total was checked before any decode."""
    small = Image.new("P", (8, 8), 0)
    small.putpalette([20, 200, 120] * 256)
    return with_png_size(png(small, transparency=255), width, height)


@pytest.fixture
def no_decoding(monkeypatch):
    def decode(picture: ImageFile.ImageFile) -> None:
        raise AssertionError("nothing may be decoded once the pixel total is over the limit")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)


@pytest.fixture
def decode_counter(monkeypatch):
    """Counts decodes running at once (each held a little, so overlaps show)."""
    load = ImageFile.ImageFile.load
    lock = threading.Lock()
    state = {"now": 0, "most": 0, "total": 0}

    def counted(picture: ImageFile.ImageFile):
        if not picture.tile:  # decoded already: load() only returns the pixels
            return load(picture)
        with lock:
            state["now"] += 1
            state["total"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.02)
            return load(picture)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return state


# -- the pixel budget ------------------------------------------------------------------------


def test_it_names_the_image_that_takes_the_total_past_the_limit():
    sizes = [("a.png", 5000, 4000), ("b.png", 5000, 4000), ("c.png", 1000, 1000)]
    check_request_pixels(sizes[:2], megapixels=40)  # exactly at the limit is allowed
    with pytest.raises(ImageRefused) as refused:
        check_request_pixels(sizes, megapixels=40)
    assert refused.value.name == "c.png"
    assert refused.value.reason == (
        "the 3 reference images add up to 41.0 megapixels, over the limit of 40 megapixels "
        "per edit, and this one (1000x1000) is where they pass it. Use fewer or smaller images"
    )


@pytest.mark.django_db
def test_the_hostile_palette_edit_is_refused_from_the_headers_alone(
    logged_in, upstream, no_decoding
):
    bomb = palette_bomb()
    files = [upload(f"palette-{n:02d}.png", bomb) for n in range(1, 17)]
    started = time.process_time()
    response = logged_in.post("/generations/", {**FORM, "image[]": files}, headers=HTMX)
    assert time.process_time() - started < 2
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error-for="image"' in page
    # 200 MP / 39.6 MP: the sixth image passes the default limit.
    assert (
        "palette-06.png: the 16 reference images add up to 633.6 megapixels, over the limit "
        "of 200 megapixels per edit, and this one (6000x6600) is where they pass it" in page
    )
    assert not Generation.objects.exists() and not InputFile.objects.exists()
    assert upstream.requests == []


@pytest.mark.django_db
def test_the_limit_is_a_setting(logged_in, upstream, settings):
    settings.EDIT_MAX_REQUEST_MEGAPIXELS = 1
    one, two, three = png(gradient((800, 800))), png(gradient()), png(gradient((800, 801)))
    files = [upload("one.png", one), upload("two.png", two)]
    response = logged_in.post("/generations/", {**FORM, "image[]": files}, headers=HTMX)
    assert response.status_code == 201, response.content.decode()

    files = [upload("one.png", one), upload("two.png", two), upload("three.png", three)]
    response = logged_in.post("/generations/", {**FORM, "image[]": files}, headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert "three.png: the 3 reference images add up to 1.3 megapixels" in page
    assert "over the limit of 1 megapixels per edit" in page
    assert Generation.objects.count() == 1


@pytest.mark.django_db
def test_ordinary_edits_and_phone_photos_still_pass(logged_in, upstream):
    """Three 12 MP photos (one turned by EXIF, as phones write them) and 13 ordinary images."""
    photo = jpeg(gradient((4000, 3000)))
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = jpeg(gradient((4000, 3000)), exif=exif.tobytes())
    files = [
        upload("photo-1.jpg", photo),
        upload("photo-2.jpg", photo[:-2] + b"\x00\xff\xd9"),  # other bytes, same picture
        upload("photo-3.jpg", turned),
        *(upload(f"ref-{n}.png", png(gradient((1024 + n, 1024)))) for n in range(13)),
    ]
    response = logged_in.post("/generations/", {**FORM, "image[]": files}, headers=HTMX)
    assert response.status_code == 201, response.content.decode()
    job = Generation.objects.get()
    sizes = [(i.input_file.width, i.input_file.height) for i in job.inputs.all()]
    assert sizes[:3] == [(4000, 3000), (4000, 3000), (3000, 4000)]
    assert len(sizes) == 16


# -- the conversion budget -------------------------------------------------------------------


def palette_png(size: tuple[int, int]) -> bytes:
    return png(gradient(size).convert("P"))


def test_images_to_convert_have_their_own_smaller_budget(settings, decode_counter):
    settings.EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS = 1
    files = [
        upload("logo.png", palette_png((800, 800))),
        upload("poster.png", palette_png((800, 801))),
        upload("later.png", png(gradient((300, 200)))),
    ]
    with pytest.raises(InputsRefused) as refused:
        prepare_edit_inputs(None, files, [], "", None)
    assert refused.value.errors == {
        "image": [
            "poster.png: it must be converted before it can be sent (it has palette colours), "
            "and one edit may convert at most 1 megapixels (1.3 with this 800x801 image). "
            "Save it as an 8-bit RGB or RGBA PNG or as a JPEG, or use fewer such images"
        ]
    }
    assert decode_counter["total"] == 2  # the request is refused: later.png is not decoded


def test_photos_turned_upright_stay_jpegs_and_use_no_conversion_budget(settings):
    settings.EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS = 0
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = jpeg(gradient((400, 300)), exif=exif.tobytes())
    inputs = prepare_edit_inputs(None, [upload("phone.jpg", turned)], [], "", None)
    image = inputs.references[0].image
    assert (image.format, image.width, image.height) == ("jpeg", 300, 400)
    inputs.close()
    with pytest.raises(InputsRefused, match="it has palette colours"):
        prepare_edit_inputs(None, [upload("logo.png", palette_png((40, 30)))], [], "", None)


# -- decode slots ----------------------------------------------------------------------------


def test_concurrent_requests_never_decode_more_images_at_once_than_the_slots(
    settings, decode_counter
):
    settings.IMAGE_DECODE_CONCURRENCY = 2
    settings.IMAGE_DECODE_WAIT_SECONDS = 30
    data = png(gradient((300, 200)))
    failures: list[BaseException] = []

    def edit() -> None:
        try:
            files = [upload(f"r{n}.png", data) for n in range(4)]
            prepare_edit_inputs(None, files, [], "", None).close()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=edit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert decode_counter["total"] == 24
    assert decode_counter["most"] == 2


def test_a_request_that_gets_no_slot_in_time_is_told_the_server_is_busy(settings):
    settings.IMAGE_DECODE_CONCURRENCY = 1
    settings.IMAGE_DECODE_WAIT_SECONDS = 0.3
    held = process_slots(1)
    assert held.acquire(timeout=5)  # another request is decoding
    try:
        started = time.monotonic()
        with pytest.raises(InputsRefused) as refused:
            prepare_edit_inputs(None, [upload("r.png", png(gradient()))], [], "", None)
        assert time.monotonic() - started < 2
    finally:
        held.release()
    assert refused.value.errors == {"image": [BUSY]}
    # Once the slot is free again, the same request passes.
    inputs = prepare_edit_inputs(None, [upload("r.png", png(gradient()))], [], "", None)
    assert len(inputs.references) == 1
    inputs.close()


@pytest.mark.django_db
def test_the_busy_answer_reaches_the_person_without_queuing(logged_in, upstream, settings):
    settings.IMAGE_DECODE_CONCURRENCY = 1
    settings.IMAGE_DECODE_WAIT_SECONDS = 0.2
    held = process_slots(1)
    assert held.acquire(timeout=5)
    try:
        files = [upload("r.png", png(gradient()))]
        response = logged_in.post("/generations/", {**FORM, "image[]": files}, headers=HTMX)
    finally:
        held.release()
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error-for="image"' in page and "The server is busy" in page
    assert "Try again in a minute" in page
    assert not Generation.objects.exists()


def test_one_request_waits_at_most_its_budget_in_total():
    held = process_slots(3)
    slots = DecodeSlots(concurrency=3, wait_seconds=0.2)
    taken = [held.acquire(timeout=5) for _ in range(3)]
    try:
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(Exception, match="busy"), slots.slot():
                pass
        assert time.monotonic() - started < 0.5  # not 5 x 0.2 s
    finally:
        for _ in taken:
            held.release()


# -- one decode per reference ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [png(gradient((300, 200))), png(gradient((300, 200)).convert("P"))],
    ids=["kept", "converted"],
)
def test_storing_a_reference_reuses_the_thumbnail_of_its_check(monkeypatch, data):
    image = normalize_reference("r.png", io.BytesIO(data), len(data))

    def second_decode(source: object, edge: int = 256) -> bytes:
        raise AssertionError("the reference was decoded again for its thumbnail")

    monkeypatch.setattr(storage, "thumbnail_webp", second_decode)
    row = storage.store_input(image)
    with row.thumbnail.open("rb") as stored, Image.open(stored) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (256, 171)
