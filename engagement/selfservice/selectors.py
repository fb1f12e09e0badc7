"""Reads for self-service: flows to run, knowledge answers by full-text search, containment."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, Max, Q, QuerySet, Value, When

from cea.common.errors import ValidationFailed
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.selfservice.definition import FlowDef
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.selfservice.session import STATE_KEY, SessionState

MAX_QUERY_CHARS = 200
LEXEME = re.compile(r"^\w+$")
MAX_LEXEMES = 12


# --- Flows ---------------------------------------------------------------------------------


# This process's copy of the active flows, with the fingerprint of the rows it was built from.
_flows_cached: tuple[str, list[FlowDef]] | None = None


def _flows_fingerprint() -> str:
    """An MD5 of every column of the active flows and their steps, in one statement.

    Computed from the rows themselves, so any change shows — a console edit, a service, a
    ``queryset.update()``, a migration — with nothing to invalidate.
    """
    quote = connection.ops.quote_name
    flows, steps = quote(Flow._meta.db_table), quote(FlowStep._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5("  # noqa: S608 - table names from the models
            f"coalesce((SELECT string_agg(f::text, ',' ORDER BY f.id) FROM {flows} f WHERE f.is_active), '')"
            " || '|' || "
            f"coalesce((SELECT string_agg(s::text, ',' ORDER BY s.id) FROM {steps} s"
            f" JOIN {flows} f ON f.id = s.flow_id WHERE f.is_active), ''))"
        )
        return str(cursor.fetchone()[0])


def flow_definitions_active() -> list[FlowDef]:
    """Every active flow with its steps, as the engine runs them (frozen definitions, shared read-only).

    Every self-service turn asks for them: the process keeps them and rebuilds them when the rows'
    fingerprint changes (one small statement a turn instead of two queries and the building).
    """
    global _flows_cached
    fingerprint = _flows_fingerprint()
    cached = _flows_cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    flows = Flow.objects.filter(is_active=True).prefetch_related("steps")
    definitions = [FlowDef.of(flow, flow.steps.all()) for flow in flows]
    _flows_cached = (fingerprint, definitions)
    return definitions


# --- Messages waiting for an answer ----------------------------------------------------------


def selfservice_state(*, conversation_id: int) -> SessionState:
    """Where the conversation is in self-service, from its context (``last_message``: the last
    customer message answered)."""
    values = context_read(scope=ContextScope.CONVERSATION, context_id=conversation_id).values
    return SessionState.from_json(values.get(STATE_KEY))


def selfservice_messages_unanswered(*, channel: str, sent_after: datetime, sent_before: datetime) -> list[int]:
    """The latest customer message of each conversation of ``channel`` in self-service that
    self-service has not answered, among those stored between ``sent_after`` and ``sent_before``.

    For the sweep that answers a message whose answer task was lost (a worker killed mid-turn,
    the broker restarted). Reads each candidate's state from its context: a handful at a time.
    """
    latest = (
        Message.objects.filter(
            channel=channel,
            author_kind=AuthorKind.CUSTOMER,
            conversation__status=ConversationStatus.SELF_SERVICE,
            created_at__gt=sent_after,
            created_at__lte=sent_before,
        )
        .values("conversation_id")
        .annotate(last=Max("id"))
        .order_by("conversation_id")
    )
    waiting = []
    for row in latest:
        if selfservice_state(conversation_id=row["conversation_id"]).last_message < row["last"]:
            waiting.append(row["last"])
    return waiting


# --- Knowledge -----------------------------------------------------------------------------


def _query_text(text: str) -> str:
    text = " ".join((text or "").split())[:MAX_QUERY_CHARS]
    if "\x00" in text:
        raise ValidationFailed(
            "The search text has a null character.", fields={"q": "Null characters are not allowed."}
        )
    return text


def _articles(published_only: bool) -> QuerySet[KnowledgeArticle]:
    articles = KnowledgeArticle.objects.all()
    return articles.filter(is_published=True) if published_only else articles


def _languages(articles: QuerySet[KnowledgeArticle]) -> list[str]:
    return sorted(set(articles.order_by().values_list("language", flat=True).distinct()))


def knowledge_search(*, text: str, limit: int = 10, published_only: bool = True) -> list[KnowledgeArticle]:
    """Articles matching ``text`` by PostgreSQL full-text search, best first, each with ``rank``.

    ``text`` is read as a web search (``websearch_to_tsquery``): every word must match (stemmed,
    so "opening hours" finds "open" and "hours"), "quoted phrases", ``or``, and ``-word``.
    Each article is matched in its own language's configuration. The title weighs more than the
    keywords, which weigh more than the body.
    """
    text = _query_text(text)
    if not text:
        return []
    articles = _articles(published_only)
    match = Q()
    ranks = []
    for language in _languages(articles):
        query = SearchQuery(text, search_type="websearch", config=language)
        match |= Q(language=language, search_vector=query)
        ranks.append(When(language=language, then=SearchRank(F("search_vector"), query)))
    if not ranks:
        return []
    ranked = articles.filter(match).annotate(rank=Case(*ranks, default=Value(0.0), output_field=FloatField()))
    return list(ranked.order_by("-rank", "title", "id")[:limit])


def _lexemes(language: str, text: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector(%s::regconfig, %s))", [language, text])
        row = cursor.fetchone()
    return [lexeme for lexeme in (row[0] or []) if LEXEME.match(lexeme)][:MAX_LEXEMES]


def _lexemes_matched(lexemes: list[str]) -> tuple[Any, SearchQuery]:
    """How many of ``lexemes`` an article matches (an expression), and the query matching any of them.

    The lexemes are already stemmed by the article's language: they are matched as they are."""
    quoted = [f"'{lexeme}'" for lexeme in lexemes]
    matched = sum(
        (
            Case(
                When(search_vector=SearchQuery(term, search_type="raw", config="simple"), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            for term in quoted
        ),
        Value(0),
    )
    return matched, SearchQuery(" | ".join(quoted), search_type="raw", config="simple")


def knowledge_best_answer(*, text: str) -> KnowledgeArticle | None:
    """The published article that best answers a question in the customer's own words, or ``None``.

    First a web search where every word must match; failing that, the article that matches
    the most of the question's words (stop words aside), at least two of them and at least
    half, so that "what time do you open on saturdays please" still finds the opening hours
    without one common word being enough.
    """
    found = knowledge_search(text=text, limit=1)
    if found:
        return found[0]
    text = _query_text(text)
    if not text:
        return None
    articles = _articles(published_only=True)
    best: tuple[float, float, KnowledgeArticle] | None = None
    for language in _languages(articles):
        lexemes = _lexemes(language, text)
        needed = max(2, math.ceil(len(lexemes) / 2))
        if len(lexemes) < needed:
            continue
        matched, any_term = _lexemes_matched(lexemes)
        candidate = (
            articles.filter(language=language, search_vector=any_term)
            .annotate(matched=matched, rank=SearchRank(F("search_vector"), any_term))
            .filter(matched__gte=needed)
            .order_by("-matched", "-rank", "title", "id")
            .first()
        )
        if candidate is not None:
            score = (candidate.matched / len(lexemes), candidate.rank)
            if best is None or score > best[:2]:
                best = (*score, candidate)
    return best[2] if best else None


def knowledge_related(*, text: str, limit: int = 5) -> list[KnowledgeArticle]:
    """Published articles related to a customer's message, for the agent's knowledge panel: those a
    web search finds first, then those sharing the most of the message's words (stop words aside,
    stemmed per article language), best first. Unlike ``knowledge_best_answer`` one shared word is
    enough: the agent picks among suggestions, the customer is not answered automatically."""
    found = knowledge_search(text=text, limit=limit)
    text = _query_text(text)
    if len(found) >= limit or not text:
        return found
    articles = _articles(published_only=True).exclude(pk__in=[article.pk for article in found])
    related: list[tuple[int, float, KnowledgeArticle]] = []
    for language in _languages(articles):
        lexemes = _lexemes(language, text)
        if not lexemes:
            continue
        matched, any_term = _lexemes_matched(lexemes)
        candidates = (
            articles.filter(language=language, search_vector=any_term)
            .annotate(matched=matched, rank=SearchRank(F("search_vector"), any_term))
            .order_by("-matched", "-rank", "title", "id")[:limit]
        )
        related.extend((candidate.matched, candidate.rank, candidate) for candidate in candidates)
    related.sort(key=lambda row: (-row[0], -row[1], row[2].title, row[2].pk))
    return found + [article for _, _, article in related][: limit - len(found)]


# --- Containment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Containment:
    """Of the conversations that ended in a period, how many were solved without an agent."""

    channel: str  # "" for all channels together
    ended: int
    contained: int

    @property
    def rate(self) -> float | None:
        """``contained / ended`` (0-1, four decimals); ``None`` when nothing ended."""
        return round(self.contained / self.ended, 4) if self.ended else None


@dataclass(frozen=True)
class ContainmentReport:
    start: datetime
    end: datetime
    channels: list[Containment]
    total: Containment


def containment_rate(
    *, start: datetime, end: datetime, conversations: QuerySet[Conversation] | None = None
) -> ContainmentReport:
    """Containment of the conversations that ended in ``[start, end)``, per channel and in total.

    A conversation is contained when it ended without an agent and was never escalated
    (``conversation_end`` decides it). ``conversations`` narrows the set (a supervisor's
    teams); by default all.
    """
    if end <= start:
        raise ValidationFailed("The period ends before it starts.", fields={"end": "Must be after start."})
    base = conversations if conversations is not None else Conversation.objects.all()
    rows = (
        base.filter(status=ConversationStatus.ENDED, ended_at__gte=start, ended_at__lt=end)
        .order_by()
        .values("channel")
        .annotate(ended=Count("id"), contained=Count("id", filter=Q(contained=True)))
        .order_by("channel")
    )
    channels = [Containment(channel=row["channel"], ended=row["ended"], contained=row["contained"]) for row in rows]
    total = Containment(channel="", ended=sum(c.ended for c in channels), contained=sum(c.contained for c in channels))
    return ContainmentReport(start=start, end=end, channels=channels, total=total)
