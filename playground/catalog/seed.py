"""Seed rows of the model catalog from reference_models.json, and its aliases (Kie.ai's model
ids) from kie_models.json."""

import json
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).with_name("reference_models.json")
KIE_FILE = Path(__file__).with_name("kie_models.json")


def reference_models() -> list[dict[str, Any]]:
    return json.loads(REFERENCE_FILE.read_text())["models"]


def catalog_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """Catalog row values for one model of the reference file."""
    return {
        "label": spec["label"],
        "status": spec["status"],
        "sort_order": spec.get("sort_order", 100),
        "sizes": spec["sizes"],
        "free_size": spec["free_size"],
        "qualities": spec["qualities"],
        "output_formats": spec["output_formats"],
        "backgrounds": spec["backgrounds"],
        "input_fidelities": spec["input_fidelities"],
        "moderations": spec["moderations"],
        "supports_streaming": spec["supports_streaming"],
        "supports_edits": spec["supports_edits"],
        "max_n": spec["max_n"],
        "default_size": spec["default_size"],
        "default_quality": spec["default_quality"],
        "price_text_in": spec["prices"]["text_in"],
        "price_image_in": spec["prices"]["image_in"],
        "price_image_out": spec["prices"]["image_out"],
        "output_rule": spec["output_rule"],
    }


def seed_catalog(image_model_class: Any) -> None:
    """Create or refresh one catalog row per reference model (a migration passes its own class),
    then the aliases, once the catalog has them."""
    for spec in reference_models():
        image_model_class.objects.update_or_create(
            model_id=spec["id"], defaults=catalog_fields(spec)
        )
    try:
        alias_class = image_model_class._meta.apps.get_model("catalog", "ModelAlias")
    except LookupError:
        return  # a migration from before the aliases
    seed_aliases(alias_class, image_model_class)


def kie_models() -> dict[str, Any]:
    return json.loads(KIE_FILE.read_text())


def alias_sizes(spec: dict[str, Any], tables: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The alias's {aspect_ratio: {resolution: size}}: its table less the pairs not offered."""
    not_offered = spec.get("not_offered", {})
    sizes = {}
    for ratio, row in tables[spec["sizes"]].items():
        kept = {res: size for res, size in row.items() if res not in not_offered.get(ratio, [])}
        if kept:
            sizes[ratio] = kept
    return sizes


def alias_fields(spec: dict[str, Any], tables: dict[str, Any]) -> dict[str, Any]:
    """Alias row values for one alias of kie_models.json (without its catalog model)."""
    return {
        "references": spec["references"],
        "sizes": alias_sizes(spec, tables),
        "default_aspect_ratio": spec["default_aspect_ratio"],
        "default_resolution": spec["default_resolution"],
        "qualities": spec["qualities"],
        "default_quality": spec["default_quality"],
    }


def seed_aliases(alias_class: Any, image_model_class: Any) -> None:
    """Create or refresh the aliases whose catalog model exists (a migration passes its own
    classes)."""
    data = kie_models()
    for spec in data["aliases"]:
        image_model = image_model_class.objects.filter(model_id=spec["model"]).first()
        if image_model is None:
            continue
        alias_class.objects.update_or_create(
            alias=spec["id"],
            defaults={"image_model": image_model, **alias_fields(spec, data["sizes"])},
        )
