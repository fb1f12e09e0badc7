"""One-off notices to a customer's address, outside any conversation (a survey's invitation).

The address and the consent are the caller's to check (``contact_address``, ``consent_required``);
this only hands the text to the channel's sender: email through Django's configured backend, SMS
through ``settings.CEA_SMS_SENDER``. A sender's ``SmsSendError`` says whether to try again.
"""

from __future__ import annotations

from django.core.mail import send_mail

from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from engagement.idv.senders import sms_sender
from engagement.outbound.services import MAX_SUBJECT, MAX_TEXT


def notice_send(*, channel: str, to: str, text: str, subject: str = "") -> None:
    """Send ``text`` to ``to`` by ``channel`` (email or sms); ``ValidationFailed`` for another channel
    or a text too long for it."""
    if channel not in (Channel.EMAIL, Channel.SMS):
        raise ValidationFailed("Notices go by email or SMS.", fields={"channel": "email or sms"})
    if not text.strip() or len(text) > MAX_TEXT[Channel(channel)] or len(subject) > MAX_SUBJECT:
        raise ValidationFailed("The notice is empty or too long.", fields={"text": "Too long or empty."})
    if channel == Channel.SMS:
        sms_sender().send(to, text)
    else:
        send_mail(subject=subject, message=text, from_email=None, recipient_list=[to])
