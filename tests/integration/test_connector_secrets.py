"""A connector's secret comes only from an allowed environment variable (a prefix) or an allowed
folder: never SECRET_KEY, DATABASE_URL or /etc/shadow shipped to an external URL."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from cea import settings as settings_module
from cea.runtime import embedded
from integration.connectors.base import ConnectorError, connector_for
from integration.connectors.models import Connector
from tests.integration.test_sync_console import connector_form

pytestmark = pytest.mark.django_db

ADD = "/admin/integration/connector/add/"


@pytest.fixture
def secret_dir(settings, tmp_path) -> Path:
    folder = tmp_path / "connector-secrets"
    folder.mkdir()
    (folder / "billing-key").write_text("s3cret\n")
    settings.CEA_CONNECTOR_SECRET_DIR = str(folder)
    settings.CEA_CONNECTOR_SECRET_ENV_PREFIX = "CEA_CONNECTOR_"
    return folder


@pytest.fixture
def outside(tmp_path) -> Path:
    """A readable file that is not a connector's secret (as .data/secret_key or /etc/shadow would be)."""
    path = tmp_path / "secret_key"
    path.write_text("the-django-secret-key")
    return path


def _rest(**credentials) -> Connector:
    return Connector(name="billing", kind="rest", system="billing", settings={"base_url": "http://x"}, **credentials)


def test_the_defaults(monkeypatch, tmp_path):
    # The prefix as the settings read it without the variable; the folder is in the data folder
    assert settings_module.CEA_CONNECTOR_SECRET_ENV_PREFIX == "CEA_CONNECTOR_"
    monkeypatch.delenv("CEA_CONNECTOR_SECRET_DIR", raising=False)
    monkeypatch.setenv("CEA_DATA_DIR", str(tmp_path))
    assert embedded.connector_secret_dir() == tmp_path.resolve() / "connector-secrets"
    monkeypatch.setenv("CEA_CONNECTOR_SECRET_DIR", str(tmp_path / "elsewhere"))
    assert embedded.connector_secret_dir() == tmp_path.resolve() / "elsewhere"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            "credential_env",
            "SECRET_KEY",
            "Only environment variables whose name starts with CEA_CONNECTOR_ may hold a connector's secret.",
        ),
        (
            "credential_env",
            "DATABASE_URL",
            "Only environment variables whose name starts with CEA_CONNECTOR_ may hold a connector's secret.",
        ),
        ("credential_file", "/etc/shadow", "The secret file must be inside the folder {dir}."),
        ("credential_file", "{dir}/../secret_key", "The secret file must be inside the folder {dir}."),
        ("credential_file", "{dir}/link", "The secret file must be inside the folder {dir}."),
    ],
)
def test_the_console_refuses_a_secret_outside_the_allow_list(
    client, admin_user, secret_dir, outside, tmp_path, field, value, error
):
    # Given a link inside the folder that leads out of it
    (secret_dir / "link").symlink_to(outside)
    client.force_login(admin_user)
    # When an admin names the secret
    response = client.post(ADD, connector_form(tmp_path, **{field: value.format(dir=secret_dir)}))
    # Then the form refuses it on its field and nothing is saved
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [error.format(dir=secret_dir)]}
    assert Connector.objects.count() == 0


def test_the_console_accepts_a_secret_inside_the_allow_list(client, admin_user, secret_dir, tmp_path):
    client.force_login(admin_user)
    response = client.post(ADD, connector_form(tmp_path, credential_file=str(secret_dir / "billing-key")))
    assert response.status_code == 302
    response = client.post(ADD, connector_form(tmp_path, name="custmast2", credential_env="CEA_CONNECTOR_CUSTMAST_KEY"))
    assert response.status_code == 302
    assert Connector.objects.count() == 2


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL"])
def test_a_stored_connector_naming_another_variable_gets_no_secret(secret_dir, monkeypatch, name):
    # Given a connector saved before the rule (or written around the console) naming a variable that is set
    monkeypatch.setenv(name, "the-real-thing")
    connector = connector_for(_rest(credential_env=name))
    # When it asks for its secret
    with pytest.raises(ConnectorError) as refused:
        connector.secret()
    # Then it is refused for good, without the value
    assert refused.value.permanent is True
    assert refused.value.message == (
        f"Connector billing: the environment variable {name} does not start with CEA_CONNECTOR_; "
        "it may not hold a connector's secret."
    )


def test_a_stored_connector_naming_a_file_outside_the_folder_gets_no_secret(secret_dir, outside):
    (secret_dir / "link").symlink_to(outside)
    for path in [str(outside), f"{secret_dir}/../secret_key", str(secret_dir / "link")]:
        with pytest.raises(ConnectorError) as refused:
            connector_for(_rest(credential_file=path)).secret()
        assert refused.value.permanent is True
        assert refused.value.message == f"Connector billing: its secret file is not inside {secret_dir}."


def test_allowed_secrets_are_read(secret_dir, monkeypatch):
    monkeypatch.setenv("CEA_CONNECTOR_BILLING_KEY", "from-env")
    assert connector_for(_rest(credential_env="CEA_CONNECTOR_BILLING_KEY")).secret() == "from-env"
    assert connector_for(_rest(credential_file=str(secret_dir / "billing-key"))).secret() == "s3cret"
    # A relative name is a file in the folder
    assert connector_for(_rest(credential_file="billing-key")).secret() == "s3cret"


def test_the_demo_connectors_keep_their_secrets_in_the_allowed_folder(settings, tmp_path):
    # Given the allowed folder
    settings.CEA_CONNECTOR_SECRET_DIR = str(tmp_path / "connector-secrets")
    # When the demo connectors are loaded as `make run` loads them (no --secrets-dir of their own)
    arguments = ["--port-base", "18100", "--legacy-db-url", "sqlite:////tmp/x.db"]
    call_command("load_demo_connectors", *arguments, stdout=io.StringIO())
    # Then their secret files are in it, and each connector reads its secret
    billing, orders = Connector.objects.get(name="billing"), Connector.objects.get(name="orders")
    assert billing.credential_file == str(tmp_path / "connector-secrets" / "sample-systems" / "billing-password")
    for connector in (billing, orders):
        assert connector_for(connector).secret() == Path(connector.credential_file).read_text().strip()
    assert os.stat(billing.credential_file).st_mode & 0o777 == 0o600
