"""The provider's side of a call, for the voice call-control tests (not collected as tests).

- ``ProviderApi``: a real HTTP server on loopback implementing Twilio's call-update endpoint,
  ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` (form field ``Twiml``, HTTP basic
  authentication with the account SID and auth token); it keeps every update it takes and can be told
  to fail the next ones (a status code) or be stopped (connection refused).
- ``Telephony``: plays the provider on one call. It POSTs CEA's webhooks signed with
  ``X-Twilio-Signature`` (as Twilio does: the full URL and the sorted form), parses the TwiML CEA
  answers, and follows it: a ``Gather``'s action with the caller's digits, a ``Redirect``, an
  ``Enqueue``'s wait URL and result, a ``Dial``'s result; a REST update replaces the current TwiML.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET

from engagement.adapters.signatures import twilio_signature

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
CALL_UPDATE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Calls/(?P<call>CA[0-9a-zA-Z]+)\.json$")


@dataclass
class CallUpdate:
    call_sid: str
    twiml: str

    @property
    def document(self) -> ET.Element:
        return ET.fromstring(self.twiml)  # noqa: S314 (CEA's own TwiML, in a test)


@dataclass
class ProviderApi:
    """Twilio's REST call-update endpoint on a loopback port (``url`` is its base)."""

    updates: list[CallUpdate] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # status codes to answer the next requests with
    attempts: int = 0

    def start(self) -> ProviderApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                api.attempts += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                match = CALL_UPDATE.match(self.path)
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if match is None or match["account"] != ACCOUNT_SID:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if api.fail_next:
                    status = api.fail_next.pop(0)
                    return self._answer(status, {"code": 20500, "message": "Unavailable", "status": status})
                if "Twiml" not in form:
                    return self._answer(400, {"code": 21201, "message": "No Twiml or Url", "status": 400})
                api.updates.append(CallUpdate(call_sid=match["call"], twiml=form["Twiml"][0]))
                return self._answer(200, {"sid": match["call"], "account_sid": ACCOUNT_SID, "status": "in-progress"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Telephony:
    """The provider's side of one call to a number whose voice URL is the source's ``incoming`` step."""

    def __init__(self, client, source_name: str, *, call_sid: str, caller: str, dialled: str) -> None:
        self.client = client
        self.base = f"http://testserver/api/v1/engagement/voice/{source_name}/"
        self.call_sid, self.caller, self.dialled = call_sid, caller, dialled
        self.twiml: ET.Element | None = None
        self.last = None

    def post(self, url: str, *, token: str = AUTH_TOKEN, sign: bool = True, **form: str):
        """POST a webhook to ``url`` (absolute), signed as Twilio signs it; returns the response."""
        form = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.call_sid,
            "From": self.caller,
            "To": self.dialled,
            "Direction": "inbound",
            **form,
        }
        headers = {}
        if sign:
            headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(auth_token=token, url=url, params=form.items())
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, urlencode(form), content_type="application/x-www-form-urlencoded", **headers)
        self.last = response
        if response.status_code == 200:
            self.twiml = ET.fromstring(response.content)  # noqa: S314 (CEA's own TwiML, in a test)
        return response

    # What CEA said

    def verbs(self) -> list[str]:
        assert self.twiml is not None
        return [element.tag for element in self.twiml]

    def said(self) -> list[str]:
        assert self.twiml is not None
        return [element.text or "" for element in self.twiml.iter("Say")]

    def only(self, tag: str) -> ET.Element:
        assert self.twiml is not None
        found = list(self.twiml.iter(tag))
        assert len(found) == 1, f"{tag} ×{len(found)} in {ET.tostring(self.twiml).decode()}"
        return found[0]

    # What the provider does

    def ring(self):
        return self.post(self.base + "incoming/", CallStatus="ringing")

    def press(self, digits: str):
        """The caller presses ``digits`` at the current Gather."""
        return self.post(self.only("Gather").attrib["action"], Digits=digits, CallStatus="in-progress")

    def wait(self, position: int = 1):
        """The provider fetches the current Enqueue's wait URL."""
        return self.post(self.only("Enqueue").attrib["waitUrl"], QueuePosition=str(position), CallStatus="in-progress")

    def queue_result(self, enqueue: ET.Element, result: str):
        return self.post(enqueue.attrib["action"], QueueResult=result, CallStatus="in-progress")

    def run(self, update: CallUpdate) -> None:
        """A REST call update replaces what the call is doing."""
        assert update.call_sid == self.call_sid
        self.twiml = update.document

    def dial_ends(self, status: str):
        return self.post(self.only("Dial").attrib["action"], DialCallStatus=status, CallStatus="in-progress")

    def status(self, status: str):
        return self.post(self.base + "status/", CallStatus=status)

    def recording(self, recording_callback: str, *, sid: str, url: str, duration: int = 312):
        return self.post(
            recording_callback,
            RecordingSid=sid,
            RecordingUrl=url,
            RecordingStatus="completed",
            RecordingDuration=str(duration),
        )
