"""The console (Django admin): role-aware access, team scoping, and edits that go through the services."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.forms import MultipleChoiceField, MultiWidget

from cea.accounts.models import ApiToken
from cea.accounts.services import api_token_create
from records.cases.models import Case
from records.cases.services import case_add_note, case_create, case_transition
from records.customers.models import Customer
from records.customers.services import customer_create, customer_set_consent
from records.identities.models import Identity
from records.journey.models import JourneyEvent
from tests.accounts.factories import PASSWORD


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def form_data(response) -> dict:
    """The POST a browser would send for the add/change form in ``response``, inlines included, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data: dict = {}
    for form in forms:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if isinstance(field.widget, MultiWidget):
                for index, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{index}"] = "" if part is None else part
            elif value is None:
                if not isinstance(field, MultipleChoiceField):
                    data[key] = ""
            elif value is False:
                continue
            else:
                data[key] = value
    return data


def changelist(client, path: str) -> list:
    response = client.get(path)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def records_of_two_teams(agent, agent_b, team_a, team_b):
    ours = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    theirs = customer_create(actor=agent_b, given_name="Bea", family_name="Brown", team=team_b)
    our_case = case_create(actor=agent, customer=ours, subject="Ours")
    their_case = case_create(actor=agent_b, customer=theirs, subject="Theirs")
    return ours, theirs, our_case, their_case


