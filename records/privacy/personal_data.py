"""The parts of a customer's personal data that records holds, registered in ``RecordsConfig.ready``.

Each part exports what it holds (the right of access) and anonymises it (the right to erasure,
inside ``privacy_erasure_carry_out``). The audit history part runs last of records' parts: the
parts before it write audit events (pghistory's triggers copy every change, a deleted identity
included), and it rewrites the personal fields of all of them, old and new.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from records.audit.models import CustomerAccess
from records.cases.models import Case, CaseNote
from records.customers.models import Consent, Customer, CustomerStatus
from records.holdings.models import Holding, SourceRecord
from records.identities.models import Identity
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.privacy.erasure import erased_customer_ids, erasure_scrubber, journey_erase, record_rewrite
from records.privacy.models import LegalHold, PrivacyRequest
from records.privacy.registry import register_personal_data
from records.privacy.scrub import ERASED, Scrubber

CUSTOMER_PERSONAL_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "language",
    "preferred_channel",
    "preferences",
    "custom_attributes",
    "segment",
    "persona",
    "persona_reasons",
    "journey_stage",
    "value_tier",
    "scores",
    "status",
    "created_at",
    "updated_at",
)


def _rows(queryset: QuerySet, *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def _erased_key() -> Concat:
    """``erased-<id>``: a unique stand-in for an identifier that must stay unique."""
    return Concat(Value("erased-"), Cast("pk", CharField()))


def anonymised_customer_fields(customer_id: int) -> dict[str, Any]:
    """What an erased customer's profile (and every audit copy of it) becomes."""
    return {
        "given_name": "Erased customer",
        "family_name": f"#{customer_id}",
        "search_name": f"erased customer #{customer_id}",
        "date_of_birth": None,
        "email": "",
        "phone": "",
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "postcode": "",
        "country": "",
        "preferences": {},
        "custom_attributes": {},
        "scores": {},
        "persona_reasons": [],
    }


# --- Customer profile -----------------------------------------------------------------------


def export_customer(customer_id: int) -> list[dict[str, Any]]:
    return _rows(Customer.objects.filter(pk__in=erased_customer_ids(customer_id)), "id", *CUSTOMER_PERSONAL_FIELDS)


def erase_customer(customer_id: int) -> int:
    """The profile blanked; the row stays (``erased``) with its segment, tier and team for aggregates."""
    rows = 0
    now = timezone.now()
    for pk in erased_customer_ids(customer_id):
        status = {"status": CustomerStatus.ERASED} if pk == customer_id else {}
        rows += Customer.objects.filter(pk=pk).update(**anonymised_customer_fields(pk), **status, updated_at=now)
    return rows


# --- Identities and consents ----------------------------------------------------------------


def export_identities(customer_id: int) -> list[dict[str, Any]]:
    return _rows(
        Identity.objects.filter(customer_id=customer_id), "kind", "label", "is_primary", "verified_at", "created_at"
    )


def erase_identities(customer_id: int) -> int:
    """Removed: an identity exists to find the customer again, which an erasure must prevent."""
    deleted, _ = Identity.objects.filter(customer_id__in=erased_customer_ids(customer_id)).delete()
    return deleted


def export_consents(customer_id: int) -> list[dict[str, Any]]:
    return _rows(Consent.objects.filter(customer_id=customer_id), "channel", "purpose", "granted", "given_at", "source")


def erase_consents(customer_id: int) -> int:
    return Consent.objects.filter(customer_id__in=erased_customer_ids(customer_id)).update(source="")


# --- Holdings and source records ------------------------------------------------------------


def export_holdings(customer_id: int) -> dict[str, list[dict[str, Any]]]:
    holding_fields = ("system", "kind", "external_id", "name", "status", "amount", "currency", "data", "as_of")
    return {
        "holdings": _rows(Holding.objects.filter(customer_id=customer_id), *holding_fields),
        "source_records": _rows(SourceRecord.objects.filter(customer_id=customer_id), "system", "external_id"),
    }


