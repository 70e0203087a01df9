"""Staff manage everyone's API keys: the hash never appears, the secret only once on creation."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from playground.apikeys.models import ApiKey
from playground.apikeys.spend import total_spend_subquery
from playground.audit import log
from playground.pricing.estimate import usd


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "prefix",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "cap_usd_per_hour",
        "cap_usd_per_day",
        "cap_usd_total",
        "spend",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "owner__username"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    # key_hash is not editable, and so in no form; it is not listed here either.
    fields = [
        "owner",
        "name",
        "cap_usd_per_hour",
        "cap_usd_per_day",
        "cap_usd_total",
        "allowed_networks",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    readonly_fields = [
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    actions = ["revoke_keys"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(spent=total_spend_subquery())

    @admin.display(description="spend", ordering="spent")
    def spend(self, key: ApiKey) -> str:
        return usd(getattr(key, "spent", 0) or 0)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            if form.changed_data:
                log.record("changed", obj, request=request, details={"fields": form.changed_data})
            return
        obj.created_by = request.user
        # Kept on the request only, for the page that answers this one request.
        request._new_api_key_secret = obj.set_secret()  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        log.record(
            "created",
            obj,
            request=request,
            details={"via": "admin", "owner": obj.owner.get_username()},
        )

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None
    ) -> HttpResponse:
        # Shown in this response rather than in a message: messages can be stored in the
        # session (the database) or a cookie, and the secret must be stored nowhere.
        secret = getattr(request, "_new_api_key_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "key": obj,
            "secret": secret,
            "title": "API key created",
        }
        response = TemplateResponse(request, "apikeys/admin_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected API keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = 0
        for key in queryset:
            if key.revoke():
                revoked += 1
                log.record("revoked", key, request=request, details={"via": "admin"})
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: ApiKey) -> None:
        log.record("deleted", obj, request=request, details={"via": "admin"})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for key in queryset:
            log.record("deleted", key, request=request, details={"via": "admin"})
        super().delete_queryset(request, queryset)
