"""Providers' signatures and credentials: the documented examples, and refusals."""

from __future__ import annotations

import pytest

from engagement.adapters.credentials import MissingCredential, credential, credential_variable
from engagement.adapters.signatures import (
    meta_signature,
    meta_signature_valid,
    twilio_signature,
    twilio_signature_valid,
)

# Twilio's documented example ("Webhooks security"): the auth token, URL and form parameters
# below give this signature.
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675310"),
    ("Digits", "1234"),
    ("From", "+14158675310"),
    ("To", "+18005551212"),
]
TWILIO_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_twilio_signature_matches_the_documented_example():
    assert twilio_signature(auth_token=TWILIO_TOKEN, url=TWILIO_URL, params=TWILIO_PARAMS) == TWILIO_SIGNATURE


def test_twilio_signature_is_refused_for_a_changed_parameter_an_empty_one_or_another_token():
    changed = [*TWILIO_PARAMS[:-1], ("To", "+18005551213")]
    assert twilio_signature_valid(
        auth_token=TWILIO_TOKEN, url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE
    )
    assert not twilio_signature_valid(
        auth_token=TWILIO_TOKEN, url=TWILIO_URL, params=changed, signature=TWILIO_SIGNATURE
    )
    assert not twilio_signature_valid(
        auth_token="other", url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE
    )
    assert not twilio_signature_valid(auth_token=TWILIO_TOKEN, url=TWILIO_URL, params=TWILIO_PARAMS, signature="")


def test_meta_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    body = b'{"object":"whatsapp_business_account"}'
    signature = meta_signature(app_secret="app-secret", body=body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert meta_signature_valid(app_secret="app-secret", body=body, signature=signature)
    assert not meta_signature_valid(app_secret="app-secret", body=body + b" ", signature=signature)
    assert not meta_signature_valid(app_secret="app-secret", body=body, signature="")


def test_a_credential_comes_from_its_variable_or_from_the_file_it_names(monkeypatch, tmp_path):
    assert credential_variable("sms-uk", "auth_token") == "CEA_SOURCE_SMS_UK_AUTH_TOKEN"
    monkeypatch.setenv("CEA_SOURCE_SMS_UK_AUTH_TOKEN", "from-env")
    assert credential("sms-uk", "auth_token") == "from-env"
    monkeypatch.delenv("CEA_SOURCE_SMS_UK_AUTH_TOKEN")
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    monkeypatch.setenv("CEA_SOURCE_SMS_UK_AUTH_TOKEN_FILE", str(secret))
    assert credential("sms-uk", "auth_token") == "from-file"


def test_a_missing_credential_names_the_variable_to_set(monkeypatch, tmp_path):
    monkeypatch.delenv("CEA_SOURCE_SMS_UK_ACCOUNT_SID", raising=False)
    with pytest.raises(MissingCredential, match="CEA_SOURCE_SMS_UK_ACCOUNT_SID"):
        credential("sms-uk", "account_sid")
    assert credential("sms-uk", "account_sid", required=False) == ""
    monkeypatch.setenv("CEA_SOURCE_SMS_UK_ACCOUNT_SID_FILE", str(tmp_path / "absent"))
    with pytest.raises(MissingCredential, match="cannot be read"):
        credential("sms-uk", "account_sid")