def erase_holdings(customer_id: int) -> int:
    """Account and legacy customer numbers replaced; kinds, statuses and amounts stay for aggregates."""
    ids = erased_customer_ids(customer_id)
    holdings = Holding.objects.filter(customer_id__in=ids).update(
        external_id=_erased_key(), name="", data={}, checksum=""
    )
    sources = SourceRecord.objects.filter(customer_id__in=ids).update(external_id=_erased_key(), checksum="")
    return holdings + sources


# --- Interactions ---------------------------------------------------------------------------


def anonymised_transcript(transcript: Any, scrubber: Scrubber) -> list[dict[str, Any]]:
    """The customer's own messages replaced; the others (agents, bots) keep their words, scrubbed of
    the customer's identifiers; times and authors' kinds stay."""
    if not isinstance(transcript, list):
        return []
    messages = []
    for message in transcript:
        if not isinstance(message, dict):
            continue
        by_customer = message.get("author") == "customer"
        messages.append(
            {
                **scrubber.value(message),
                "author_name": "" if by_customer else scrubber.text(str(message.get("author_name", ""))),
                "body": ERASED if by_customer else scrubber.text(str(message.get("body", ""))),
            }
        )
    return messages


def anonymised_interaction_fields(
    *, interaction_id: int, transcript: Any, external_id: str, scrubber: Scrubber
) -> dict[str, Any]:
    """What an erased customer's interaction (and every audit copy of it) becomes."""
    return {
        "transcript": anonymised_transcript(transcript, scrubber),
        "wrap_up_notes": "",
        "context_snapshot": {},
        "external_id": external_id if scrubber.text(external_id) == external_id else f"erased-{interaction_id}",
    }


def export_interactions(customer_id: int) -> list[dict[str, Any]]:
    return _rows(
        Interaction.objects.filter(customer_id=customer_id),
        "id",
        "channel",
        "direction",
        "started_at",
        "answered_at",
        "ended_at",
        "queue",
        "transcript",
        "wrap_up_code",
        "disposition",
        "wrap_up_notes",
        "context_snapshot",
        "sentiment",
        "satisfaction",
        "case_id",
    )


def erase_interactions(customer_id: int) -> int:
    """Transcripts and notes anonymised; timing, queue, agent, sentiment and satisfaction kept."""
    scrubber = erasure_scrubber(customer_id)
    rows = 0
    for interaction in Interaction.objects.filter(customer_id=customer_id).only("pk", "transcript", "external_id"):
        fields = anonymised_interaction_fields(
            interaction_id=interaction.pk,
            transcript=interaction.transcript,
            external_id=interaction.external_id,
            scrubber=scrubber,
        )
        rows += Interaction.objects.filter(pk=interaction.pk).update(**fields, updated_at=timezone.now())
    return rows


# --- Cases ----------------------------------------------------------------------------------


def export_cases(customer_id: int) -> list[dict[str, Any]]:
    cases = _rows(
        Case.objects.filter(customer_id=customer_id),
        "id",
        "reference",
        "subject",
        "description",
        "category",
        "priority",
        "status",
        "created_at",
        "resolved_at",
        "closed_at",
    )
    notes: dict[int, list[dict[str, Any]]] = {}
    for note in CaseNote.objects.filter(case__customer_id=customer_id).values(
        "case_id", "body", "visibility", "created_at"
    ):
        shown: dict[str, Any] = dict(note)
        notes.setdefault(shown.pop("case_id"), []).append(shown)
    return [{**case, "notes": notes.get(case["id"], [])} for case in cases]


def erase_cases(customer_id: int) -> int:
    """Subjects, descriptions and notes blanked; status, category, priority, SLA and timings kept."""
    cases = Case.objects.filter(customer_id=customer_id)
    notes = CaseNote.objects.filter(case__in=cases).update(body=ERASED)
    return cases.update(subject=ERASED, description="", updated_at=timezone.now()) + notes


