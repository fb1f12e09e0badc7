"""The desk's tools: the knowledge base beside the conversation, conversation search, and the agent's
own canned responses; and the public page of a published knowledge article (the link an agent sends).

Desk pages are for agents and supervisors (``desk_view``); every conversation is fetched through
``engagement.access``, canned responses through ``engagement.canned.selectors``; writes go through
``engagement.canned.services``. Refusals render where the form shows its errors (4xx).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cea.accounts.models import User
from cea.common.channels import Channel
from cea.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from cea.common.roles import team_ids_of
from engagement.access import access_conversation
from engagement.canned.models import SHORTCUT_HELP, CannedResponse
from engagement.canned.selectors import access_canned, canned_visible_to, may_manage_canned
from engagement.canned.services import canned_create, canned_delete, canned_update
from engagement.canned.variables import variable_help
from engagement.conversations.models import AuthorKind, Conversation
from engagement.desktop.search import ConversationQuery, conversation_search
from engagement.desktop.views import desk_view
from engagement.routing.models import WrapUpCode
from engagement.selfservice.models import KnowledgeArticle
from engagement.selfservice.selectors import knowledge_related, knowledge_search
from records.audit.access import customer_access_record

KNOWLEDGE_SHOWN = 5
RESULTS_PER_PAGE = 25


# --- The knowledge base beside the conversation -------------------------------------------------


def article_link(article: KnowledgeArticle) -> str:
    """The article's public address, as the customer opens it."""
    return settings.CEA_PUBLIC_URL + reverse("engagement:help-article", args=[article.pk])


def _last_customer_text(conversation: Conversation) -> str:
    last = (
        conversation.messages.filter(author_kind=AuthorKind.CUSTOMER, internal=False)
        .exclude(body="")
        .order_by("-id")
        .only("body")
        .first()
    )
    return last.body if last else ""


@desk_view
@require_GET
def knowledge_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Published articles for the conversation: for the agent's query ``q`` (full-text search), or
    without one, related to the customer's last message."""
    conversation = access_conversation(request.user, conversation_id)
    query = request.GET.get("q", "").strip()
    if query:
        articles, source = knowledge_search(text=query, limit=KNOWLEDGE_SHOWN), "query"
    else:
        said = _last_customer_text(conversation)
        articles, source = knowledge_related(text=said, limit=KNOWLEDGE_SHOWN), "customer"
    context = {
        "conversation": conversation,
        "query": query,
        "source": source,
        "articles": [(article, article_link(article)) for article in articles],
    }
    return render(request, "engagement/desktop/partials/_knowledge_results.html", context)


@require_GET
def help_article_page(request: HttpRequest, article_id: int) -> HttpResponse:
    """A published article for anyone (the link an agent sends a customer); unpublished: 404."""
    article = KnowledgeArticle.objects.filter(pk=article_id, is_published=True).first()
    if article is None:
        raise Http404("No such article.")
    return render(request, "engagement/help/article.html", {"article": article})


# --- Conversation search ------------------------------------------------------------------------


class ConversationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=_("Text"))
    customer = forms.CharField(required=False, max_length=200)
    channel = forms.ChoiceField(required=False, choices=[("", _("Any channel")), *Channel.choices])
    agent = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, forms.TypedChoiceField)
        agent_field.choices = [("", gettext("Any agent")), *((agent.pk, str(agent)) for agent in agents)]


def _team_agents(user):
    """The agents a user may pick in the search: those who share a team with them (and themselves)."""
    return User.objects.filter(teams__in=team_ids_of(user)).distinct().order_by("first_name", "last_name", "pk")


