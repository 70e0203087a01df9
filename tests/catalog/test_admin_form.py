"""The catalog admin refuses rows the playground could not price or offer, naming the field."""

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict

from playground.catalog.forms import ImageModelAdminForm
from playground.catalog.models import ImageModel
from playground.catalog.seed import reference_models

JSON_FIELDS = {
    "sizes",
    "free_size",
    "qualities",
    "output_formats",
    "backgrounds",
    "input_fidelities",
    "moderations",
    "output_rule",
}

pytestmark = pytest.mark.django_db


def post_data(values: dict[str, Any]) -> dict[str, str]:
    """Field values as a browser posts them (JSON text, unchecked boxes left out)."""
    data = {}
    for name, value in values.items():
        if name in JSON_FIELDS:
            data[name] = "" if value is None else json.dumps(value)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


def row_values(model_id: str) -> dict[str, Any]:
    return model_to_dict(ImageModel.objects.get(model_id=model_id), exclude=["id"])


def form_for(model_id: str, **changes: Any) -> ImageModelAdminForm:
    instance = ImageModel.objects.get(model_id=model_id)
    values = {**row_values(model_id), **changes}
    return ImageModelAdminForm(data=post_data(values), instance=instance)


def assert_refused(form: ImageModelAdminForm, field: str, message: str) -> None:
    assert not form.is_valid()
    assert field in form.errors, form.errors
    assert any(message in error for error in form.errors[field]), form.errors[field]


@pytest.mark.parametrize("model_id", [spec["id"] for spec in reference_models()])
def test_it_accepts_every_seeded_row(catalog: None, model_id: str) -> None:
    form = form_for(model_id)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("model_id", "changes", "field", "message"),
    [
        ("gpt-image-2", {"price_text_in": "-1"}, "price_text_in", "cannot be negative"),
        ("gpt-image-2", {"price_image_in": "-0.01"}, "price_image_in", "cannot be negative"),
        ("gpt-image-2", {"price_image_out": ""}, "price_image_out", "required"),
        ("gpt-image-2", {"sizes": []}, "sizes", "required"),
        ("gpt-image-2", {"sizes": "1024x1024"}, "sizes", "Enter a list of sizes"),
        ("gpt-image-2", {"sizes": ["1024x1024", 1536]}, "sizes", "must be a string"),
        ("gpt-image-2", {"sizes": ["1024*1024", "auto"]}, "sizes", "'1024*1024' is not a size"),
        ("gpt-image-2", {"sizes": ["1024X1024"]}, "sizes", "is not a size"),
        ("gpt-image-2", {"sizes": ["auto"]}, "sizes", "besides auto"),
        ("gpt-image-2", {"sizes": ["1024x1024", "1024x1024"]}, "sizes", "Listed twice"),
        ("gpt-image-1.5", {"default_size": "2048x2048"}, "default_size", "Pick one of the sizes"),
        ("gpt-image-2", {"default_size": "1000x1000"}, "default_size", "multiples of 16"),
        (
            "gpt-image-2",
            {"sizes": ["1024x1024", "1536x1024"], "default_size": "auto"},
            "default_size",
            "Pick one of the sizes offered: 1024x1024, 1536x1024.",
        ),
        ("gpt-image-2", {"qualities": []}, "qualities", "required"),
        ("gpt-image-2", {"qualities": "low"}, "qualities", "Enter a list of qualities"),
        (
            "gpt-image-2",
            {"qualities": ["low", "ultra"]},
            "qualities",
            "Unknown qualities: ultra. Use low, medium, high, xhigh, max or auto.",
        ),
        ("gpt-image-2", {"qualities": ["auto"]}, "qualities", "besides auto"),
        (
            "gpt-image-2",
            {"qualities": ["low", "high", "auto"]},
            "default_quality",
            "Pick one of the qualities offered: low, high, auto.",
        ),
        ("gpt-image-2", {"output_formats": ["png", "gif"]}, "output_formats", "gif"),
        ("gpt-image-2", {"output_formats": {"png": 1}}, "output_formats", "Enter a list"),
        ("gpt-image-2", {"backgrounds": ["auto", "clear"]}, "backgrounds", "clear"),
        ("gpt-image-1.5", {"input_fidelities": ["medium"]}, "input_fidelities", "medium"),
        ("gpt-image-1.5", {"input_fidelities": "low"}, "input_fidelities", "Enter a list"),
        ("gpt-image-2", {"moderations": ["strict"]}, "moderations", "strict"),
        ("gpt-image-2", {"max_n": 0}, "max_n", "1 to 10"),
        ("gpt-image-2", {"max_n": 11}, "max_n", "1 to 10"),
        ("gpt-image-2", {"free_size": "any"}, "free_size", "Leave empty, or enter an object"),
        ("gpt-image-2", {"free_size": {"multiple": 0}}, "free_size", "multiple must be"),
        ("gpt-image-2", {"free_size": {"multiple": "16"}}, "free_size", "multiple must be"),
        ("gpt-image-2", {"free_size": {"max_pixels": -5}}, "free_size", "max_pixels must be"),
        ("gpt-image-2", {"free_size": {"max_aspect": 0}}, "free_size", "max_aspect must be"),
        ("gpt-image-2", {"free_size": {"max_edges": 3840}}, "free_size", "Unknown key max_edges"),
        (
            "gpt-image-2",
            {"free_size": {"min_pixels": 900, "max_pixels": 800}},
            "free_size",
            "min_pixels cannot be above max_pixels",
        ),
        (
            "gpt-image-1.5",
            {"free_size": {"multiple": 16}},
            "output_rule",
            "A table rule cannot price free sizes",
        ),
        ("gpt-image-2", {"output_rule": {"kind": "magic"}}, "output_rule", "Unknown output rule"),
        ("gpt-image-2", {"output_rule": "formula"}, "output_rule", "Enter an object"),
        ("gpt-image-2", {"output_rule": {"kind": "formula"}}, "output_rule", '"factors"'),
        ("gpt-image-1.5", {"output_rule": {"kind": "table"}}, "output_rule", '"table"'),
    ],
)
def test_it_refuses_nonsense_on_the_right_field(
    catalog: None, model_id: str, changes: dict[str, Any], field: str, message: str
) -> None:
    assert_refused(form_for(model_id, **changes), field, message)


