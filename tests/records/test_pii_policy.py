"""The redaction policy administrators set in the console, and the redactor reading it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from cea.common import pii
from cea.common.errors import PermissionDenied, ValidationFailed
from records.privacy import pii_policy as policy_module
from records.privacy.models import PiiPolicy
from records.privacy.pii_policy import pii_policy_current, pii_policy_update

MESSAGE = "card 4111 1111 1111 1111 cvv 123, mail jo@example.com, tel +44 7911 123456"


@pytest.fixture(autouse=True)
def _fresh_policy():
    policy_module._loaded = None  # another test's policy, read less than a second ago
    yield
    policy_module._loaded = None


@pytest.mark.django_db
def test_without_a_row_the_default_policy_applies():
    assert pii_policy_current() == pii.DEFAULT_POLICY
    assert pii.redact_text(MESSAGE) == "card 411111******1111 cvv [CVV], mail [EMAIL], tel [PHONE]"


@pytest.mark.django_db
def test_the_redactor_reads_the_policy_an_administrator_set(admin_user):
    # Given an administrator's policy: cards by label, e-mail kept, phones generic
    pii_policy_update(actor=admin_user, modes={"card_mode": "label", "email_mode": "keep", "phone_mode": "generic"})

    # When a message is redacted with the configured policy
    redacted = pii.redact_text(MESSAGE)

    # Then
    assert redacted == "card [CARD] cvv [CVV], mail jo@example.com, tel [PII]"
    row = PiiPolicy.objects.get()
    assert (row.pk, row.updated_by, row.iban_mode) == (1, admin_user, "label")


@pytest.mark.django_db
def test_a_change_is_seen_at_once_in_this_process_and_by_others_through_the_shared_version(admin_user):
    # Given the policy read (and cached) by this process
    assert pii_policy_current().email is pii.Mode.LABEL
    version = cache.get(policy_module.VERSION_KEY)

    # When an administrator changes it
    pii_policy_update(actor=admin_user, modes={"email_mode": "generic"})

    # Then this process reads the new one, and the shared version moved for the others
    assert pii_policy_current().email is pii.Mode.GENERIC
    assert cache.get(policy_module.VERSION_KEY) != version


@pytest.mark.django_db
def test_another_process_change_is_picked_up_once_the_version_moves(admin_user, monkeypatch):
    # Given this process has the default policy in memory
    assert pii_policy_current().phone is pii.Mode.LABEL
    # When another process writes the row and moves the version (simulated: no in-process reset)
    PiiPolicy.objects.create(pk=1, phone_mode="keep")
    cache.set(policy_module.VERSION_KEY, "another-process", None)
    monkeypatch.setattr(policy_module, "VERSION_CHECK_SECONDS", 0.0)
    # Then the next read reloads it
    assert pii_policy_current().phone is pii.Mode.KEEP


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_only_an_administrator_changes_the_policy(request, role):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        pii_policy_update(actor=actor, modes={"email_mode": "keep"})
    assert not PiiPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("modes", "field"),
    [
        ({"card_mode": "keep"}, "card_mode"),
        ({"email_mode": "partial"}, "email_mode"),
        ({"phone_mode": "shout"}, "phone_mode"),
        ({"cvv_mode": "keep"}, "cvv_mode"),
    ],
)
def test_a_policy_keeping_cards_or_with_unknown_modes_is_refused_and_nothing_written(admin_user, modes, field):
    with pytest.raises(ValidationFailed) as refused:
        pii_policy_update(actor=admin_user, modes=modes)
    assert field in refused.value.fields
    assert not PiiPolicy.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_row_and_a_kept_card():
    from django.db import IntegrityError, transaction

    PiiPolicy.objects.create(pk=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PiiPolicy.objects.create(pk=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        PiiPolicy.objects.filter(pk=1).update(card_mode="keep")


def test_when_the_policy_cannot_be_read_the_default_applies(monkeypatch):
    # Given a provider that fails (no database here: this test has no db mark)
    monkeypatch.setattr(pii.redact, "_provider", pii_policy_current)
    # Then redaction still happens, with the default policy
    assert pii.redact_text("card 4111111111111111") == "card 411111******1111"


# --- The console --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_administrator_opens_the_one_policy_page_and_changes_it(client, admin_user):
    client.force_login(admin_user)
    # The list goes to the one row's page (made with the defaults)
    response = client.get("/admin/records/piipolicy/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/records/piipolicy/1/change/"
    page = client.get("/admin/records/piipolicy/1/change/")
    assert page.status_code == 200
    # Keep is not offered for cards
    assert [value for value, _ in page.context["adminform"].form.fields["card_mode"].choices] == [
        "label",
        "generic",
        "partial",
    ]
    # When it posts a change
    fields = {"card_mode": "label", "iban_mode": "label", "national_id_mode": "generic", "phone_mode": "keep"}
    response = client.post("/admin/records/piipolicy/1/change/", {**fields, "email_mode": "keep"})
    # Then it is saved through the service and read by the redactor
    assert response.status_code == 302
    assert pii.redact_text(MESSAGE) == "card [CARD] cvv [CVV], mail jo@example.com, tel +44 7911 123456"
    assert PiiPolicy.objects.get().updated_by == admin_user


@pytest.mark.django_db
def test_the_console_refuses_a_kept_card(client, admin_user):
    client.force_login(admin_user)
    client.get("/admin/records/piipolicy/")
    fields = {"iban_mode": "label", "national_id_mode": "label", "phone_mode": "label", "email_mode": "label"}
    response = client.post("/admin/records/piipolicy/1/change/", {**fields, "card_mode": "keep"})
    assert response.status_code == 200
    assert "card_mode" in response.context["adminform"].form.errors
    assert PiiPolicy.objects.get().card_mode == "partial"


@pytest.mark.django_db
def test_there_is_no_second_policy_to_add_and_none_to_delete(client, admin_user):
    client.force_login(admin_user)
    client.get("/admin/records/piipolicy/")
    assert client.get("/admin/records/piipolicy/add/").status_code == 403
    assert client.get("/admin/records/piipolicy/1/delete/").status_code == 403


@pytest.mark.django_db
def test_a_supervisor_reads_the_policy_but_cannot_change_it(client, supervisor, admin_user):
    pii_policy_update(actor=admin_user, modes={})
    client.force_login(supervisor)
    assert client.get("/admin/records/piipolicy/1/change/").status_code == 200
    client.post("/admin/records/piipolicy/1/change/", {"card_mode": "label", "email_mode": "keep"})
    assert PiiPolicy.objects.get().email_mode == "label"


@pytest.mark.django_db
def test_an_agent_cannot_open_the_policy(client, agent, admin_user):
    pii_policy_update(actor=admin_user, modes={})
    client.force_login(agent)
    response = client.get("/admin/records/piipolicy/1/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_a_change_is_in_the_policy_history(admin_user):
    pii_policy_update(actor=admin_user, modes={"email_mode": "keep"})
    pii_policy_update(actor=admin_user, modes={"email_mode": "generic"})
    events = PiiPolicy.pgh_event_model.objects.order_by("pgh_id").values_list("pgh_label", "email_mode")
    assert list(events) == [("insert", "label"), ("update", "keep"), ("update", "generic")]


@pytest.mark.django_db
def test_a_policy_read_before_serves_while_the_database_cannot_be_queried(admin_user, monkeypatch):
    # Given the administrator's policy read by this process
    pii_policy_update(actor=admin_user, modes={"email_mode": "keep"})
    assert pii_policy_current().email is pii.Mode.KEEP
    # When the version moves but the row cannot be read (an async context, the database away)
    cache.set(policy_module.VERSION_KEY, "another-process", None)
    monkeypatch.setattr(policy_module, "VERSION_CHECK_SECONDS", 0.0)

    def unreachable(*args, **kwargs):
        raise RuntimeError("no query here")

    monkeypatch.setattr(PiiPolicy.objects, "filter", unreachable)
    # Then the policy read before still applies, not the default
    assert pii.redact_text("mail jo@example.com") == "mail jo@example.com"
