"""Seed rows of the model catalog from reference_models.json."""

import json
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).with_name("reference_models.json")


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
    """Create or refresh one catalog row per reference model (a migration passes its own class)."""
    for spec in reference_models():
        image_model_class.objects.update_or_create(
            model_id=spec["id"], defaults=catalog_fields(spec)
        )
