"""The one way a job is queued: validate against the catalog, estimate, check the budget, insert.

Every path that starts a job (the form, "Run again", the API) goes through `queue_generation`,
so money is counted once: the budget is checked inside the transaction that inserts the job
and its task, with the owner's row locked, so concurrent requests of one user are serialised
(SQLite's IMMEDIATE transactions serialise every writer; PostgreSQL locks the user row).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn, Protocol

from django.contrib.auth import get_user_model
from django.db import transaction

from playground.apikeys.auth import check_key_caps
from playground.generations.forms import GenerationForm
from playground.generations.models import Generation
from playground.generations.tasks import enqueue_in_transaction
from playground.pricing.estimate import EstimateInput
from playground.pricing.panel import estimate_range
from playground.pricing.spend import budget_refusal
from playground.providers.models import Provider


class JobInputs(Protocol):
    """The references and mask of a job: new uploads, or those stored with an earlier job."""

    @property
    def is_edit(self) -> bool: ...

    def reference_sizes(self) -> tuple[tuple[int, int], ...]: ...

    def stage(self) -> None:
        """Write new files ahead of the transaction (the slow part holds no lock)."""
        ...

    def attach(self, generation: Generation) -> None:
        """Record the inputs and link them to `generation`, inside its transaction."""
        ...

    def discard(self) -> None:
        """Remove what `stage` wrote, when the job was not recorded."""
        ...

    def close(self) -> None: ...


@dataclass
class NoInputs:
    """A plain generation: no references, no mask."""

    is_edit: bool = False

    def reference_sizes(self) -> tuple[tuple[int, int], ...]:
        return ()

    def stage(self) -> None:
        pass

    def attach(self, generation: Generation) -> None:
        pass

    def discard(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class JobRefused(Exception):
    """Why a job was not queued: messages per field ("__all__" for the request as a whole)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    over_budget: bool = False

    def __str__(self) -> str:
        return "; ".join(message for messages in self.errors.values() for message in messages)


def _form_errors(form: GenerationForm) -> dict[str, list[str]]:
    errors = {name: list(messages) for name, messages in form.errors.items()}
    for name, messages in form.reference_errors.items():
        errors.setdefault(name, []).extend(messages)
    return errors


def _refuse(form: GenerationForm, field_name: str | None, message: str, **kwargs: Any) -> NoReturn:
    """Record the reason on the form (for the page) and raise it (for every caller)."""
    if field_name in ("image", "mask"):
        form.reference_errors.setdefault(field_name, []).append(message)
    else:
        form.add_error(field_name, message)
    raise JobRefused(_form_errors(form), **kwargs)


def estimate_for(form: GenerationForm, inputs: JobInputs) -> tuple[Decimal, Decimal]:
    """(low, high) estimated cost of the form's request with these inputs."""
    data = form.cleaned_data
    return estimate_range(
        form.image_model,
        EstimateInput(
            prompt=data["prompt"],
            size=data["size"],
            quality=data["quality"],
            n=data["n"],
            partial_images=data.get("partial_images") or 0,
            references=inputs.reference_sizes(),
            input_fidelity=data.get("input_fidelity") if inputs.is_edit else None,
        ),
    )


def _lock_owner(owner: Any) -> None:
    """Serialise this user's queuing: PostgreSQL row lock; SQLite's write lock already does."""
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))


def queue_generation(
    owner: Any, form: GenerationForm, inputs: JobInputs, api_key: Any = None
) -> Generation:
    """Queue the form's request for `owner`, or raise JobRefused (also recorded on the form).

    The caller owns `inputs` and closes them. New files are written before the transaction
    (so a big edit does not hold the database's write lock while it copies and thumbnails)
    and removed again when the job is not recorded: a refused or failed request leaves
    nothing behind.
    """
    if not form.is_valid() or form.reference_errors:
        raise JobRefused(_form_errors(form))
    model = form.image_model
    if inputs.is_edit and not model.supports_edits:
        _refuse(form, "image", f"{model.model_id} does not take reference images.")
    try:
        low, high = estimate_for(form, inputs)
    except ValueError as error:  # the catalog row cannot price this request
        _refuse(form, None, f"This request cannot be priced: {error}")

    inputs.stage()
    try:
        with transaction.atomic():
            _lock_owner(owner)
            if refusal := budget_refusal(owner, high):
                _refuse(form, None, refusal, over_budget=True)
            if api_key is not None:
                # Under the owner's lock, as the budget: concurrent requests of one key see
                # each other's jobs, so together they cannot pass its caps (raises ApiKeyError).
                check_key_caps(api_key, high)
            generation = Generation.objects.create(
                owner=owner,
                provider=Provider.objects.default(),
                model=model.model_id,
                operation=(
                    Generation.Operation.EDIT if inputs.is_edit else Generation.Operation.GENERATE
                ),
                prompt=form.cleaned_data["prompt"],
                params=form.upstream_params(is_edit=inputs.is_edit),
                estimated_usd_low=low,
                estimated_usd_high=high,
                api_key=api_key,  # None for the pages; the key a program used
            )
            inputs.attach(generation)
            # The task row is written in this same transaction: a job never exists without one.
            enqueue_in_transaction(generation)
    except BaseException:
        inputs.discard()  # the rows were rolled back: leave no files
        raise
    return generation


def rerun_form_data(job: Generation) -> dict[str, Any]:
    """The form fields that ask for `job` again, from the parameters it sent upstream."""
    data: dict[str, Any] = {
        key: value for key, value in job.params.items() if value is not None and value != ""
    }
    data["model"] = job.model
    data["prompt"] = job.prompt
    data.setdefault("moderation", "auto")  # edits send none; the form needs a value
    return data
