"""Settings come from the environment through typed readers that refuse malformed values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from cea.common.env import env_bool, env_int, env_list, env_optional, env_rate, env_str, env_url, parse_rate


def test_env_bool_reads_the_usual_spellings(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False), ("", False)]:
        monkeypatch.setenv("CEA_FLAG", raw)
        assert env_bool("CEA_FLAG", not expected) is expected
    monkeypatch.delenv("CEA_FLAG")
    assert env_bool("CEA_FLAG", True) is True


def test_env_bool_fails_loudly_on_anything_else(monkeypatch):
    monkeypatch.setenv("CEA_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="CEA_FLAG='maybe' is not a boolean"):
        env_bool("CEA_FLAG", False)


def test_env_int_checks_type_and_bounds(monkeypatch):
    monkeypatch.setenv("CEA_N", "42")
    assert env_int("CEA_N", 1, minimum=1, maximum=100) == 42
    monkeypatch.setenv("CEA_N", "4x")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("CEA_N", 1)
    monkeypatch.setenv("CEA_N", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("CEA_N", 5, minimum=1)
    monkeypatch.setenv("CEA_N", "101")
    with pytest.raises(ImproperlyConfigured, match="above the maximum of 100"):
        env_int("CEA_N", 5, maximum=100)


def test_env_url_checks_the_scheme(monkeypatch):
    monkeypatch.setenv("CEA_URL", "mysql://db/x")
    with pytest.raises(ImproperlyConfigured, match="scheme postgres or postgresql"):
        env_url("CEA_URL", schemes=("postgres", "postgresql"))
    monkeypatch.setenv("CEA_URL", "postgres://db/x")
    assert env_url("CEA_URL", schemes=("postgres",)) == "postgres://db/x"
    monkeypatch.setenv("CEA_URL", "")
    assert env_url("CEA_URL", schemes=("postgres",)) is None


def test_secrets_may_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("CEA_SECRET_FILE", str(secret))
    assert env_str("CEA_SECRET") == "s3cret"
    monkeypatch.setenv("CEA_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=r"CEA_SECRET_FILE=.* cannot be read"):
        env_optional("CEA_SECRET")


def test_required_values_and_lists(monkeypatch):
    monkeypatch.delenv("CEA_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="CEA_REQUIRED is required"):
        env_str("CEA_REQUIRED")
    monkeypatch.setenv("CEA_HOSTS", " a.example, b.example ,,")
    assert env_list("CEA_HOSTS", []) == ["a.example", "b.example"]


@pytest.mark.parametrize(("value", "expected"), [("60/min", (60, 60)), ("5/s", (5, 1)), ("1000/day", (1000, 86400))])
def test_a_rate_is_requests_per_period(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["60", "60/week", "0/min", "-1/min", "many/min", "/min"])
def test_a_malformed_rate_fails_at_start(monkeypatch, value):
    monkeypatch.setenv("CEA_THROTTLE_DEFAULT", value)
    with pytest.raises(ImproperlyConfigured, match="CEA_THROTTLE_DEFAULT="):
        env_rate("CEA_THROTTLE_DEFAULT", "60/min")
