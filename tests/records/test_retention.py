"""Retention: each enabled policy removes its kind's data older than its days, in batches, leaving
customers and cases on legal hold alone; each run is logged with its counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from cea.common.channels import Channel
from engagement.context.models import ContextChange
from engagement.conversations.models import Attachment, ConversationStatus, Message
from records.audit.access import customer_access_record
from records.audit.models import CustomerAccess
from records.interactions.models import Interaction
from records.privacy.models import LegalHold, RetentionPolicy, RetentionRun, RetentionRunStatus
from records.privacy.retention import apply_retention, retention_apply, retention_handlers
from tests.engagement.factories import ConversationFactory
from tests.records.factories import CaseFactory, InteractionFactory
from tests.support import make_customer

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - dt.timedelta(days=800)
RECENT = NOW - dt.timedelta(days=10)
TRANSCRIPT = [{"at": "2024-01-01T10:00:00Z", "author": "customer", "author_name": "Alice", "body": "My card is lost"}]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _enable(kind: str, days: int) -> None:
    RetentionPolicy.objects.filter(kind=kind).update(keep_days=days, enabled=True)


def _interaction(customer, *, ended_at, case=None, channel="chat", transcript=TRANSCRIPT) -> Interaction:
    interaction = InteractionFactory(customer=customer, case=case, channel=channel, transcript=transcript)
    Interaction.objects.filter(pk=interaction.pk).update(
        ended_at=ended_at, started_at=ended_at - dt.timedelta(minutes=5)
    )
    return interaction


def _transcript(interaction) -> list:
    return Interaction.objects.get(pk=interaction.pk).transcript


def test_the_policies_are_seeded_disabled_and_a_run_without_enabled_ones_changes_nothing(team_a):
    # Given
    interaction = _interaction(make_customer(team_a), ended_at=OLD)
    # When
    run = retention_apply()
    # Then
    assert set(RetentionPolicy.objects.values_list("kind", flat=True)) == {
        "transcripts",
        "attachments",
        "recording_links",
        "context_log",
        "audit",
        "access_log",
    }
    assert not RetentionPolicy.objects.filter(enabled=True).exists()
    assert (run.status, run.counts, run.total) == (RetentionRunStatus.SUCCEEDED, {}, 0)
    assert _transcript(interaction) == TRANSCRIPT


def test_old_transcripts_are_blanked_the_interaction_kept_and_held_customers_and_cases_left_alone(team_a):
    # Given
    customer, held, held_by_case = make_customer(team_a), make_customer(team_a), make_customer(team_a)
    old = _interaction(customer, ended_at=OLD)
    recent = _interaction(customer, ended_at=RECENT)
    of_held = _interaction(held, ended_at=OLD)
    held_case = CaseFactory(customer=held_by_case)
    of_held_case = _interaction(held_by_case, ended_at=OLD, case=held_case)
    anonymous = _interaction(None, ended_at=OLD)
    LegalHold.objects.create(customer=held, reason="Litigation")
    LegalHold.objects.create(case=held_case, reason="Complaint")
    _enable("transcripts", 365)
    # When
    run = retention_apply(batch_size=1)
    # Then
    assert _transcript(old) == []
    assert _transcript(anonymous) == []
    assert _transcript(recent) == TRANSCRIPT
    assert _transcript(of_held) == TRANSCRIPT
    assert _transcript(of_held_case) == TRANSCRIPT
    assert Interaction.objects.filter(pk=old.pk).exists()
    assert run.counts["transcripts"]["records.interactions"] == 2
    assert (run.held_customers, run.held_cases) == (2, 1)


def test_a_blanked_transcript_leaves_no_copy_in_the_audit_trail(team_a):
    # Given: the transcript was written, then changed once (two audit copies)
    interaction = _interaction(make_customer(team_a), ended_at=OLD)
    events = Interaction.pgh_event_models["update"]
    assert events.objects.filter(pgh_obj_id=interaction.pk).exclude(transcript=[]).exists()
    _enable("transcripts", 365)
    # When
    retention_apply()
    # Then
    assert not events.objects.filter(pgh_obj_id=interaction.pk).exclude(transcript=[]).exists()
    assert events.objects.filter(pgh_obj_id=interaction.pk).count() == 2  # no new copy with the old text


def _conversation(customer, *, ended_at, channel=Channel.CHAT, case=None):
    interaction = _interaction(customer, ended_at=ended_at, case=case, channel=channel)
    return ConversationFactory(
        customer=customer, channel=channel, status=ConversationStatus.ENDED, ended_at=ended_at, interaction=interaction
    )


def _message(conversation, body: str, **payload) -> Message:
    return Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="inbound",
        author_kind="customer",
        body=body,
        payload=payload,
        sent_at=conversation.ended_at or NOW,
    )


def test_messages_of_old_ended_conversations_are_blanked_not_of_held_or_open_ones(team_a):
    # Given
    customer, held = make_customer(team_a), make_customer(team_a)
    old = _message(_conversation(customer, ended_at=OLD), "My card is lost", phone="+447700900123")
    of_held = _message(_conversation(held, ended_at=OLD), "Keep me")
    open_one = _message(ConversationFactory(customer=customer, status=ConversationStatus.ACTIVE), "Still talking")
    LegalHold.objects.create(customer=held, reason="Litigation")
    _enable("transcripts", 365)
    # When
    run = retention_apply(batch_size=1)
    # Then
    assert Message.objects.filter(pk=old.pk).values_list("body", "payload").get() == ("", {})
    assert Message.objects.get(pk=of_held.pk).body == "Keep me"
    assert Message.objects.get(pk=open_one.pk).body == "Still talking"
    assert run.counts["transcripts"] == {"records.interactions": 1, "engagement.messages": 1}


def test_recording_links_are_cut_out_of_voice_messages_and_interactions(team_a):
    # Given
    customer = make_customer(team_a)
    text = "Call ended. Recording: https://pbx.example/rec/1.mp3. Transcript: https://pbx.example/t/1.txt."
    conversation = _conversation(customer, ended_at=OLD, channel=Channel.VOICE)
    Interaction.objects.filter(pk=conversation.interaction_id).update(
        transcript=[{"at": "x", "author": "system", "author_name": "pbx", "body": text}]
    )
    message = _message(
        conversation,
        text,
        event="ended",
        recording_url="https://pbx.example/rec/1.mp3",
        transcript_url="https://pbx.example/t/1.txt",
    )
    _enable("recording_links", 365)
    # When
    run = retention_apply()
    # Then
    message.refresh_from_db()
    assert message.payload == {"event": "ended"}
    assert message.body == "Call ended. Recording: [removed] Transcript: [removed]"
    assert Interaction.objects.get(pk=conversation.interaction_id).transcript[0]["body"] == message.body
    assert run.counts["recording_links"] == {"records.interactions": 1, "engagement.messages": 1}


def _attachment(conversation, name: str) -> Attachment:
    return Attachment.objects.create(
        message=_message(conversation, "See photo"),
        filename=name,
        content_type="image/jpeg",
        size=3,
        sha256="0" * 64,
        file=ContentFile(b"abc", name=name),
    )


def test_old_attachments_are_deleted_with_their_files_once_committed(team_a, django_capture_on_commit_callbacks):
    # Given
    customer, held = make_customer(team_a), make_customer(team_a)
    old = _attachment(_conversation(customer, ended_at=OLD), "a.jpg")
    kept = _attachment(_conversation(held, ended_at=OLD), "b.jpg")
    storage = old.file.storage
    LegalHold.objects.create(customer=held, reason="Litigation")
    _enable("attachments", 365)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        run = retention_apply()
    # Then
    assert list(Attachment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not storage.exists(old.file.name)
    assert storage.exists(kept.file.name)
    assert run.counts["attachments"] == {"engagement.attachments": 1}


def test_the_context_log_and_the_access_log_are_deleted_when_old(team_a, agent):
    # Given
    customer, held = make_customer(team_a), make_customer(team_a)
    for who, when in ((customer, OLD), (customer, RECENT), (held, OLD)):
        ContextChange.objects.create(
            scope="customer",
            context_id=str(who.pk),
            customer=who,
            version=1,
            changes={},
            source="test",
            changed_at=when,
        )
    customer_access_record(actor=agent, customer_ids=[customer.pk, held.pk], surface="lookup")
    CustomerAccess.objects.update(at=OLD)
    LegalHold.objects.create(customer=held, reason="Litigation")
    _enable("context_log", 365)
    _enable("access_log", 365)
    # When
    run = retention_apply()
    # Then
    assert sorted(ContextChange.objects.values_list("customer_id", "changed_at")) == sorted(
        [(customer.pk, RECENT), (held.pk, OLD)]
    )
    assert list(CustomerAccess.objects.values_list("customer_id", flat=True)) == [held.pk]
    assert run.counts["context_log"] == {"engagement.context_log": 1}
    assert run.counts["access_log"] == {"records.access_log": 1}


def test_old_audit_events_are_deleted_but_not_those_of_held_customers(team_a):
    # Given
    make_customer(team_a)
    held = make_customer(team_a)
    LegalHold.objects.create(customer=held, reason="Litigation")
    events = "records_customerevent"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {events} SET pgh_created_at = %s", [OLD])  # noqa: S608 - a test's own table
    _enable("audit", 400)
    # When
    run = retention_apply()
    # Then
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT pgh_obj_id FROM {events}")  # noqa: S608
        remaining = {row[0] for row in cursor.fetchall()}
    assert remaining == {held.pk}
    assert run.counts["audit"]["audit trail"] >= 1


def test_a_failing_handler_fails_the_run_and_logs_it(team_a, monkeypatch):
    # Given
    from records.privacy import retention

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(retention._handlers, "context_log", {"broken": broken})
    _enable("context_log", 365)
    # When
    with pytest.raises(RuntimeError):
        retention_apply()
    # Then
    run = RetentionRun.objects.get()
    assert (run.status, run.error) == (RetentionRunStatus.FAILED, "RuntimeError: disk on fire")
    assert run.finished_at is not None


def test_the_task_is_on_the_beat_schedule_and_engagement_registered_its_handlers(settings):
    # Then
    assert any(entry["task"] == "records.privacy.apply_retention" for entry in settings.CELERY_BEAT_SCHEDULE.values())
    handlers = retention_handlers()
    assert set(handlers["transcripts"]) == {"records.interactions", "engagement.messages"}
    assert set(handlers["attachments"]) == {"engagement.attachments"}
    assert set(handlers["context_log"]) == {"engagement.context_log"}
    # When
    run_id = apply_retention()
    # Then
    assert RetentionRun.objects.get(pk=run_id).status == RetentionRunStatus.SUCCEEDED