def test_it_refuses_text_that_is_not_json(catalog: None) -> None:
    data = {**post_data(row_values("gpt-image-2")), "sizes": "[1024x1024"}
    form = ImageModelAdminForm(data=data, instance=ImageModel.objects.get(model_id="gpt-image-2"))

    assert_refused(form, "sizes", "Enter a valid JSON.")


def table_rule(model_id: str = "gpt-image-1.5") -> dict[str, Any]:
    return copy.deepcopy(ImageModel.objects.get(model_id=model_id).output_rule)


def test_it_names_a_missing_table_cell(catalog: None) -> None:
    rule = table_rule()
    del rule["table"]["high"]["1536x1024"]

    form = form_for("gpt-image-1.5", output_rule=rule)

    assert_refused(form, "output_rule", "Missing token count for quality 'high' at 1536x1024.")


def test_it_names_the_table_cells_a_newly_offered_size_needs(catalog: None) -> None:
    sizes = ["1024x1024", "1536x1024", "1024x1536", "1792x1024", "auto"]

    form = form_for("gpt-image-1.5", sizes=sizes)

    assert not form.is_valid()
    assert form.errors["output_rule"] == [
        f"Missing token count for quality '{quality}' at 1792x1024."
        for quality in ("low", "medium", "high")
    ]


def test_it_names_a_table_cell_that_is_not_a_positive_count(catalog: None) -> None:
    rule = table_rule()
    rule["table"]["low"]["1024x1024"] = 0
    rule["table"]["medium"]["1024x1024"] = "1056"

    form = form_for("gpt-image-1.5", output_rule=rule)

    assert_refused(form, "output_rule", "quality 'low' at 1024x1024 must be a whole number")
    assert_refused(form, "output_rule", "quality 'medium' at 1024x1024 must be a whole number")


def test_it_needs_no_table_cells_for_auto(catalog: None) -> None:
    # auto quality and auto size are priced from the concrete cells, never their own.
    form = form_for("gpt-image-1.5", output_rule=table_rule())

    assert form.is_valid(), form.errors


def test_it_names_a_missing_formula_factor(catalog: None) -> None:
    rule = table_rule("gpt-image-2.5-flare")
    del rule["factors"]["max"]

    form = form_for("gpt-image-2.5-flare", output_rule=rule)

    assert_refused(form, "output_rule", "Missing formula factor for quality 'max'.")


def test_it_refuses_a_formula_factor_that_is_not_positive(catalog: None) -> None:
    rule = table_rule("gpt-image-2")
    rule["factors"]["high"] = -96

    form = form_for("gpt-image-2", output_rule=rule)

    assert_refused(form, "output_rule", "factor for quality 'high' must be a whole number")


@pytest.mark.parametrize("price", ["-0.011", "cheap", True, None])
def test_it_refuses_a_per_image_price_that_is_not_an_amount(catalog: None, price: Any) -> None:
    rule = table_rule("gpt-image-1-mini")
    rule["per_image_usd"]["low"]["1024x1024"] = price

    form = form_for("gpt-image-1-mini", output_rule=rule)

    assert_refused(form, "output_rule", "per-image price for quality 'low' at 1024x1024")


