"""The admin console: users with budgets and spend, generations with costs, the catalog, access."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from playground.accounts.models import BudgetSettings, UserBudget
from playground.generations.models import Generation
from playground.pricing.estimate import usd
from playground.pricing.spend import budget_status

pytestmark = pytest.mark.django_db

STATES = list(Generation.State)


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-1")


def make_jobs(owner: Any, count: int, provider: Any = None, **fields: Any) -> list[Generation]:
    return Generation.objects.bulk_create(
        Generation(
            owner=owner,
            provider=provider,
            model=fields.get("model", "gpt-image-1.5"),
            prompt=f"a lighthouse {i}",
            state=fields.get("state", STATES[i % len(STATES)]),
            estimated_usd_low=Decimal("0.01"),
            estimated_usd_high=Decimal("0.04"),
            actual_usd=fields.get("actual_usd", Decimal("0.02")),
            upstream_seconds=3.5,
            deleted_at=fields.get("deleted_at"),
        )
        for i in range(count)
    )


def make_users(django_user_model: Any, count: int, start: int = 0) -> list[Any]:
    users = [
        django_user_model.objects.create_user(f"user{i}", f"user{i}@example.com", "pw-123456")
        for i in range(start, start + count)
    ]
    for user in users:
        make_jobs(user, 2)
    return users


def test_users_changelist_shows_budget_spend_and_left(client: Any, root: Any, django_user_model):
    BudgetSettings.current()
    BudgetSettings.objects.filter(pk=1).update(default_monthly_usd=Decimal("10"))
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw-123456")
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw-123456")
    carol = django_user_model.objects.create_user("carol", "carol@example.com", "pw-123456")
    UserBudget.objects.create(user=bob, monthly_usd=Decimal("1"))
    UserBudget.objects.create(user=carol, monthly_usd=None)  # own row, empty: no limit
    make_jobs(alice, 1, state=Generation.State.SUCCEEDED, actual_usd=Decimal("2.50"))
    make_jobs(bob, 1, state=Generation.State.SUCCEEDED, actual_usd=Decimal("0.80"))
    make_jobs(bob, 1, state=Generation.State.RUNNING, actual_usd=None)  # 0.04 in flight
    # Last month's job does not count.
    old = make_jobs(alice, 1, state=Generation.State.SUCCEEDED, actual_usd=Decimal("5"))[0]
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    client.force_login(root)
    page = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "$10.00 (default)" in page and "$2.50" in page and "$7.50" in page  # alice
    assert "$1.00" in page and "$0.80" in page and "$0.16" in page  # bob: 1 - 0.80 - 0.04
    assert "no limit" in page  # carol

    near = client.get(reverse("admin:auth_user_changelist") + "?budget_use=near")
    assert near.status_code == 200
    names = [row.username for row in near.context["cl"].result_list]
    assert names == ["bob"]
    # The one-query annotation agrees with the per-user functions the playground enforces.
    for row in client.get(reverse("admin:auth_user_changelist")).context["cl"].result_list:
        status = budget_status(row)
        assert (row.month_budget, row.month_spent, row.month_in_flight) == (
            status.budget,
            status.spent,
            status.in_flight,
        ), row.username
    spent = client.get(reverse("admin:auth_user_changelist") + "?budget_use=spent")
    assert {u.username for u in spent.context["cl"].result_list} == {"alice", "bob"}
    unlimited = client.get(reverse("admin:auth_user_changelist") + "?budget_use=unlimited")
    assert [u.username for u in unlimited.context["cl"].result_list] == ["carol"]
    found = client.get(reverse("admin:auth_user_changelist") + "?q=bob@example")
    assert [u.username for u in found.context["cl"].result_list] == ["bob"]
    by_spend = client.get(reverse("admin:auth_user_changelist") + "?o=-6")  # spent, descending
    assert [u.username for u in by_spend.context["cl"].result_list][:2] == ["alice", "bob"]
    by_budget = client.get(reverse("admin:auth_user_changelist") + "?o=5")
    assert by_budget.status_code == 200
    staff = client.get(reverse("admin:auth_user_changelist") + "?is_staff__exact=1")
    assert [u.username for u in staff.context["cl"].result_list] == ["root"]


def test_user_page_keeps_the_budget_inline(client: Any, root: Any, alice: Any) -> None:
    client.force_login(root)
    page = client.get(reverse("admin:auth_user_change", args=[alice.pk]))
    assert page.status_code == 200
    assert b"budget-0-monthly_usd" in page.content or b"budget-__prefix__" in page.content


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_users_changelist_queries_do_not_grow_with_rows(client, root, django_user_model) -> None:
    client.force_login(root)
    url = reverse("admin:auth_user_changelist")
    make_users(django_user_model, 5)
    few = count_queries(client, url)
    make_users(django_user_model, 45, start=5)
    many = count_queries(client, url)
    assert few == many, (few, many)


def test_generations_changelist_queries_do_not_grow_with_rows(
    client: Any, root: Any, provider: Any, django_user_model: Any
) -> None:
    client.force_login(root)
    url = reverse("admin:generations_generation_changelist")
    owners = make_users(django_user_model, 1)
    make_jobs(owners[0], 3, provider=provider)  # 5 rows
    few = count_queries(client, url)
    more = make_users(django_user_model, 20, start=1)  # 40 more rows, many owners
    make_jobs(more[0], 5, provider=provider)
    assert Generation.objects.count() == 50
    many = count_queries(client, url)
    assert few == many, (few, many)


def test_generations_changelist_filters(client: Any, root: Any, provider: Any, alice: Any) -> None:
    make_jobs(alice, 5, provider=provider)  # one of each state
    make_jobs(alice, 2, model="gpt-image-2", state=Generation.State.SUCCEEDED)
    make_jobs(root, 1, deleted_at=timezone.now(), state=Generation.State.FAILED)
    client.force_login(root)
    url = reverse("admin:generations_generation_changelist")

    def ids(query: str) -> set[int]:
        response = client.get(url + query)
        assert response.status_code == 200, query
        return {job.pk for job in response.context["cl"].result_list}

    everything = ids("")
    assert len(everything) == 8
    page = client.get(url).content.decode()
    estimate = f"{usd(Decimal('0.01'))} to {usd(Decimal('0.04'))}"
    assert estimate in page and usd(Decimal("0.02")) in page  # estimate range and actual

    succeeded = set(Generation.objects.filter(state="succeeded").values_list("pk", flat=True))
    assert ids("?state__exact=succeeded") == succeeded
    assert ids("?model=gpt-image-2") == set(
        Generation.objects.filter(model="gpt-image-2").values_list("pk", flat=True)
    )
    assert ids(f"?provider__id__exact={provider.pk}") == set(
        Generation.objects.filter(provider=provider).values_list("pk", flat=True)
    )
    assert ids(f"?owner__id__exact={root.pk}") == set(
        Generation.objects.filter(owner=root).values_list("pk", flat=True)
    )
    assert ids("?deleted=yes") == set(
        Generation.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)
    )
    assert len(ids("?deleted=no")) == 7
    assert len(ids("?operation__exact=generate")) == 8
    today = timezone.localdate()
    assert ids(f"?created_at__year={today.year}&created_at__month={today.month}") == everything
    assert ids(f"?created_at__year={today.year - 1}") == set()
    assert ids("?q=lighthouse%204") == {
        job.pk for job in Generation.objects.filter(prompt="a lighthouse 4")
    }
    assert len(ids("?q=alice")) == 7


def test_money_and_usage_are_read_only_on_the_generation_page(
    client: Any, root: Any, alice: Any
) -> None:
    job = make_jobs(alice, 1, state=Generation.State.SUCCEEDED)[0]
    client.force_login(root)
    url = reverse("admin:generations_generation_change", args=[job.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    for name in (
        "actual_usd",
        "estimated_usd_low",
        "estimated_usd_high",
        "usage",
        "upstream_seconds",
        "state",
        "owner",
    ):
        assert name not in form.fields, name
    client.post(url, {"actual_usd": "0", "estimated_usd_high": "0", "state": "failed"})
    job.refresh_from_db()
    assert job.actual_usd == Decimal("0.02") and job.state == Generation.State.SUCCEEDED
    assert client.get(reverse("admin:generations_generation_add")).status_code == 403


def test_catalog_changelist_search_and_filters(client: Any, root: Any, catalog: None) -> None:
    client.force_login(root)
    url = reverse("admin:catalog_imagemodel_changelist")

    def names(query: str) -> set[str]:
        response = client.get(url + query)
        assert response.status_code == 200, query
        return {row.model_id for row in response.context["cl"].result_list}

    assert "gpt-image-1" in names("")
    assert names("?family=gpt-image-1") == {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"}
    assert "gpt-image-1" not in names("?status__exact=active")
    assert names("?q=mini") == {"gpt-image-1-mini"}


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
    return sorted(set(urls))


def test_a_non_staff_user_gets_nothing_of_the_admin(client: Any, alice: Any) -> None:
    urls = admin_urls()
    assert len(urls) > 10
    for signed_in in (False, True):
        if signed_in:
            client.force_login(alice)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, (url, response.status_code)
            assert response["Location"].startswith(reverse("admin:login")), url
            assert client.post(url, {}).status_code in (302, 403), url


def test_staff_without_permissions_see_only_what_they_are_given(
    client: Any, django_user_model: Any
) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(clerk)
    for url in admin_urls():
        if url == reverse("admin:index"):
            continue
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
    assert b"generations" not in client.get(reverse("admin:index")).content.lower()

    clerk.user_permissions.add(Permission.objects.get(codename="view_generation"))
    assert client.get(reverse("admin:generations_generation_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_imagemodel_changelist")).status_code == 403


def test_the_header_links_to_the_admin_for_staff_only(
    client: Any, alice: Any, provider: Any
) -> None:
    admin_link = f'href="{reverse("admin:index")}"'.encode()
    client.force_login(alice)
    page = client.get(reverse("gallery"))
    assert page.status_code == 200
    assert admin_link not in page.content
    alice.is_staff = True
    alice.save()
    assert admin_link in client.get(reverse("gallery")).content
