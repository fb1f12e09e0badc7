"""The vocabulary of contact channels, shared by records, engagement and insights."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    VOICE = "voice", _("Voice")
    CHAT = "chat", _("Web chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social DM")
    WEB_FORM = "web_form", _("Web form")
    MOBILE_APP = "mobile_app", _("Mobile app")
    BRANCH = "branch", _("Branch visit")
    IOT = "iot", _("IoT device")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
