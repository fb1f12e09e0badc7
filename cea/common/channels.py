"""The vocabulary of contact channels, shared by records, engagement and insights."""

from django.db import models


class Channel(models.TextChoices):
    VOICE = "voice", "Voice"
    CHAT = "chat", "Web chat"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    SOCIAL = "social", "Social DM"
    WEB_FORM = "web_form", "Web form"
    MOBILE_APP = "mobile_app", "Mobile app"
    BRANCH = "branch", "Branch visit"
    IOT = "iot", "IoT device"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
