"""Token rules of the Images API as pure functions (see the catalog's reference data).

The rules themselves (token tables, formula factors) are data passed in by the caller, so
an admin-edited catalog row and the offline stand-in use the same arithmetic.
"""

import math
import re
from typing import Any

PARTIAL_IMAGE_TOKENS = 100
CHARS_PER_TEXT_TOKEN = 4


_EDGE = re.compile(r"[0-9]{1,6}")


def parse_size(size: str) -> tuple[int, int]:
    """'1536x1024' -> (1536, 1024). Raises ValueError for anything else."""
    width_text, sep, height_text = size.lower().partition("x")
    # ASCII digits only (str.isdigit() also takes "١٠٢٤"), and no more than an image needs.
    if not sep or not _EDGE.fullmatch(width_text) or not _EDGE.fullmatch(height_text):
        raise ValueError(f"not a WIDTHxHEIGHT size: {size!r}")
    return int(width_text), int(height_text)


def estimate_text_tokens(prompt: str) -> int:
    """An estimate (about four characters a token); the real count comes back in `usage`."""
    return max(1, math.ceil(len(prompt) / CHARS_PER_TEXT_TOKEN)) if prompt else 0


def formula_output_tokens(factor: int, width: int, height: int) -> int:
    """gpt-image-2 family: tokens for one W x H image at a quality's factor."""
    short_edge, long_edge = sorted((width, height))
    scaled = round(factor * short_edge / long_edge)
    return math.ceil(factor * scaled * (2_000_000 + width * height) / 4_000_000)


def output_tokens_per_image(rule: dict[str, Any], quality: str, width: int, height: int) -> int:
    """Output tokens of one image under a catalog output rule.

    rule is {"kind": "table", "table": {quality: {"WxH": tokens}}} or
    {"kind": "formula", "factors": {quality: factor}}. Raises KeyError when the rule has no
    figure for that quality and size.
    """
    if rule["kind"] == "formula":
        return formula_output_tokens(int(rule["factors"][quality]), width, height)
    if rule["kind"] == "table":
        return int(rule["table"][quality][f"{width}x{height}"])
    raise ValueError(f"unknown output rule kind: {rule['kind']!r}")


def effective_fidelity(requested: str | None, offered: list[str]) -> str:
    """The input fidelity a request gets: models that take no `input_fidelity` (the
    gpt-image-2 family) always work at high fidelity; otherwise the default is low."""
    if not offered:
        return "high"
    return requested or "low"


def input_image_tokens(width: int, height: int, fidelity: str = "low") -> int:
    """Input tokens of one reference image (gpt-image-1 rule, used as the estimate for all)."""
    if width <= 0 or height <= 0:
        raise ValueError("image dimensions must be positive")
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = 512 / min(width, height)
    width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    tokens = 65 + 129 * tiles
    if fidelity == "high":
        tokens += 4160 if round(width) == round(height) else 6240
    return tokens
