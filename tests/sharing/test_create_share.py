"""create_share: the contract other features call to share images."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.sharing.models import SharedImage, ShareLink
from playground.sharing.services import MAX_IMAGES, ShareRefused, create_share
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db


def test_it_creates_a_link_keeping_the_order(alice):
    first, second, third = (make_image(alice, seed=n) for n in range(3))
    expires = timezone.now() + timedelta(days=2)
    link = create_share(alice, [third, first, second], expires, True)
    assert link.owner == alice
    assert link.expires_at == expires
    assert link.show_details is True
    assert link.view_count == 0 and link.revoked_at is None
    items = list(link.items.values_list("position", "image_id"))
    assert items == [(1, third.pk), (2, first.pk), (3, second.pk)]
    assert list(link.images.order_by("shared_as__position")) == [third, first, second]


def test_it_counts_a_repeated_image_once(alice):
    image, other = make_image(alice, seed=1), make_image(alice, seed=2)
    link = create_share(alice, [image, other, image], None, False)
    assert list(link.items.values_list("image_id", flat=True)) == [image.pk, other.pk]


def test_it_refuses_an_empty_selection(alice):
    with pytest.raises(ShareRefused) as refused:
        create_share(alice, [], None, False)
    assert refused.value.field == "image"
    assert isinstance(refused.value, ValueError)
    assert not ShareLink.objects.exists()


def test_it_refuses_images_of_someone_else(alice, bob):
    mine, theirs = make_image(alice, seed=1), make_image(bob, seed=2)
    with pytest.raises(ShareRefused, match="your own images") as refused:
        create_share(alice, [mine, theirs], None, False)
    assert refused.value.field == "image"
    assert not ShareLink.objects.exists() and not SharedImage.objects.exists()


def test_it_refuses_an_image_deleted_meanwhile(alice):
    image = make_image(alice)
    stale = type(image).objects.get(pk=image.pk)
    image.delete()
    with pytest.raises(ShareRefused):
        create_share(alice, [stale], None, False)
    assert not ShareLink.objects.exists()


def test_it_refuses_an_expiry_in_the_past(alice):
    image = make_image(alice)
    with pytest.raises(ShareRefused) as refused:
        create_share(alice, [image], timezone.now() - timedelta(minutes=1), False)
    assert refused.value.field == "expires_at"
    assert not ShareLink.objects.exists()


def test_it_refuses_too_many_images(alice):
    image = make_image(alice)
    fakes = [type(image)(pk=image.pk + n) for n in range(MAX_IMAGES + 1)]
    with pytest.raises(ShareRefused, match=str(MAX_IMAGES)):
        create_share(alice, fakes, None, False)
