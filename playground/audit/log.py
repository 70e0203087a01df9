"""Recording an audit event: one call from every place that touches a provider or an API key."""

from typing import Any

from django.db import models
from django.http import HttpRequest

from playground.audit.models import AuditEvent


def client_address(request: HttpRequest | None) -> str | None:
    """The address the request came from (REMOTE_ADDR: behind a proxy, set it up to pass it)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    target: models.Model,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event. `details` must never hold a secret: name the fields that changed instead."""
    user = actor if actor is not None else getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        target_type=str(target._meta.verbose_name),
        target_id=str(target.pk or ""),
        target_label=str(target)[:200],
        ip_address=client_address(request),
        details=details or {},
    )
