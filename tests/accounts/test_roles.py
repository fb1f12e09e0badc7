"""Users and roles: the role decides staff access (the console); integration clients have no password."""

import pytest

from cea.accounts.models import User
from cea.accounts.services import user_create, user_set_role
from cea.common.errors import ValidationFailed
from tests.accounts.factories import PASSWORD


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser"),
    [("agent", False, False), ("supervisor", True, False), ("admin", True, True)],
)
def test_user_create_sets_the_staff_flags_from_the_role(team_a, role, is_staff, is_superuser):
    # When
    user = user_create(username=f"new.{role}", role=role, password=PASSWORD, teams=[team_a], first_name="Sam")
    # Then
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == (role, is_staff, is_superuser)
    assert user.check_password(PASSWORD) is True
    assert list(user.teams.values_list("name", flat=True)) == ["Team A"]
    assert user.first_name == "Sam"


@pytest.mark.django_db
def test_an_integration_client_gets_an_unusable_password_even_if_one_is_given():
    # When
    user = user_create(username="erp-sync", role="integration", password=PASSWORD)
    # Then
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == ("integration", False, False)
    assert user.has_usable_password() is False
    assert user.check_password(PASSWORD) is False


@pytest.mark.django_db
def test_a_user_made_without_a_password_has_an_unusable_one():
    user = user_create(username="no.password", role="agent")
    assert user.has_usable_password() is False


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_no_user_is_made():
    with pytest.raises(ValidationFailed) as refused:
        user_create(username="weak", role="agent", password="12345678")
    assert refused.value.message == "The password is too weak."
    assert refused.value.fields == {"password": ["This password is too common.", "This password is entirely numeric."]}
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_a_username_is_unique_whatever_its_case(agent):
    with pytest.raises(ValidationFailed) as refused:
        user_create(username="Agent.A", role="agent", password=PASSWORD)
    assert refused.value.fields == {"username": ["Already taken."]}
    assert User.objects.filter(username__iexact="agent.a").count() == 1


@pytest.mark.django_db
def test_an_unknown_role_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        user_create(username="the.boss", role="boss", password=PASSWORD)
    assert refused.value.fields == {"role": ["Choose one of agent, supervisor, admin, integration."]}
    assert not User.objects.filter(username="the.boss").exists()


@pytest.mark.django_db
def test_an_unknown_role_is_refused_on_change(agent):
    with pytest.raises(ValidationFailed):
        user_set_role(user=agent, role="boss")
    agent.refresh_from_db()
    assert agent.role == "agent"


@pytest.mark.django_db
def test_user_set_role_promotes_an_agent_to_supervisor(agent):
    # When
    user_set_role(user=agent, role="supervisor")
    # Then
    agent.refresh_from_db()
    assert (agent.role, agent.is_staff, agent.is_superuser) == ("supervisor", True, False)


@pytest.mark.django_db
def test_user_set_role_to_admin_and_back_to_agent(agent):
    # When
    user_set_role(user=agent, role="admin")
    agent.refresh_from_db()
    # Then
    assert (agent.role, agent.is_staff, agent.is_superuser) == ("admin", True, True)
    # When
    user_set_role(user=agent, role="agent")
    agent.refresh_from_db()
    # Then: the console access goes with the role
    assert (agent.role, agent.is_staff, agent.is_superuser) == ("agent", False, False)
    assert agent.check_password(PASSWORD) is True