# --- Journey --------------------------------------------------------------------------------


def export_journey(customer_id: int) -> list[dict[str, Any]]:
    return _rows(
        JourneyEvent.objects.filter(customer_id=customer_id).order_by("occurred_at", "id"),
        "occurred_at",
        "source_system",
        "channel",
        "kind",
        "summary",
        "payload",
    )


# --- The console's log and the audit trail ---------------------------------------------------


def _customer_objects(customer_id: int) -> dict[type, list[int]]:
    """The ids of every records row that ever belonged to the customer (by its audit events too)."""
    ids = erased_customer_ids(customer_id)
    case_event = apps.get_model("records", "CaseEvent")
    interaction_event = apps.get_model("records", "InteractionEvent")
    identity_event = apps.get_model("records", "IdentityEvent")
    return {
        Customer: ids,
        Case: sorted(
            set(Case.objects.filter(customer_id__in=ids).values_list("pk", flat=True))
            | set(case_event.objects.filter(customer_id__in=ids).values_list("pgh_obj_id", flat=True))
        ),
        Interaction: sorted(
            set(Interaction.objects.filter(customer_id__in=ids).values_list("pk", flat=True))
            | set(interaction_event.objects.filter(customer_id__in=ids).values_list("pgh_obj_id", flat=True))
        ),
        Identity: sorted(set(identity_event.objects.filter(customer_id__in=ids).values_list("pgh_obj_id", flat=True))),
    }


def erase_admin_log(customer_id: int) -> int:
    """The console's change log names each object it changed (a customer's name, a case's subject)."""
    objects = _customer_objects(customer_id)
    objects[CaseNote] = list(CaseNote.objects.filter(case_id__in=objects[Case]).values_list("pk", flat=True))
    match = Q(pk__in=[])
    for model, pks in objects.items():
        content_type = ContentType.objects.get_for_model(model)
        match |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    return LogEntry.objects.filter(match).update(object_repr=ERASED)


def export_access_log(customer_id: int) -> list[dict[str, Any]]:
    """Who read the customer's record, when and where (the access log)."""
    reads = CustomerAccess.objects.filter(customer_id__in=erased_customer_ids(customer_id)).order_by("at", "id")
    return _rows(reads, "at", "username", "surface", "detail")


def erase_access_log(customer_id: int) -> int:
    """The access log keeps who read the customer and when (the reads stay countable), not what was
    searched to find them: a look-up's detail and address may hold the customer's name or number."""
    reads = CustomerAccess.objects.filter(customer_id__in=erased_customer_ids(customer_id))
    return reads.exclude(detail="", url="").update(detail="", url="")


def _rewrite(event_model_name: str, rows: QuerySet, **fields: Any) -> int:
    changed = rows.update(**fields)
    record_rewrite(target=apps.get_model("records", event_model_name)._meta.db_table, rows=changed)
    return changed


def export_audit_history(customer_id: int) -> dict[str, list[dict[str, Any]]]:
    """The audit trail's copies of the customer's profile and identities: when each changed, and to what."""
    objects = _customer_objects(customer_id)
    customer_events = apps.get_model("records", "CustomerEvent").objects.filter(pgh_obj_id__in=objects[Customer])
    identity_events = apps.get_model("records", "IdentityEvent").objects.filter(pgh_obj_id__in=objects[Identity])
    return {
        "profile_changes": _rows(
            customer_events.order_by("pgh_created_at", "pgh_id"),
            "pgh_created_at",
            "pgh_label",
            *CUSTOMER_PERSONAL_FIELDS,
        ),
        "identity_changes": _rows(
            identity_events.order_by("pgh_created_at", "pgh_id"), "pgh_created_at", "pgh_label", "kind", "label"
        ),
    }


