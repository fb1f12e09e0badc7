"""The customer profile's fields, written once: which a person may edit, how each is checked, and
where the console shows it.

``customer_check`` (records.customers.services) checks each field by its ``Check``, the API's
input serializer types it by the same ``Check`` (lengths, choices and blanks from the model's
field), and the console's form and sections list ``PROFILE`` in order. Fields not here are set
by their own services only (``SERVICE_FIELDS``; ``search_name`` and ``created_by`` by
``customer_create`` and ``customer_update``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Check(StrEnum):
    """How the services read a field before it is saved."""

    TEXT = "text"  # trimmed
    DATE = "date"  # taken as given (the interfaces parse it)
    EMAIL = "email"  # normalised, when given
    PHONE = "phone"  # E.164, when given
    COUNTRY = "country"  # ISO 3166-1 alpha-2, upper-cased, when given
    LANGUAGE = "language"  # a BCP 47 tag
    CHOICE = "choice"  # one of the model field's choices (blank where the model allows it)
    KEY_VALUES = "key_values"  # an object; a merge combines the two customers' keys
    TEAM = "team"  # the servicing team: the actor must be allowed to keep it


class Section(StrEnum):
    """Where the console's customer page shows a field."""

    PERSON = "Person"
    CONTACT = "Contact"
    PROFILE = "Profile"


@dataclass(frozen=True)
class ProfileField:
    name: str
    check: Check
    section: Section


# In this order everywhere: the API's input, the console's form, a merge's ``filled_fields`` and
# a journey event's list of changed fields.
PROFILE: tuple[ProfileField, ...] = (
    ProfileField("given_name", Check.TEXT, Section.PERSON),
    ProfileField("family_name", Check.TEXT, Section.PERSON),
    ProfileField("date_of_birth", Check.DATE, Section.PERSON),
    ProfileField("email", Check.EMAIL, Section.CONTACT),
    ProfileField("phone", Check.PHONE, Section.CONTACT),
    ProfileField("address_line1", Check.TEXT, Section.CONTACT),
    ProfileField("address_line2", Check.TEXT, Section.CONTACT),
    ProfileField("city", Check.TEXT, Section.CONTACT),
    ProfileField("postcode", Check.TEXT, Section.CONTACT),
    ProfileField("country", Check.COUNTRY, Section.CONTACT),
    ProfileField("language", Check.LANGUAGE, Section.PERSON),
    ProfileField("preferred_channel", Check.CHOICE, Section.CONTACT),
    ProfileField("preferences", Check.KEY_VALUES, Section.PROFILE),
    ProfileField("segment", Check.TEXT, Section.PROFILE),
    ProfileField("value_tier", Check.CHOICE, Section.PROFILE),
    ProfileField("custom_attributes", Check.KEY_VALUES, Section.PROFILE),
    ProfileField("team", Check.TEAM, Section.PERSON),
)

# Fields a person may edit on a profile; everything else is set by a dedicated service.
EDITABLE_FIELDS: tuple[str, ...] = tuple(field.name for field in PROFILE)
# A customer needs at least one of these.
NAME_FIELDS: tuple[str, ...] = ("given_name", "family_name")
# Shown, never edited: the persona (with its reasons), the journey stage and scores are written by
# insights (``customers_set_personas``, its stage and ``customer_set_scores``), the rest by a merge.
SERVICE_FIELDS: tuple[str, ...] = (
    "persona",
    "persona_reasons",
    "persona_assigned_at",
    "journey_stage",
    "journey_stage_since",
    "scores",
    "scores_updated_at",
    "status",
    "merged_into",
    "merged_at",
)


def fields_in(section: Section) -> list[str]:
    """The editable fields the console shows in ``section``, in ``PROFILE`` order."""
    return [field.name for field in PROFILE if field.section == section]


def fields_checked_as(check: Check) -> tuple[str, ...]:
    """The editable fields checked as ``check``, in ``PROFILE`` order."""
    return tuple(field.name for field in PROFILE if field.check == check)
