import pytest

from cea.accounts.selectors import active_user
from cea.accounts.services import user_set_active, user_set_role
from cea.common.errors import PermissionDenied
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_active_user_is_read_from_the_database_now():
    # Given a user whose role changed after the object in hand was read
    user = UserFactory(role="agent")
    user_set_role(user=type(user).objects.get(pk=user.pk), role="supervisor")

    # When a live socket reads them again
    current = active_user(user_id=user.pk)

    # Then it gets the row as it is
    assert current.pk == user.pk
    assert (current.role, user.role) == ("supervisor", "agent")


def test_active_user_refuses_a_deactivated_or_missing_user():
    # Given a deactivated user and an id of nobody
    user = user_set_active(user=UserFactory(), is_active=False)

    # When / then each is refused as "sign in first"
    for user_id in (user.pk, user.pk + 1000):
        with pytest.raises(PermissionDenied) as refusal:
            active_user(user_id=user_id)
        assert refusal.value.code == "not_authenticated"