@desk_view
@require_GET
def conversation_search_page(request: HttpRequest) -> HttpResponse:
    """Find conversations of the agent's teams by customer, text, channel, agent and date."""
    form = ConversationSearchForm(request.GET or None, agents=_team_agents(request.user))
    page = None
    if form.is_bound:
        if not form.is_valid():
            fields = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
            raise ValidationFailed(gettext("Please correct the highlighted fields."), fields=fields)
        query = ConversationQuery(
            text=form.cleaned_data["q"],
            customer=form.cleaned_data["customer"],
            channel=form.cleaned_data["channel"],
            agent=form.cleaned_data["agent"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
        if not query.is_empty:
            found = conversation_search(user=request.user, query=query)
            page = Paginator(found, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {"form": form, "page": page, "params": params.urlencode()}
    return render(request, "engagement/desktop/conversation_search.html", context)


@desk_view
@require_GET
def conversation_transcript_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A conversation found by the search, read only: its details and messages."""
    conversation = access_conversation(request.user, conversation_id)
    if conversation.customer_id is not None:
        customer_access_record(
            actor=request.user,
            customer_ids=[conversation.customer_id],
            surface="desk_panel",
            detail=f"conversation {conversation.pk} (search)",
        )
    messages = conversation.messages.select_related("author").order_by("sent_at", "id")
    return render(
        request,
        "engagement/desktop/conversation_transcript.html",
        {"conversation": conversation, "messages": messages},
    )


# --- The agent's own canned responses ----------------------------------------------------------


class PersonalCannedForm(forms.Form):
    title = forms.CharField(max_length=120, label=_("Title"))
    shortcut = forms.SlugField(max_length=40, help_text=SHORTCUT_HELP, label=_("Shortcut"))
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), strip=False, label=_("Body"))
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Internal note (a macro)")
    )
    wrap_up_code = forms.ModelChoiceField(
        queryset=WrapUpCode.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        label=_("Wrap-up code to preselect (a macro)"),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("In use"))


def _canned_page(request: HttpRequest, form: PersonalCannedForm, editing: CannedResponse | None, status: int = 200):
    visible = list(canned_visible_to(request.user).order_by("team__name", "shortcut", "pk"))
    context = {
        "form": form,
        "editing": editing,
        "personal": [canned for canned in visible if canned.is_personal],
        "shared": [canned for canned in visible if not canned.is_personal],
        "variables": variable_help(),
    }
    return render(request, "engagement/desktop/canned.html", context, status=status)


def _save_personal(request: HttpRequest, editing: CannedResponse | None) -> HttpResponse:
    form = PersonalCannedForm(request.POST)
    if not form.is_valid():
        return _canned_page(request, form, editing, status=400)
    try:
        if editing is None:
            canned_create(actor=request.user, **form.cleaned_data)
        else:
            canned_update(actor=request.user, canned=editing, **form.cleaned_data)
    except ApplicationError as refusal:
        for name, messages in refusal.fields.items():
            form.add_error(name if name in form.fields else None, messages)
        if not refusal.fields:
            form.add_error(None, refusal.message)
        return _canned_page(request, form, editing, status=refusal.status_code)
    return redirect("engagement:desk-canned")


@desk_view
@require_http_methods(["GET", "POST"])
def canned_page(request: HttpRequest) -> HttpResponse:
    """The agent's own canned responses (add, change, delete) and their teams' shared ones (read)."""
    if request.method == "POST":
        return _save_personal(request, None)
    return _canned_page(request, PersonalCannedForm(), None)


@desk_view
@require_http_methods(["GET", "POST"])
def canned_edit_page(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned = access_canned(request.user, canned_id)
    if not may_manage_canned(request.user, canned):
        raise PermissionDenied(gettext("Only its owner may change this canned response."))
    if request.method == "POST":
        return _save_personal(request, canned)
    initial = {
        "title": canned.title,
        "shortcut": canned.shortcut,
        "body": canned.body,
        "note": canned.note,
        "wrap_up_code": canned.wrap_up_code.code if canned.wrap_up_code else None,
        "is_active": canned.is_active,
    }
    return _canned_page(request, PersonalCannedForm(initial=initial), canned)


@desk_view
@require_POST
def canned_delete_action(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned_delete(actor=request.user, canned=access_canned(request.user, canned_id))
    return redirect("engagement:desk-canned")
