"""Remix: the playground prefilled with a job's model and parameters, the prompt left empty."""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse

from playground.generations.forms import PARAM_FIELDS
from playground.generations.models import Generation, GenerationInput

REMIX_FIELDS = ("size", *PARAM_FIELDS)


def remix_url(job: Generation, inputs: Iterable[GenerationInput]) -> str:
    """The playground's address with the job's settings in the query string.

    The form takes its initial values from the query string, and `reference` ids bring gallery
    images back as references. Uploaded references and a painted mask cannot travel in a link;
    "Run again" repeats those exactly.
    """
    query: list[tuple[str, str]] = [("model", job.model)]
    query += [
        (name, str(job.params[name]))
        for name in REMIX_FIELDS
        if job.params.get(name) not in (None, "")
    ]
    if job.operation == Generation.Operation.EDIT:
        query += [("reference", str(i.source_image_id)) for i in inputs if i.source_image_id]
    return f"{reverse('playground')}?{urlencode(query)}"