def test_it_refuses_per_image_prices_of_the_wrong_shape(catalog: None) -> None:
    rule = {**table_rule("gpt-image-1-mini"), "per_image_usd": ["0.005"]}

    form = form_for("gpt-image-1-mini", output_rule=rule)

    assert_refused(form, "output_rule", "per_image_usd must look like")


def test_it_accepts_a_free_default_size_the_free_size_rule_allows(catalog: None) -> None:
    form = form_for("gpt-image-2", default_size="1280x720")

    assert form.is_valid(), form.errors


def test_it_stores_an_empty_free_size_as_none(catalog: None) -> None:
    form = form_for("gpt-image-1.5", free_size={})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["free_size"] is None


def admin_change_url(model: ImageModel) -> str:
    return f"/admin/catalog/imagemodel/{model.pk}/change/"


def test_it_shows_the_error_and_keeps_the_row_when_the_admin_posts_a_negative_price(
    catalog: None, admin_client: Any
) -> None:
    model = ImageModel.objects.get(model_id="gpt-image-2")
    data = post_data({**row_values("gpt-image-2"), "price_image_out": "-30"})

    response = admin_client.post(admin_change_url(model), data)

    assert response.status_code == 200
    assert "A price cannot be negative." in response.content.decode()
    assert response.context["adminform"].form.errors["price_image_out"]
    model.refresh_from_db()
    assert model.price_image_out == Decimal("30.0000")


def test_it_saves_a_valid_change_through_the_admin(catalog: None, admin_client: Any) -> None:
    model = ImageModel.objects.get(model_id="gpt-image-2")
    data = post_data({**row_values("gpt-image-2"), "price_image_out": "27.5"})

    response = admin_client.post(admin_change_url(model), data)

    assert response.status_code == 302
    model.refresh_from_db()
    assert model.price_image_out == Decimal("27.5")


def test_it_adds_a_model_the_code_has_never_heard_of(catalog: None, admin_client: Any) -> None:
    values = {
        **row_values("gpt-image-2"),
        "model_id": "gpt-image-2.6-aurora",
        "label": "GPT Image 2.6 Aurora",
        "price_image_out": "24",
    }

    response = admin_client.post("/admin/catalog/imagemodel/add/", post_data(values))

    assert response.status_code == 302, response.context["adminform"].form.errors
    added = ImageModel.objects.active().get(model_id="gpt-image-2.6-aurora")
    assert added.label == "GPT Image 2.6 Aurora"
    assert added.output_rule == {
        "kind": "formula",
        "factors": {"low": 16, "medium": 48, "high": 96},
    }


def test_it_lists_the_models_with_prices_and_a_default_image_price(
    catalog: None, admin_client: Any
) -> None:
    response = admin_client.get("/admin/catalog/imagemodel/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "One image at the defaults" in page
    assert "$0.053" in page  # gpt-image-2 at medium, 1024x1024: 1756 tokens x $30/M


@pytest.mark.parametrize("field", sorted(JSON_FIELDS))
@pytest.mark.parametrize(
    "text", ["5", '"text"', "true", "null", "[]", "{}", "[null]", '{"a": null}', "NaN", "[[1]]"]
)
def test_it_answers_any_json_in_any_json_field_without_crashing(
    catalog: None, field: str, text: str
) -> None:
    data = {**post_data(row_values("gpt-image-1.5")), field: text}
    form = ImageModelAdminForm(data=data, instance=ImageModel.objects.get(model_id="gpt-image-1.5"))

    if not form.is_valid():
        assert set(form.errors) <= {field, "output_rule", "default_size", "default_quality"}


def test_it_refuses_a_max_aspect_that_is_not_a_number(catalog: None) -> None:
    data = {**post_data(row_values("gpt-image-2")), "free_size": '{"max_aspect": NaN}'}
    form = ImageModelAdminForm(data=data, instance=ImageModel.objects.get(model_id="gpt-image-2"))

    assert_refused(form, "free_size", "max_aspect must be")


def test_it_changes_the_status_from_the_list(catalog: None, admin_client: Any) -> None:
    models = list(ImageModel.objects.all())
    data = {
        "form-TOTAL_FORMS": str(len(models)),
        "form-INITIAL_FORMS": str(len(models)),
        "_save": "Save",
    }
    for index, model in enumerate(models):
        retire = model.model_id == "gpt-image-2.5-flare"
        data[f"form-{index}-id"] = str(model.pk)
        data[f"form-{index}-status"] = "retired" if retire else model.status
        data[f"form-{index}-sort_order"] = str(model.sort_order)

    response = admin_client.post("/admin/catalog/imagemodel/", data)

    assert response.status_code == 302
    assert not ImageModel.objects.active().filter(model_id="gpt-image-2.5-flare").exists()
