"""TwiML, the XML a Twilio-style provider runs on a call: a ``<Response>`` of verbs, run in order.

Only the verbs and attributes CEA uses, each written by one function; text is escaped by the XML
library, never pasted into markup. Verbs:

- ``Say`` (text to speech), ``Play`` (an audio URL; ``loop=0`` for ever), ``Pause``;
- ``Gather`` (digits and/or speech, posted to ``action``), with its prompts nested;
- ``Enqueue`` (the caller waits in a named provider queue; ``waitUrl`` is fetched for what to play
  meanwhile, ``action`` when the wait ends), and ``Leave`` (ends the wait; the ``Enqueue``'s action runs);
- ``Dial`` a ``Number`` or a softphone ``Client`` (``action`` once the dialled leg ends);
- ``Record`` (``recordingStatusCallback``, optional transcription), ``Redirect``, ``Hangup``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET


@dataclass
class TwiML:
    """A ``<Response>`` being written; ``str()`` is the XML document."""

    root: ET.Element = field(default_factory=lambda: ET.Element("Response"))

    def _verb(self, name: str, text: str = "", parent: ET.Element | None = None, **attributes: str) -> ET.Element:
        given = {key: value for key, value in attributes.items() if value}
        element = ET.SubElement(self.root if parent is None else parent, name, given)
        if text:
            element.text = text
        return element

    def say(self, text: str, *, language: str = "", parent: ET.Element | None = None) -> TwiML:
        self._verb("Say", text, parent, language=language)
        return self

    def play(self, url: str, *, loop: int = 1) -> TwiML:
        self._verb("Play", url, loop=str(loop))
        return self

    def gather(self, *, action: str, prompts: list[str], language: str = "", digits: int = 0) -> TwiML:
        """Listen for digits or speech after saying ``prompts``; ``digits`` caps the keys (0: until #)."""
        gather = self._verb(
            "Gather",
            action=action,
            method="POST",
            input="dtmf speech",
            language=language,
            numDigits=str(digits) if digits else "",
            finishOnKey="#",
            timeout="6",
            speechTimeout="auto",
        )
        for prompt in prompts:
            self.say(prompt, language=language, parent=gather)
        return self

    def enqueue(self, name: str, *, wait_url: str, action: str) -> TwiML:
        self._verb("Enqueue", name, waitUrl=wait_url, waitUrlMethod="POST", action=action, method="POST")
        return self

    def leave(self) -> TwiML:
        self._verb("Leave")
        return self

    def dial(
        self,
        *,
        number: str = "",
        client: str = "",
        action: str,
        timeout: int = 25,
        record: bool = False,
        recording_callback: str = "",
    ) -> TwiML:
        dial = self._verb(
            "Dial",
            action=action,
            method="POST",
            timeout=str(timeout),
            record="record-from-answer-dual" if record else "",
            recordingStatusCallback=recording_callback if record else "",
            recordingStatusCallbackEvent="completed" if record else "",
        )
        if number:
            self._verb("Number", number, dial)
        else:
            self._verb("Client", client, dial)
        return self

    def record(
        self, *, action: str, recording_callback: str, transcribe_callback: str = "", max_length: int = 120
    ) -> TwiML:
        self._verb(
            "Record",
            action=action,
            method="POST",
            maxLength=str(max_length),
            playBeep="true",
            recordingStatusCallback=recording_callback,
            transcribe="true" if transcribe_callback else "",
            transcribeCallback=transcribe_callback,
        )
        return self

    def redirect(self, url: str) -> TwiML:
        self._verb("Redirect", url, method="POST")
        return self

    def hangup(self) -> TwiML:
        self._verb("Hangup")
        return self

    def __str__(self) -> str:
        return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(self.root, encoding="unicode")