def erase_audit_history(customer_id: int) -> int:
    """The personal fields of every audit (pghistory) event of the customer's rows rewritten; the
    events themselves stay: who changed what kind of thing, and when."""
    scrubber = erasure_scrubber(customer_id)
    objects = _customer_objects(customer_id)
    event = apps.get_model
    rows = 0
    for pk in objects[Customer]:
        rows += _rewrite(
            "CustomerEvent",
            event("records", "CustomerEvent").objects.filter(pgh_obj_id=pk),
            **anonymised_customer_fields(pk),
        )
    rows += _rewrite(
        "IdentityEvent",
        event("records", "IdentityEvent").objects.filter(pgh_obj_id__in=objects[Identity]),
        value=ERASED,
        label=ERASED,
    )
    rows += _rewrite(
        "ConsentEvent", event("records", "ConsentEvent").objects.filter(customer_id__in=objects[Customer]), source=""
    )
    rows += _rewrite(
        "CaseEvent",
        event("records", "CaseEvent").objects.filter(pgh_obj_id__in=objects[Case]),
        subject=ERASED,
        description="",
    )
    rows += _rewrite(
        "CaseNoteEvent", event("records", "CaseNoteEvent").objects.filter(case_id__in=objects[Case]), body=ERASED
    )
    interaction_events = event("records", "InteractionEvent").objects.filter(pgh_obj_id__in=objects[Interaction])
    changed = 0
    for row in interaction_events.only("pgh_id", "pgh_obj_id", "transcript", "external_id"):
        fields = anonymised_interaction_fields(
            interaction_id=row.pgh_obj_id, transcript=row.transcript, external_id=row.external_id, scrubber=scrubber
        )
        changed += interaction_events.filter(pgh_id=row.pgh_id).update(**fields)
    record_rewrite(target=event("records", "InteractionEvent")._meta.db_table, rows=changed)
    rows += changed
    rows += _erase_privacy_reasons(customer_id, objects, scrubber)
    return rows


def _erase_privacy_reasons(customer_id: int, objects: dict[type, list[int]], scrubber: Scrubber) -> int:
    """Legal holds' and privacy requests' reasons may quote the customer: scrubbed, with their history."""
    rows = 0
    holds = LegalHold.objects.filter(Q(customer_id__in=objects[Customer]) | Q(case_id__in=objects[Case]))
    requests = PrivacyRequest.objects.filter(customer_id__in=objects[Customer])
    for model, queryset in ((LegalHold, holds), (PrivacyRequest, requests)):
        event_model = apps.get_model("records", f"{model.__name__}Event")
        events = event_model.objects.filter(pgh_obj_id__in=list(queryset.values_list("pk", flat=True)))
        for row in (*queryset.only("pk", "reason"), *events.only("pgh_id", "reason")):
            reason = scrubber.text(row.reason)
            if reason != row.reason:
                type(row).objects.filter(pk=row.pk).update(reason=reason)
                rows += 1
    return rows


def register() -> None:
    """Records' parts, in the order an erasure runs them (the audit history last)."""
    register_personal_data("records.customer", export=export_customer, erase=erase_customer)
    register_personal_data("records.identities", export=export_identities, erase=erase_identities)
    register_personal_data("records.consents", export=export_consents, erase=erase_consents)
    register_personal_data("records.holdings", export=export_holdings, erase=erase_holdings)
    register_personal_data("records.interactions", export=export_interactions, erase=erase_interactions)
    register_personal_data("records.cases", export=export_cases, erase=erase_cases)
    register_personal_data("records.journey", export=export_journey, erase=journey_erase)
    register_personal_data("records.access_log", export=export_access_log, erase=erase_access_log)
    register_personal_data("records.admin_log", export=lambda customer_id: [], erase=erase_admin_log)
    register_personal_data("records.audit_history", export=export_audit_history, erase=erase_audit_history)
