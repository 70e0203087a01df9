"""Prompt examples: starting points the playground offers above the prompt.

Each is what the GPT Image models are known for, written as a full prompt. The settings are
the ones every model of the catalog takes (size, quality), plus `input_fidelity` for edits,
which the page sets only when the chosen model offers it. Edit examples name their reference
pictures (and a mask) under static/examples/, drawn by `manage.py make_examples`.

The page does not carry the prompts: static/examples/examples.json (written from this list by
the same command, and checked against it by the tests) is fetched on the first click, so the
first page stays light.
"""

from dataclasses import dataclass, field
from typing import Any

STATIC_FOLDER = "examples"  # under static/
DATA_FILE = "examples.json"


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    prompt: str
    params: dict[str, str] = field(default_factory=dict)
    references: tuple[str, ...] = ()  # file names in static/examples/, the first one first
    mask: str = ""  # a PNG of the first reference's size, transparent where it changes

    @property
    def is_edit(self) -> bool:
        return bool(self.references)

    @property
    def hint(self) -> str:
        """What a click does besides filling the prompt, for the button's tooltip."""
        if self.mask:
            return "Edit: loads a picture and a mask"
        if self.references:
            count = len(self.references)
            return f"Edit: loads {count} reference picture{'s' if count > 1 else ''}"
        return "Text to image"

    def as_data(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "prompt": self.prompt,
            "params": dict(self.params),
            "references": list(self.references),
            "mask": self.mask,
        }


EXAMPLES: tuple[Example, ...] = (
    Example(
        slug="otter-vet",
        title="Otter at the vet",
        prompt=(
            "A children's book drawing of a veterinarian using a stethoscope to listen to the "
            "heartbeat of a baby otter. The otter sits on the examination table wrapped in a "
            "soft striped towel, looking up with big curious eyes, one paw resting on the "
            "stethoscope. The veterinarian, a kind woman with rolled-up sleeves and a "
            "light-blue coat, kneels so her face is level with the otter and smiles gently. "
            "A warm little riverside clinic: a round window showing reeds and water, a jar of "
            "fish-shaped treats, a height chart with paw prints on the wall. Soft watercolor "
            "washes with colored-pencil linework, rounded friendly shapes, a gentle pastel "
            "palette, and a calm, uncluttered composition with open space at the top for the "
            "page's text. No words or letters in the picture."
        ),
        params={"size": "1536x1024", "quality": "medium"},
    ),
    Example(
        slug="gift-basket",
        title="Gift basket",
        prompt=(
            "Generate a photorealistic image of a gift basket on a white background labeled "
            '"Relax & Unwind" with a ribbon and handwriting-like font, containing all the '
            "items in the reference pictures. The woven wicker basket is lined with natural "
            "crinkle paper; it holds the lavender soap bar, the amber candle jar, the jar of "
            "pink bath salts and the rolled sage towel, each keeping the shape, colors and "
            "label it has in its reference. The label is a cream card tied to the handle "
            'with a satin ribbon, reading exactly "Relax & Unwind" in an elegant handwritten '
            "script. Soft studio light from the upper left, gentle natural shadows, a "
            "shallow depth of field, square composition with the whole basket in frame."
        ),
        params={"size": "1024x1024", "quality": "medium", "input_fidelity": "high"},
        references=(
            "basket-soap.webp",
            "basket-candle.webp",
            "basket-bath-salts.webp",
            "basket-towel.webp",
        ),
    ),
    Example(
        slug="flamingo-pool",
        title="Flamingo pool",
        prompt=(
            "A sunlit indoor lounge area with a pool containing a flamingo. In the masked "
            "area only, add a pink flamingo standing in the shallow turquoise water, one leg "
            "tucked up, its neck in a graceful curve, with soft ripples and a faint "
            "reflection around its legs. Match the room's perspective and the warm "
            "afternoon light falling from the tall windows, with a soft shadow on the water, "
            "so the flamingo looks photographed in the room. Keep everything outside the "
            "mask exactly as it is."
        ),
        params={"size": "1536x1024", "quality": "medium"},
        references=("pool-lounge.webp",),
        mask="pool-lounge-mask.png",
    ),
    Example(
        slug="animation-style",
        title="Animation style",
        prompt=(
            "Convert this photo into a hand-drawn animation style, like a still frame from a "
            "classic 2D animated feature film. Keep the composition exactly: the mountains, "
            "the lake and its reflections, the pine trees along the shore and the little red "
            "cabin, in the same places and at the same time of day. Clean, confident ink "
            "outlines of varying weight; cel shading with two or three flat tones per "
            "surface; hand-painted watercolor and gouache backgrounds with visible brush "
            "texture in the sky and water; a warm, slightly saturated palette. No text, no "
            "characters added."
        ),
        params={"size": "1536x1024", "quality": "medium", "input_fidelity": "high"},
        references=("lake-cabin-photo.webp",),
    ),
    Example(
        slug="action-figure",
        title="Action figure",
        prompt=(
            "A photorealistic product photo of a vintage 1980s action figure sealed in its "
            "original blister pack, hanging from a peg in an old toy shop. The figure is a "
            "rugged explorer in a weathered brown fedora, a worn leather jacket and khaki "
            "trousers, with a satchel and a coiled rope on his belt, posed heroically inside "
            "the clear molded plastic bubble. Beside him, each in its own molded slot: a "
            "tiny brass compass, a rolled treasure map, a lantern and a golden idol. The "
            "cardboard backing card has bold retro colors and a sunburst behind the figure, "
            "slightly faded, with a creased corner and a small orange price sticker. Across "
            'the top, in big chunky 3D letters, the name "JOHN"; beneath it, on a stamped '
            'banner, "RELIC HUNTER". Spell both texts exactly as written. Soft overhead '
            "light with crisp glints on the plastic, shallow depth of field."
        ),
        params={"size": "1024x1536", "quality": "high"},
    ),
)


def by_slug() -> dict[str, Example]:
    return {example.slug: example for example in EXAMPLES}


def examples_data() -> dict[str, Any]:
    """The content of static/examples/examples.json, which the page fetches on a click."""
    return {"examples": {example.slug: example.as_data() for example in EXAMPLES}}
