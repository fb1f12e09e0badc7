"""The two modes: stack mode (DATABASE_URL + REDIS_URL) and the embedded default; bad set-ups fail loudly."""

import json
import os
import subprocess
import sys

import pytest

from cea.runtime import embedded

# What the test run itself may have set (tests/settings.py, the Makefile): each test states its own.
_INHERITED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_BACKEND", "DJANGO_SETTINGS_MODULE"}

STACK = {"DATABASE_URL": "postgres://u@db.example:5432/cea", "REDIS_URL": "redis://cache:6379/2", "SECRET_KEY": "k"}
REAL_SENDERS = {"CEA_SMS_SENDER": "sms_provider.Sender", "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _INHERITED and not k.startswith("CEA_")}


def load_settings(
    env: dict[str, str],
    code: str = "import cea.settings as s; print(s.DATABASES['default']['NAME'], s.REDIS_URL)",
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean_environment(), **env},
        cwd=embedded.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stack_mode_reads_both_urls():
    result = load_settings({**STACK, **REAL_SENDERS})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cea", "redis://cache:6379/2"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgres://u@db/cea", "SECRET_KEY": "k"}, "stack mode needs both"),
        ({"DATABASE_URL": "mysql://u@db/cea", "REDIS_URL": "redis://c", "SECRET_KEY": "k"}, "scheme postgres"),
        ({"DATABASE_URL": "postgres://u@db/cea", "REDIS_URL": "redis://c"}, "SECRET_KEY is required"),
        (
            {
                "DATABASE_URL": "postgres://u@db/cea",
                "REDIS_URL": "redis://c",
                "SECRET_KEY": "k",
                "CEA_DEBUG": "perhaps",
            },
            "not a boolean",
        ),
    ],
)
def test_a_broken_stack_configuration_fails_at_start(env, message):
    result = load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_embedded_mode_without_running_servers_says_how_to_start_them(tmp_path):
    result = load_settings({"CEA_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode != 0
    assert "embedded servers are not running" in result.stderr
    assert "make run" in result.stderr


def test_embedded_mode_reads_the_urls_the_runtime_recorded(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    embedded.state_file(root).write_text(
        '{"database_url": "postgres://postgres@%2Ftmp%2Fpg/cea", "redis_url": "redis://127.0.0.1:6390/0"}'
    )
    result = load_settings({"CEA_DATA_DIR": str(root)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cea", "redis://127.0.0.1:6390/0"]
    assert (root / "secret_key").exists()


def test_a_child_of_the_embedded_runtime_gets_the_servers_and_secret_from_one_place(tmp_path):
    # Given: the environment `python -m cea.runtime` exports to its children (make test, make run)
    urls = embedded.EmbeddedUrls(
        database_url="postgres://postgres@%2Frun%2Fpg/cea", redis_url="redis://:pw@127.0.0.1:7/0"
    )
    env = embedded.environment(urls, tmp_path / "data")
    # When: a child loads the settings with nothing else set
    result = load_settings(
        env, code="import cea.settings as s; print(s.EMBEDDED, s.DATABASES['default']['HOST'], s.SECRET_KEY)"
    )
    # Then: it is in embedded mode, on the embedded servers, with the data folder's generated secret
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "data" / "secret_key").read_text().strip()
    assert result.stdout.split() == ["True", "/run/pg", secret]
    assert env["REDIS_URL"] == "redis://:pw@127.0.0.1:7/0"
    assert len(secret) >= 50


# --- Stack mode sends real SMS and email -----------------------------------------------------------


@pytest.mark.parametrize(
    ("senders", "variable"),
    [
        ({"EMAIL_BACKEND": REAL_SENDERS["EMAIL_BACKEND"]}, "CEA_SMS_SENDER"),
        ({**REAL_SENDERS, "CEA_SMS_SENDER": "engagement.idv.senders.ConsoleSmsSender"}, "CEA_SMS_SENDER"),
        ({**REAL_SENDERS, "CEA_SMS_SENDER": "engagement.idv.senders.LocmemSmsSender"}, "CEA_SMS_SENDER"),
        ({"CEA_SMS_SENDER": REAL_SENDERS["CEA_SMS_SENDER"]}, "EMAIL_BACKEND"),
        ({**REAL_SENDERS, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "EMAIL_BACKEND"),
        ({**REAL_SENDERS, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, "EMAIL_BACKEND"),
        ({**REAL_SENDERS, "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}, "EMAIL_BACKEND"),
    ],
)
def test_stack_mode_refuses_to_start_with_a_sender_that_sends_nothing(senders, variable):
    # When: stack mode, not debugging, one of the senders only prints or keeps its messages
    result = load_settings({**STACK, **senders})
    # Then: the start fails, naming the variable to set
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}=" in result.stderr
    assert "CEA_ALLOW_CONSOLE_SENDERS=1" in result.stderr


@pytest.mark.parametrize("allowed", [{"CEA_DEBUG": "1"}, {"CEA_ALLOW_CONSOLE_SENDERS": "1"}])
def test_stack_mode_starts_with_console_senders_when_debugging_or_explicitly_allowed(allowed):
    result = load_settings(
        {**STACK, **allowed}, code="import cea.settings as s; print(s.CEA_SMS_SENDER, s.EMAIL_BACKEND)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "engagement.idv.senders.ConsoleSmsSender",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_a_replica_url_adds_a_pooled_replica_alias_that_tests_mirror():
    # Given stack mode and CEA_REPLICA_DATABASE_URL, with a pool of 7
    code = (
        "import json, cea.settings as s; r = s.DATABASES['replica']; d = s.DATABASES['default']; "
        "print(json.dumps([r['HOST'], r['NAME'], r['TEST'], r['OPTIONS']['pool'], d['OPTIONS']['pool'], "
        "s.DATABASE_ROUTERS, s.REPLICA_MAX_LAG_SECONDS]))"
    )
    env = {**STACK, **REAL_SENDERS, "CEA_REPLICA_DATABASE_URL": "postgres://ro@replica.example:5432/cea"}
    # When the settings load
    result = load_settings({**env, "CEA_DB_POOL_MAX_SIZE": "7"}, code=code)
    # Then the replica alias names the replica, is pooled with the primary's options under its own
    # name, mirrors "default" in tests, and the router is installed with the default lag bound
    assert result.returncode == 0, result.stderr
    host, name, test, pool, default_pool, routers, max_lag = json.loads(result.stdout)
    assert (host, name, test) == ("replica.example", "cea", {"MIRROR": "default"})
    assert pool == {**default_pool, "name": "cea-replica"}
    assert pool["max_size"] == 7
    assert routers == ["cea.common.replica.ReplicaRouter"]
    assert max_lag == 30


def test_without_a_replica_url_there_is_no_replica_alias_and_a_malformed_one_fails():
    # Given stack mode without CEA_REPLICA_DATABASE_URL / When the settings load / Then only "default"
    result = load_settings({**STACK, **REAL_SENDERS}, code="import cea.settings as s; print(sorted(s.DATABASES))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['default']"]
    # And a replica URL that is no PostgreSQL URL stops the start, naming the variable
    result = load_settings({**STACK, **REAL_SENDERS, "CEA_REPLICA_DATABASE_URL": "mysql://ro@replica/cea"})
    assert result.returncode != 0
    assert "CEA_REPLICA_DATABASE_URL must be a URL with scheme postgres" in result.stderr
