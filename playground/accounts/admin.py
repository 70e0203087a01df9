from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from playground.accounts.models import BudgetSettings, UserBudget


class UserBudgetInline(admin.StackedInline):
    model = UserBudget
    can_delete = True
    extra = 0
    max_num = 1


@admin.register(BudgetSettings)
class BudgetSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "default_monthly_usd"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BudgetSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PlaygroundUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserBudgetInline]
