"""The two modes: stack mode (DATABASE_URL + REDIS_URL) and the embedded default; bad set-ups fail loudly."""

import os
import subprocess
import sys

import pytest

from cea.runtime import embedded


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CEA_DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import cea.settings as s; print(s.DATABASES['default']['NAME'], s.REDIS_URL)"],
        env={**clean, **env},
        cwd=embedded.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stack_mode_reads_both_urls():
    result = _load_settings(
        {"DATABASE_URL": "postgres://u@db.example:5432/cea", "REDIS_URL": "redis://cache:6379/2", "SECRET_KEY": "k"}
    )
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
    result = _load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_embedded_mode_without_running_servers_says_how_to_start_them(tmp_path):
    result = _load_settings({"CEA_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode != 0
    assert "embedded servers are not running" in result.stderr
    assert "make run" in result.stderr


def test_embedded_mode_reads_the_urls_the_runtime_recorded(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    embedded.state_file(root).write_text(
        '{"database_url": "postgres://postgres@%2Ftmp%2Fpg/cea", "redis_url": "redis://127.0.0.1:6390/0"}'
    )
    result = _load_settings({"CEA_DATA_DIR": str(root)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cea", "redis://127.0.0.1:6390/0"]
    assert (root / "secret_key").exists()
