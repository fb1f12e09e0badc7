"""Forms of the desk: they check types and lengths; the services check meaning."""

from __future__ import annotations

from django import forms


class IdListField(forms.Field):
    """Repeated ``name=<id>`` parameters: a list of whole numbers (possibly empty)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = list(value or [])
        if not all(isinstance(v, str) and v.isascii() and v.isdigit() and 0 < len(v) < 19 for v in values):
            raise forms.ValidationError("Ids are whole numbers.")
        return [int(v) for v in values]


class ReplyForm(forms.Form):
    body = forms.CharField(max_length=20_000, strip=False, required=False)
    client_message_id = forms.CharField(max_length=64, required=False)
    # The ids of the agent's draft attachments (uploaded first through the conversations API).
    attachments = IdListField(required=False)


class OutboundForm(forms.Form):
    """The desk's "Contact the customer" form: ``option`` is ``<channel>:<purpose>``, one the customer consented to."""

    option = forms.RegexField(regex=r"^[a-z_]{1,20}:[a-z_]{1,20}$")
    subject = forms.CharField(max_length=300, required=False)
    text = forms.CharField(max_length=20_000)
    through = forms.CharField(max_length=60, required=False)  # the SMS source, when the team has several


class CallbackForm(forms.Form):
    """The desk's "Book a callback" form; ``due_at`` empty is now (a local time of the server's time zone)."""

    queue = forms.CharField(max_length=100)
    reason = forms.CharField(max_length=300)
    due_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class WrapUpForm(forms.Form):
    wrap_up_code = forms.CharField(max_length=50, required=False)
    disposition = forms.CharField(max_length=50, required=False)
    notes = forms.CharField(max_length=10_000, required=False)
    after_contact = forms.BooleanField(required=False)


class TransferForm(forms.Form):
    to_queue = forms.CharField(max_length=100, required=False)
    to_agent = forms.CharField(max_length=150, required=False)
    note = forms.CharField(max_length=2000, required=False)


class OtpStartForm(forms.Form):
    method = forms.ChoiceField(choices=[("sms", "SMS"), ("email", "Email")])


class OtpCheckForm(forms.Form):
    code = forms.CharField(max_length=12)


class CaseTransitionForm(forms.Form):
    transition = forms.CharField(max_length=20)
    note = forms.CharField(max_length=10_000, required=False)


class OutreachForm(forms.Form):
    """The 360 page's "Start a conversation" form; ``param`` (repeated) are a WhatsApp template's values."""

    purpose = forms.CharField(max_length=20)
    channel = forms.CharField(max_length=20)
    subject = forms.CharField(max_length=300, required=False)
    text = forms.CharField(max_length=20_000, required=False)
    through = forms.CharField(max_length=60, required=False)
    template = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
