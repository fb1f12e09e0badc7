"""The console for webhooks and the outbox: the secret is write-only, only admins manage."""

from __future__ import annotations

from django.test import Client

from integration.webhooks.models import WebhookSubscription
from tests.integration.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

ADD = "/admin/integration/webhooksubscription/add/"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides) -> dict:
    return {"name": "CRM", "url": "https://crm.example/hooks", "events": ["customer.created"], **overrides}


def test_an_admin_adds_a_subscription_and_sees_the_generated_secret_once(admin_user):
    # Given an admin in the console
    client = _signed_in(admin_user)

    # When they add a subscription leaving the secret blank
    response = client.post(ADD, _form(new_secret=""))

    # Then a secret was generated and shown in the answer to the form, once, and in no cookie
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret.startswith("whsec_")
    assert response.status_code == 200
    assert response.content.decode().count(subscription.secret) == 1
    assert [name for name, morsel in response.cookies.items() if subscription.secret in morsel.OutputString()] == []
    assert subscription.created_by == admin_user
    change_page = client.get(f"/admin/integration/webhooksubscription/{subscription.pk}/change/")
    assert change_page.status_code == 200
    assert subscription.secret not in change_page.content.decode()


def test_a_typed_secret_is_kept_and_a_blank_one_on_change_keeps_it(admin_user):
    # Given a subscription added with a typed secret
    client = _signed_in(admin_user)
    client.post(ADD, _form(new_secret="typed-secret-0123456789"))
    subscription = WebhookSubscription.objects.get()

    # When it is changed without a secret
    response = client.post(
        f"/admin/integration/webhooksubscription/{subscription.pk}/change/",
        _form(name="CRM v2", new_secret=""),
    )

    # Then the name changed and the secret did not
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.secret) == ("CRM v2", "typed-secret-0123456789")


def test_the_console_refuses_a_short_secret_and_a_bad_url(admin_user):
    client = _signed_in(admin_user)

    response = client.post(ADD, _form(url="ftp://crm.example/x", new_secret="short"))

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"url", "new_secret"}
    assert WebhookSubscription.objects.count() == 0


def test_the_enable_action_enables_a_disabled_subscription(admin_user):
    subscription = WebhookSubscriptionFactory(is_active=False, disabled_reason="failures")

    _signed_in(admin_user).post(
        "/admin/integration/webhooksubscription/",
        {"action": "enable", "_selected_action": [subscription.pk]},
    )

    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_reason) == (True, "")


def test_supervisors_cannot_manage_webhooks_but_see_the_outbox(supervisor, admin_user):
    WebhookDeliveryFactory()
    client = _signed_in(supervisor)

    assert client.get("/admin/integration/webhooksubscription/").status_code == 403
    assert client.get("/admin/integration/webhookdelivery/").status_code == 403
    assert client.get("/admin/integration/outboxmessage/").status_code == 200


def test_admins_see_the_delivery_log_and_the_outbox(admin_user):
    delivery = WebhookDeliveryFactory()
    subscription = delivery.subscription
    client = _signed_in(admin_user)

    assert client.get("/admin/integration/webhookdelivery/").status_code == 200
    page = client.get(f"/admin/integration/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and subscription.secret not in page.content.decode()
    assert client.get("/admin/integration/outboxmessage/").status_code == 200
