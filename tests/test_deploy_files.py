"""The container image and the compose layout (Dockerfile, deploy/): what they run is real.

Docker is not run here; these tests read the files. Each command of a CEA service is a real
module, Celery app or management command; each file the Dockerfile and the compose file name
exists; each variable they set is a setting the README documents; the layout is the one
docs/deploying.md describes (two web processes behind the balancer, two workers, exactly one beat,
a migrate one-shot the others wait for).
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.test_readme_settings import _variables_in_the_readme_table

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CEA_IMAGE = "cea:latest"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _cea_services() -> dict[str, dict]:
    """The services that run CEA's image (YAML anchors and merges resolved by the parser)."""
    return {name: service for name, service in _compose()["services"].items() if service.get("image") == CEA_IMAGE}


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _default_command() -> list[str]:
    """The Dockerfile's CMD, as an argument list (the shell form's script split as the shell would)."""
    match = re.search(r"^CMD (\[.*\])$", _dockerfile(), re.MULTILINE)
    assert match, "the Dockerfile has a CMD in exec form"
    argv = yaml.safe_load(match[1])  # a JSON array is YAML
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(argv[2])
    return argv[1:] if argv[0] == "exec" else argv


def _check_command(argv: list[str]) -> str:
    """What ``argv`` runs, having checked it exists: a module, the Celery app, a management command."""
    if argv[0] == "uvicorn":
        module, _, attribute = argv[1].partition(":")
        assert hasattr(importlib.import_module(module), attribute), argv[1]
        return "web"
    if argv[0] == "celery":
        assert argv[1:3] == ["-A", "cea"] and (ROOT / "cea" / "celery.py").exists()
        assert argv[3] in ("worker", "beat"), argv
        if "--scheduler" in argv:
            module, _, name = argv[argv.index("--scheduler") + 1].partition(":")
            assert hasattr(importlib.import_module(module), name)
        return argv[3]
    if argv[:2] == ["python", "manage.py"]:
        assert argv[2] in get_commands(), f"{argv[2]} is no management command"
        return argv[2]
    raise AssertionError(f"an unknown command: {argv}")


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, _, command in (line.partition(": ") for line in lines if line)}


def test_the_image_runs_the_procfiles_web_command_by_default_as_a_user_not_root():
    # Given
    dockerfile = _dockerfile()
    # When
    command = _default_command()
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    # Then: the web process, with the Procfile's flags
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)[-1] == "python:3.11-slim"
    assert _check_command(command) == "web"
    assert command == _procfile()["web"]
    assert users and users[-1] not in ("root", "0")
    assert "EXPOSE 8000" in dockerfile


def test_the_image_compiles_translations_and_collects_static_files_from_files_that_exist():
    # Given
    dockerfile = _dockerfile()
    # When: the files it copies from the build context
    copied = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ") and "--from" not in line]
    # Then
    assert copied == ["requirements.txt", "."]
    assert all((ROOT / path).exists() for path in copied)
    assert "pip install -r /tmp/requirements.txt" in dockerfile
    assert "python -m cea.common.translations" in dockerfile
    assert (ROOT / "cea" / "common" / "translations.py").exists()
    assert "python manage.py collectstatic --no-input" in dockerfile
    assert "collectstatic" in get_commands()


def test_the_build_context_leaves_out_local_environments_and_data():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", ".data", "staticfiles", "deploy/secrets"} <= set(ignored)


def test_each_cea_service_runs_a_real_command_in_the_layout_of_the_docs():
    # Given
    services = _cea_services()
    # When: what each runs (the image's default command when it names none), and how many of it
    runs = {name: _check_command(service.get("command") or _default_command()) for name, service in services.items()}
    replicas = {name: service.get("deploy", {}).get("replicas", 1) for name, service in services.items()}

    def count(kind: str) -> int:
        return sum(replicas[name] for name, runs_ in runs.items() if runs_ == kind)

    # Then: two web processes, two workers, exactly one beat, a migrate one-shot
    assert (count("web"), count("worker"), count("beat"), count("migrate")) == (2, 2, 1, 1)
    assert services["migrate"]["restart"] == "no"
    for name, kind in runs.items():
        if kind != "migrate":
            assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name


def test_the_web_services_are_checked_by_their_readiness_probe():
    for name, service in _cea_services().items():
        if not service.get("command"):  # the web processes
            assert "/health/ready/" in " ".join(service["healthcheck"]["test"]), name


def test_every_variable_the_cea_services_set_is_a_documented_setting():
    # Given: the README's settings table, and the two variables of the Procfile's web line
    documented = _variables_in_the_readme_table()
    # When: every variable set on a CEA service (a <NAME>_FILE is <NAME> read from a file)
    used = {
        variable.removesuffix("_FILE") for service in _cea_services().values() for variable in service["environment"]
    }
    instructions = _dockerfile().replace("\\\n", " ").splitlines()  # continuation lines joined
    set_in_image = {
        name for line in instructions if line.startswith("ENV ") for name in re.findall(r"([A-Z][A-Z0-9_]*)=", line)
    }
    # Then
    assert "DATABASE_URL" in used and "SECRET_KEY" in used
    assert sorted(used - documented) == []
    python_and_pip = {
        "PATH",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
    }
    assert {"CEA_DATA_DIR", "PORT", "WEB_CONCURRENCY"} <= set_in_image
    assert sorted(set_in_image - documented - python_and_pip - {"DJANGO_SETTINGS_MODULE"}) == []


@pytest.mark.parametrize("secret", ["postgres_password", "database_url", "secret_key", "identity_hash_key"])
def test_each_secret_is_a_file_under_deploy_secrets_that_git_and_the_image_leave_out(secret):
    # Given
    compose = _compose()
    # Then: declared as a file of deploy/secrets/ (made by whoever deploys: the compose file's header says how)
    assert compose["secrets"][secret] == {"file": f"./secrets/{secret}"}
    assert f"deploy/secrets/{secret}" in (DEPLOY / "compose.yaml").read_text()


def test_the_balancer_sends_to_both_web_processes_and_passes_websocket_upgrades():
    # Given
    compose = _compose()
    config = (DEPLOY / "nginx.conf").read_text()
    web = sorted(name for name, service in _cea_services().items() if not service.get("command"))
    # When
    mounted = [volume.split(":")[0] for volume in compose["services"]["balancer"]["volumes"]]
    upstream = re.findall(r"^\s+server (\S+):8000", config, re.MULTILINE)
    # Then
    assert "./nginx.conf" in mounted
    assert sorted(upstream) == web == ["web-1", "web-2"]
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header Connection $connection_upgrade;" in config
    assert "proxy_http_version 1.1;" in config
    assert "ip_hash" not in config and "sticky" not in config  # no stickiness: Channels fans out through Redis
