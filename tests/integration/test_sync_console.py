"""The console for connectors and sync: administrators only for connectors, secrets never shown, run now, replay."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django_celery_beat.models import PeriodicTask

from integration.connectors.models import Connector
from integration.sample_systems import customer_master
from integration.sync.models import ProcessedFile, RunStatus, SyncFailure, SyncRun
from integration.sync.services import connector_sync
from tests.integration.flatfile_support import drop_extract, flatfile_connector
from tests.support import eager_celery

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


def connector_form(folder, **changes) -> dict:
    data = {
        "name": "custmast",
        "label": "Customer master",
        "kind": "flatfile",
        "system": "customer_master",
        "is_active": "on",
        "settings": json.dumps(customer_master.connector_settings(folder, schedule_seconds=86400)),
        "mappings": json.dumps(customer_master.MAPPINGS),
        "credential_env": "",
        "credential_file": "",
        "timeout_seconds": "3.0",
        "cache_seconds": "60",
    }
    return {**data, **changes}


def test_only_administrators_see_connectors_and_runs(client, supervisor, admin_user, tmp_path):
    flatfile_connector(tmp_path)

    client.force_login(supervisor)
    assert client.get("/admin/integration/connector/").status_code == 403
    assert client.get("/admin/integration/syncrun/").status_code == 403

    client.force_login(admin_user)
    assert client.get("/admin/integration/connector/").status_code == 200


def test_a_connector_saved_in_the_console_gets_its_schedule(client, admin_user, tmp_path):
    client.force_login(admin_user)

    response = client.post("/admin/integration/connector/add/", connector_form(tmp_path))

    assert response.status_code == 302, response.context["adminform"].form.errors
    connector = Connector.objects.get(name="custmast")
    task = PeriodicTask.objects.get(name="integration: sync custmast")
    assert (task.interval.every, task.args) == (86400, f'[{connector.pk}, "schedule"]')


def test_secrets_are_refused_in_settings_and_never_shown(client, admin_user, tmp_path, monkeypatch):
    monkeypatch.setenv("CEA_CONNECTOR_CUSTMAST_SECRET", "s3cr3t-never-shown")
    client.force_login(admin_user)
    settings = {**customer_master.connector_settings(tmp_path), "password": "hunter2"}

    refused = client.post("/admin/integration/connector/add/", connector_form(tmp_path, settings=json.dumps(settings)))
    saved = client.post(
        "/admin/integration/connector/add/", connector_form(tmp_path, credential_env="CEA_CONNECTOR_CUSTMAST_SECRET")
    )

    assert refused.status_code == 200
    assert "Secrets are not kept in settings (password)" in str(refused.context["adminform"].form.errors)
    assert saved.status_code == 302
    page = client.get(f"/admin/integration/connector/{Connector.objects.get().pk}/change/")
    assert b"CEA_CONNECTOR_CUSTMAST_SECRET" in page.content
    assert b"s3cr3t-never-shown" not in page.content


def test_a_bad_layout_is_refused_with_the_reason(client, admin_user, tmp_path):
    client.force_login(admin_user)
    settings = customer_master.connector_settings(tmp_path)
    settings["layout"] = [*settings["layout"], {"name": "EXTRA", "start": 200, "length": 10}]

    response = client.post("/admin/integration/connector/add/", connector_form(tmp_path, settings=json.dumps(settings)))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"settings": ["layout: Fields 'OPENED' and 'EXTRA' overlap."]}
    assert not Connector.objects.exists()


def test_run_now_syncs_on_demand(client, admin_user, tmp_path, django_capture_on_commit_callbacks):
    drop_extract(tmp_path, 8)
    connector = flatfile_connector(tmp_path)
    client.force_login(admin_user)
    eager = eager_celery()
    next(eager)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/integration/connector/", {"action": "run_now", "_selected_action": [connector.pk]}
            )
    finally:
        next(eager, None)

    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.created) == ("on_demand", RunStatus.SUCCEEDED, 8)


def test_runs_and_files_are_read_only_with_their_counts(client, admin_user, tmp_path):
    drop_extract(tmp_path, 20, bad_every=10)
    connector = flatfile_connector(tmp_path)
    run = connector_sync(connector_id=connector.pk)
    client.force_login(admin_user)

    listing = client.get("/admin/integration/syncrun/")

    assert list(listing.context["cl"].result_list) == [run]
    assert client.get("/admin/integration/syncrun/add/").status_code == 403
    detail = client.get(f"/admin/integration/syncrun/{run.pk}/change/")
    assert detail.status_code == 200 and b"Save" not in detail.content
    assert client.post(f"/admin/integration/syncrun/{run.pk}/delete/").status_code == 403
    assert client.get(f"/admin/integration/processedfile/{ProcessedFile.objects.get().pk}/change/").status_code == 200
    assert client.get("/admin/integration/processedfile/add/").status_code == 403


def test_replay_from_the_dead_letter_list(client, admin_user, supervisor, tmp_path):
    drop_extract(tmp_path, 10, bad_every=2)
    connector = flatfile_connector(tmp_path)
    connector_sync(connector_id=connector.pk)
    nameless = SyncFailure.objects.get(reason__startswith="A customer needs a name")
    nameless.payload["fields"]["given_name"] = "Named"
    nameless.save()

    # A supervisor can neither read the list nor replay from it
    client.force_login(supervisor)
    assert client.get("/admin/integration/syncfailure/").status_code == 403
    client.post("/admin/integration/syncfailure/", {"action": "replay", "_selected_action": [nameless.pk]})
    nameless.refresh_from_db()
    assert nameless.resolved_at is None

    client.force_login(admin_user)
    response = client.post(
        "/admin/integration/syncfailure/", {"action": "replay", "_selected_action": [nameless.pk]}, follow=True
    )

    nameless.refresh_from_db()
    assert nameless.resolved_at is not None
    replay = SyncRun.objects.get(trigger="replay")
    assert f"Replay run {replay.pk} (custmast): 1 loaded, 0 failed again." in _messages(response)
