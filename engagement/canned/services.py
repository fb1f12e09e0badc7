"""Writes of canned responses and macros: create, change, delete, and apply one to a conversation.

Check, then do: every service validates (known variables, a free shortcut, who may write a
shared or personal text) before it saves, and refuses with ``ValidationFailed`` (400, field
errors), ``PermissionDenied`` (403) or ``Conflict`` (409, ``shortcut_taken`` when two saves race).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from cea.accounts.models import Team, User
from cea.accounts.types import AnyUser
from cea.common.channels import Direction
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.roles import can_supervise, is_admin, team_ids_of
from engagement.access import require_handling_agent
from engagement.canned.models import CannedResponse
from engagement.canned.selectors import access_canned, may_manage_canned, require_canned_user
from engagement.canned.variables import Fill, fill, unknown_variables
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import AuthorKind, Conversation, Message
from engagement.conversations.services import message_add
from engagement.routing.models import WrapUpCode

EDITABLE = ("title", "shortcut", "body", "note", "wrap_up_code", "is_active")


def canned_problems(canned: CannedResponse) -> dict[str, str]:
    """What is wrong with ``canned`` as it would be saved (``{}`` when nothing): unknown variables,
    a shortcut already used by the same team or owner, an inactive wrap-up code."""
    problems: dict[str, str] = {}
    for name in ("body", "note"):
        unknown = unknown_variables(getattr(canned, name))
        if unknown:
            problems[name] = "Unknown variable(s): " + ", ".join("{{" + n + "}}" for n in unknown) + "."
    if not canned.body.strip():
        problems["body"] = "A canned response needs some text."
    if canned.shortcut:
        same = CannedResponse.objects.filter(shortcut=canned.shortcut).exclude(pk=canned.pk)
        same = same.filter(team_id=canned.team_id) if canned.team_id else same.filter(owner_id=canned.owner_id)
        if same.exists():
            problems["shortcut"] = f"/{canned.shortcut} is already used" + (
                " by this team." if canned.team_id else " by one of your canned responses."
            )
    if (
        canned.wrap_up_code_id is not None
        and not WrapUpCode.objects.filter(pk=canned.wrap_up_code_id, is_active=True).exists()
    ):
        problems["wrap_up_code"] = "This wrap-up code is not in use."
    return problems


def _person(actor: AnyUser) -> User:
    """The signed-in person ``actor`` is (``require_canned_user`` refused anyone else)."""
    if not isinstance(actor, User):
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return actor


def _require_team_writer(actor: AnyUser, team: Team) -> None:
    if is_admin(actor) or (can_supervise(actor) and team.pk in team_ids_of(actor)):
        return
    raise PermissionDenied(
        "Shared canned responses are managed by the team's supervisors and administrators.",
        code="not_a_supervisor",
    )


def _save(canned: CannedResponse) -> CannedResponse:
    problems = canned_problems(canned)
    taken = problems.pop("shortcut", None)
    if problems:
        raise ValidationFailed("Please correct the highlighted fields.", fields=problems)
    if taken:  # the input is fine; the existing data refuses it
        raise Conflict(taken, code="shortcut_taken", fields={"shortcut": taken})
    canned.full_clean(exclude=["team", "owner", "wrap_up_code"], validate_constraints=False)
    try:
        with transaction.atomic():
            canned.save()
    except IntegrityError as exc:  # a concurrent save took the shortcut between the check and the save
        raise Conflict(f"/{canned.shortcut} was just taken.", code="shortcut_taken") from exc
    return canned


@transaction.atomic
def canned_create(*, actor: AnyUser, team: Team | None = None, **fields: Any) -> CannedResponse:
    """A shared text of ``team`` (its supervisors, administrators) or, without a team, the actor's own."""
    require_canned_user(actor)
    if team is not None:
        _require_team_writer(actor, team)
    canned = CannedResponse(team=team, owner=None if team is not None else _person(actor))
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValidationFailed(f"Unknown field {name!r}.", fields={name: "Unknown field."})
        setattr(canned, name, value)
    return _save(canned)


@transaction.atomic
def canned_update(*, actor: AnyUser, canned: CannedResponse, **fields: Any) -> CannedResponse:
    """Change ``canned`` (its owner, or for a shared text its team's supervisors and administrators)."""
    canned = CannedResponse.objects.select_for_update().get(pk=canned.pk)
    if not may_manage_canned(actor, canned):
        raise PermissionDenied("Only its owner (a shared one: the team's supervisors) may change this.")
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValidationFailed(f"Unknown field {name!r}.", fields={name: "Unknown field."})
        setattr(canned, name, value)
    return _save(canned)


@transaction.atomic
def canned_delete(*, actor: AnyUser, canned: CannedResponse) -> None:
    if not may_manage_canned(actor, canned):
        raise PermissionDenied("Only its owner (a shared one: the team's supervisors) may delete this.")
    CannedResponse.objects.filter(pk=canned.pk).delete()


@dataclass(frozen=True)
class Applied:
    """A canned response applied to a conversation: the text to put in the reply box (the agent
    edits and sends it), the variables left unfilled, the wrap-up code to preselect and the note added."""

    canned: CannedResponse
    text: str
    missing: list[str]
    wrap_up_code: WrapUpCode | None
    note: Message | None


def _fill_for(actor: AnyUser, conversation: Conversation) -> Fill:
    """The values of the variables on ``conversation``: the conversation's live context first, then the customer's."""
    context: dict[str, Any] = {}
    if conversation.customer_id is not None:
        customer_context = context_read(scope=ContextScope.CUSTOMER, context_id=conversation.customer_id)
        context.update({key: entry.value for key, entry in customer_context.entries.items()})
    conversation_context = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk)
    context.update({key: entry.value for key, entry in conversation_context.entries.items()})
    return Fill(agent=actor, customer=conversation.customer, conversation=conversation, context=context)


@transaction.atomic
def canned_apply(*, actor: AnyUser, canned_id: object, conversation: Conversation) -> Applied:
    """Fill ``canned``'s variables for ``conversation`` and, for a macro with a note, add the note.

    The caller checked that ``actor`` sees ``conversation`` (``engagement.access``); the canned
    response must be one ``actor`` may use and active (``Conflict``: ``inactive``). A note is
    written only by the agent handling the conversation (or a supervisor); a plain canned
    response only reads, so any agent who sees the conversation may preview it.
    """
    canned = access_canned(actor, canned_id)
    if not canned.is_active:
        raise Conflict(f"/{canned.shortcut} is switched off.", code="inactive")
    values = _fill_for(actor, conversation)
    filled = fill(canned.body, values)
    note = None
    if canned.note:
        conversation = (
            Conversation.objects.select_for_update(of=("self",)).select_related("customer").get(pk=conversation.pk)
        )
        require_handling_agent(actor, conversation)
        note_text = fill(canned.note, values)
        note, _ = message_add(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
            author=_person(actor),
            author_name=str(actor),
            body=note_text.text,
            payload={"event": "note", "canned": canned.pk, "shortcut": canned.shortcut},
            internal=True,
        )
    return Applied(canned=canned, text=filled.text, missing=filled.missing, wrap_up_code=canned.wrap_up_code, note=note)