# --- Who may enter, and what they see -------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_cannot_enter_the_console(client, agent):
    client.force_login(agent)
    for path in ["/admin/", "/admin/records/customer/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.django_db
def test_an_agent_cannot_sign_in_to_the_console(client, agent):
    response = client.post("/admin/login/?next=/admin/", {"username": "agent.a", "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter the correct username and password for a staff account. Note that both fields may be "
        "case-sensitive."
    ]


@pytest.mark.django_db
def test_a_supervisor_sees_only_their_teams_customers_and_cases(client, supervisor, records_of_two_teams):
    # Given
    ours, theirs, our_case, their_case = records_of_two_teams
    client.force_login(supervisor)
    # When / Then
    assert changelist(client, "/admin/records/customer/") == [ours]
    assert changelist(client, "/admin/records/case/") == [our_case]
    # Another team's customer cannot be opened by id either.
    response = client.get(f"/admin/records/customer/{theirs.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    response = client.get(f"/admin/records/case/{their_case.pk}/change/")
    assert response.status_code == 302


@pytest.mark.django_db
def test_an_admin_sees_every_team(client, admin_user, records_of_two_teams):
    ours, theirs, our_case, their_case = records_of_two_teams
    client.force_login(admin_user)
    assert changelist(client, "/admin/records/customer/") == [theirs, ours]  # by family name
    assert set(changelist(client, "/admin/records/case/")) == {our_case, their_case}


@pytest.mark.django_db
def test_a_supervisor_cannot_open_users_or_api_tokens(client, supervisor, integration_user):
    # Given
    token, _ = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    client.force_login(supervisor)
    # When / Then
    for path in [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{supervisor.pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/accounts/apitoken/",
        f"/admin/accounts/apitoken/{token.pk}/change/",
        "/admin/accounts/apitoken/add/",
    ]:
        assert client.get(path).status_code == 403, path
    # The console's index does not offer them.
    index = client.get("/admin/")
    models = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"User", "ApiToken"}.isdisjoint(models)
    assert {"Customer", "Case", "Interaction", "SlaPolicy", "Team"} <= models


@pytest.mark.django_db
def test_an_admin_opens_users_and_api_tokens(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/apitoken/").status_code == 200


# --- Customers through the services ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("editor", ["supervisor", "admin_user"])
def test_editing_a_customer_goes_through_customer_update(client, request, editor, agent, team_a):
    # Given
    customer = customer_create(
        actor=agent, given_name="Alice", family_name="Smith", email="alice@example.com", team=team_a
    )
    client.force_login(request.getfixturevalue(editor))
    form = client.get(f"/admin/records/customer/{customer.pk}/change/")
    data = form_data(form)
    # When
    response = client.post(
        f"/admin/records/customer/{customer.pk}/change/", {**data, "city": "Leeds", "phone": "07911 123456"}
    )
    # Then
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.phone, customer.email) == ("Leeds", "+447911123456", "alice@example.com")
    event = JourneyEvent.objects.get(customer=customer, kind="customer.updated")
    assert event.payload == {"fields": ["phone", "city"]}
    assert event.summary == "Profile updated: phone, city"
    assert Identity.objects.filter(customer=customer, kind="phone", value="+447911123456").exists()


@pytest.mark.django_db
def test_a_supervisor_sees_identities_consents_and_timeline_beside_the_customer(client, supervisor, agent, team_a):
    # Given
    customer = customer_create(
        actor=agent, given_name="Alice", family_name="Smith", email="alice@example.com", team=team_a
    )
    customer_set_consent(actor=agent, customer=customer, channel="email", purpose="marketing", granted=True)
    client.force_login(supervisor)
    # When
    response = client.get(f"/admin/records/customer/{customer.pk}/change/")
    # Then: the inlines are shown, read-only
    assert response.status_code == 200
    inlines = {inline.formset.prefix: inline for inline in response.context["inline_admin_formsets"]}
    assert set(inlines) == {"identities", "consents"}
    assert [form.instance.label for form in inlines["identities"].formset.forms] == ["alice@example.com"]
    assert [(form.instance.channel, form.instance.granted) for form in inlines["consents"].formset.forms] == [
        ("email", True)
    ]
    assert all(not inline.has_change_permission for inline in inlines.values())
    page = response.content.decode()
    assert "customer.created · Customer Alice Smith created" in page
    assert "consent.changed · Consent for marketing on email granted" in page


@pytest.mark.django_db
def test_a_bad_email_in_the_console_is_a_form_error_and_nothing_is_saved(client, supervisor, agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    events_before = JourneyEvent.objects.count()
    client.force_login(supervisor)
    data = form_data(client.get(f"/admin/records/customer/{customer.pk}/change/"))
    # When
    response = client.post(
        f"/admin/records/customer/{customer.pk}/change/", {**data, "email": "alice@", "city": "Leeds"}
    )
    # Then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"email": ["Enter a valid email address."]}
    customer.refresh_from_db()
    assert (customer.email, customer.city) == ("", "")
    assert JourneyEvent.objects.count() == events_before


@pytest.mark.django_db
def test_a_refusal_of_the_service_is_shown_on_its_field(client, supervisor, agent, team_a):
    # Given: the phone already identifies someone else
    customer_create(actor=agent, given_name="Bob", family_name="Jones", phone="+447911123456", team=team_a)
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    client.force_login(supervisor)
    data = form_data(client.get(f"/admin/records/customer/{customer.pk}/change/"))
    # When
    response = client.post(f"/admin/records/customer/{customer.pk}/change/", {**data, "phone": "07911 123456"})
    # Then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"phone": ["Already in use by another customer."]}
    customer.refresh_from_db()
    assert customer.phone == ""


@pytest.mark.django_db
def test_creating_a_customer_in_the_console(client, supervisor, team_a):
    # Given
    client.force_login(supervisor)
    data = form_data(client.get("/admin/records/customer/add/"))
    # When
    response = client.post(
        "/admin/records/customer/add/",
        {
            **data,
            "given_name": "Carol",
            "family_name": "White",
            "email": "Carol@Example.com",
            "team": team_a.pk,
            "value_tier": "gold",
        },
    )
    # Then
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.full_name, customer.email, customer.team_id, customer.value_tier, customer.created_by_id) == (
        "Carol White",
        "carol@example.com",
        team_a.pk,
        "gold",
        supervisor.pk,
    )
    assert customer.search_name == "carol white"
    assert list(JourneyEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "customer.created",
        "identity.added",
    ]


@pytest.mark.django_db
def test_a_supervisor_cannot_create_a_customer_in_another_team(client, supervisor, team_b):
    client.force_login(supervisor)
    data = form_data(client.get("/admin/records/customer/add/"))
    response = client.post(
        "/admin/records/customer/add/", {**data, "given_name": "Carol", "family_name": "White", "team": team_b.pk}
    )
    # Only the supervisor's own teams are choices: another team's id is refused by the form.
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "team": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert Customer.objects.count() == 0


# --- Cases through the services -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("editor", ["supervisor", "admin_user"])
def test_editing_a_case_goes_through_case_update(client, request, editor, agent, team_a):
    # Given: a case with a note (shown read-only beside it)
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    case = case_create(actor=agent, customer=customer, subject="Router")
    case_add_note(actor=agent, case=case, body="Asked for the serial number.")
    client.force_login(request.getfixturevalue(editor))
    form = client.get(f"/admin/records/case/{case.pk}/change/")
    assert [f.instance.body for f in form.context["inline_admin_formsets"][0].formset.forms] == [
        "Asked for the serial number."
    ]
    # When
    response = client.post(
        f"/admin/records/case/{case.pk}/change/", {**form_data(form), "priority": "urgent", "assignee": agent.pk}
    )
    # Then
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.priority, case.assignee_id, case.status) == ("urgent", agent.pk, "new")
    event = JourneyEvent.objects.get(kind="case.updated")
    assert event.payload["fields"] == ["priority", "assignee"]


@pytest.mark.django_db
def test_an_assignee_outside_the_cases_team_is_a_form_error(client, supervisor, agent, agent_b, team_a):
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    case = case_create(actor=agent, customer=customer, subject="Router")
    client.force_login(supervisor)
    data = form_data(client.get(f"/admin/records/case/{case.pk}/change/"))
    response = client.post(f"/admin/records/case/{case.pk}/change/", {**data, "assignee": agent_b.pk})
    # agent_b is in no team of the supervisor's, so not even a choice.
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "assignee": ["Select a valid choice. That choice is not one of the available choices."]
    }
    case.refresh_from_db()
    assert case.assignee_id is None


# --- Case actions -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_transition_action_moves_the_selected_cases(client, supervisor, agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    first = case_create(actor=agent, customer=customer, subject="First")
    second = case_create(actor=agent, customer=customer, subject="Second")
    client.force_login(supervisor)
    # When
    response = client.post(
        "/admin/records/case/", {"action": "transition_open", "_selected_action": [first.pk, second.pk]}
    )
    # Then
    assert response.status_code == 302
    assert _messages(response) == [("success", "2 case(s): open.")]
    assert set(Case.objects.values_list("status", flat=True)) == {"open"}
    assert JourneyEvent.objects.filter(kind="case.open").count() == 2


@pytest.mark.django_db
def test_an_invalid_transition_action_reports_each_refused_row(client, supervisor, agent, team_a):
    # Given: one new case, and two closed ones
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    fresh = case_create(actor=agent, customer=customer, subject="Fresh")
    closed = []
    for subject in ("Done", "Also done"):
        case = case_create(actor=agent, customer=customer, subject=subject)
        case_transition(actor=agent, case=case, transition="resolve")
        closed.append(case_transition(actor=agent, case=case, transition="close"))
    client.force_login(supervisor)
    # When: "open" all three
    response = client.post(
        "/admin/records/case/",
        {"action": "transition_open", "_selected_action": [fresh.pk, closed[0].pk, closed[1].pk]},
    )
    # Then: the closed ones are refused one by one, the new one is opened
    assert response.status_code == 302
    messages = _messages(response)
    errors = sorted(text for level, text in messages if level == "error")
    assert errors == sorted(
        f"{case.reference} {case.subject}: Case {case.reference} is closed: it cannot open. "
        "Allowed from closed: reopen."
        for case in closed
    )
    assert [text for level, text in messages if level == "success"] == ["1 case(s): open."]
    assert dict(Case.objects.values_list("pk", "status")) == {
        fresh.pk: "open",
        closed[0].pk: "closed",
        closed[1].pk: "closed",
    }


# --- API tokens ---------------------------------------------------------------------------------


def _create_token(client, admin, owner, scopes: list[str]):
    """The answer to an admin's add form for a token of ``owner`` named "ERP sync"."""
    client.force_login(admin)
    data = form_data(client.get("/admin/accounts/apitoken/add/"))
    return client.post(
        "/admin/accounts/apitoken/add/", {**data, "user": owner.pk, "name": "ERP sync", "scopes": scopes}
    )


@pytest.mark.django_db
def test_creating_a_token_shows_the_plaintext_once_and_stores_its_digest(client, admin_user, integration_user):
    # When an admin creates a token
    response = _create_token(client, admin_user, integration_user, ["customers:read", "cases:write"])
    # Then the answer to the form itself shows the token, once, and is not to be cached
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    token = ApiToken.objects.get()
    page = response.content.decode()
    match = re.search(r'data-testid="secret-once">cea_(\w{12})_([\w-]{43})<', page)
    assert match is not None, page
    prefix, secret = match.groups()
    assert page.count(secret) == 1
    assert "Copy it now, it will not be shown again." in page
    assert (token.user_id, token.name, token.scopes, token.prefix) == (
        integration_user.pk,
        "ERP sync",
        ["cases:write", "customers:read"],
        prefix,
    )
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    # Afterwards the secret is nowhere to be seen
    for path in ["/admin/accounts/apitoken/", f"/admin/accounts/apitoken/{token.pk}/change/"]:
        page = client.get(path).content.decode()
        assert secret not in page
        assert prefix in page


TOKEN = re.compile(r"cea_\w{12}_[\w-]{43}")


def _cookie_texts(response) -> list[str]:
    """Every cookie value the response sets, and the messages cookie decoded (signed, maybe compressed)."""
    texts = [morsel.value for morsel in response.cookies.values()]
    storage = CookieStorage(response.wsgi_request)
    if storage.cookie_name in response.cookies and response.cookies[storage.cookie_name].value:
        texts += [message.message for message in storage._decode(response.cookies[storage.cookie_name].value) or []]
    return texts


@pytest.mark.django_db
def test_a_new_tokens_plaintext_travels_in_no_cookie(client, admin_user, integration_user):
    # When an admin creates a token
    response = _create_token(client, admin_user, integration_user, ["cases:read"])
    # Then no cookie the answer sets carries a token, and the creator has it on the page, once
    assert [text for text in _cookie_texts(response) if TOKEN.search(text)] == []
    assert len(TOKEN.findall(response.content.decode())) == 1


@pytest.mark.django_db
def test_a_token_form_without_a_scope_is_refused(client, admin_user, integration_user):
    client.force_login(admin_user)
    data = form_data(client.get("/admin/accounts/apitoken/add/"))
    response = client.post("/admin/accounts/apitoken/add/", {**data, "user": integration_user.pk, "name": "x"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"scopes": ["This field is required."]}
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_the_revoke_action_revokes_the_selected_tokens(client, admin_user, integration_user):
    # Given
    kept, _ = api_token_create(user=integration_user, name="kept", scopes=["cases:read"])
    revoked, _ = api_token_create(user=integration_user, name="revoked", scopes=["cases:read"])
    client.force_login(admin_user)
    # When
    response = client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [revoked.pk]})
    # Then
    assert response.status_code == 302
    assert _messages(response) == [("success", "1 token(s) revoked.")]
    kept.refresh_from_db()
    revoked.refresh_from_db()
    assert kept.revoked_at is None
    assert revoked.revoked_at is not None
