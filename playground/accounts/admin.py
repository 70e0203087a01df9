from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from playground.accounts.models import BudgetSettings, UserBudget
from playground.generations.models import Generation
from playground.pricing.estimate import usd
from playground.pricing.spend import IN_FLIGHT_COST, MONEY, SETTLED_COST, ZERO, month_start

# Share of the budget past which a user shows under "near or over budget".
NEAR_BUDGET = Decimal("0.8")


class UserBudgetInline(admin.StackedInline):
    model = UserBudget
    can_delete = True
    extra = 0
    max_num = 1


@admin.register(BudgetSettings)
class BudgetSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "default_monthly_usd"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The permission check first: without it any staff member could create the row.
        return super().has_add_permission(request) and not BudgetSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _month_sum(cost: Any) -> Coalesce:
    """A correlated subquery: the user's `cost` summed over this month's jobs."""
    jobs = (
        Generation.objects.filter(owner=OuterRef("pk"), created_at__gte=month_start())
        .order_by()
        .values("owner")
        .annotate(total=Sum(cost))
        .values("total")
    )
    return Coalesce(Subquery(jobs, output_field=MONEY), ZERO, output_field=MONEY)


def with_budget_and_spend(users: QuerySet[Any]) -> QuerySet[Any]:
    """Annotate budget, month-to-date spend and in-flight cost in the users' own query.

    The same rules as playground.pricing.spend (own budget row wins, even when empty = no
    limit; else the site default), but as SQL, so a page of users costs one query, not one
    per row."""
    default = BudgetSettings.objects.filter(pk=1).values("default_monthly_usd")[:1]
    own = UserBudget.objects.filter(user=OuterRef("pk"))
    return users.annotate(
        has_own_budget=Exists(own),
        month_budget=Case(
            When(has_own_budget=True, then=Subquery(own.values("monthly_usd")[:1])),
            default=Subquery(default),
            output_field=MONEY,
        ),
        month_spent=_month_sum(SETTLED_COST),
        month_in_flight=_month_sum(IN_FLIGHT_COST),
        month_used=ExpressionWrapper(F("month_spent") + F("month_in_flight"), output_field=MONEY),
        near_budget=Case(
            When(month_budget__isnull=True, then=Value(False)),
            When(
                month_used__gte=ExpressionWrapper(
                    F("month_budget") * Value(NEAR_BUDGET), output_field=MONEY
                ),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


class BudgetUseFilter(admin.SimpleListFilter):
    title = "budget this month"
    parameter_name = "budget_use"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("near", f"{NEAR_BUDGET:.0%} or more used"),
            ("spent", "has spent this month"),
            ("unlimited", "no limit"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "near":
            return queryset.filter(near_budget=True)
        if self.value() == "spent":
            return queryset.filter(Q(month_spent__gt=0) | Q(month_in_flight__gt=0))
        if self.value() == "unlimited":
            return queryset.filter(month_budget__isnull=True)
        return queryset


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PlaygroundUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserBudgetInline]
    list_display = [
        "username",
        "email",
        "is_staff",
        "is_active",
        "monthly_budget",
        "spent",
        "in_flight",
        "left",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", BudgetUseFilter, "groups"]
    search_fields = ["username", "email", "first_name", "last_name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_budget_and_spend(super().get_queryset(request))

    @admin.display(description="monthly budget", ordering="month_budget")
    def monthly_budget(self, obj: Any) -> str:
        if obj.month_budget is None:
            return "no limit"
        suffix = "" if obj.has_own_budget else " (default)"
        return f"${obj.month_budget:,.2f}{suffix}"

    @admin.display(description="spent this month", ordering="month_spent")
    def spent(self, obj: Any) -> str:
        return usd(obj.month_spent)

    @admin.display(description="in flight", ordering="month_in_flight")
    def in_flight(self, obj: Any) -> str:
        return usd(obj.month_in_flight) if obj.month_in_flight else "—"

    @admin.display(description="left")
    def left(self, obj: Any) -> str:
        if obj.month_budget is None:
            return "—"
        return usd(max(ZERO, obj.month_budget - obj.month_spent - obj.month_in_flight))
