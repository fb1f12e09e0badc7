"""Helpers of the agent desktop's tests: work on an agent's desk, and reading the desk's HTML by its DOM contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser

from django.utils import timezone

from cea.common.channels import Channel, Direction
from engagement.conversations.models import AuthorKind, Conversation, Message
from engagement.conversations.services import conversation_start, message_add
from engagement.orchestration import conversation_escalate
from engagement.routing.engine import dispatch_queue, queue_for
from engagement.routing.models import Offer, OfferStatus
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set

# --- Work on a desk -----------------------------------------------------------------------------


def offered(agent, *, channel: str = Channel.CHAT, customer=None, **fields) -> Offer:
    """A conversation that asked for an agent and is offered to ``agent`` (who is made available).

    The router runs here, synchronously: in a test transaction ``kick_on_commit`` never fires.
    """
    presence_set(actor=agent, agent_user=agent, presence="available")
    conversation, _ = conversation_start(channel=channel, customer=customer, **fields)
    conversation_escalate(conversation=conversation)
    dispatch_queue(queue_for(conversation.queue).pk)
    return Offer.objects.select_related("work_item").get(
        work_item__conversation=conversation, status=OfferStatus.PENDING, agent__user=agent
    )


def on_desk(agent, *, channel: str = Channel.CHAT, customer=None, **fields) -> Conversation:
    """A conversation active with ``agent``, accepted through the router."""
    offer = offered(agent, channel=channel, customer=customer, **fields)
    return offer_accept(actor=agent, offer_id=offer.pk)


def customer_says(conversation: Conversation, body: str):
    message, _ = message_add(
        conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body=body
    )
    return message


def customer_says_unpushed(conversation: Conversation, body: str) -> Message:
    """A customer message stored whose live push never went out (the channel layer could not take it)."""
    return Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body=body,
        sent_at=timezone.now(),
    )


# --- Reading HTML -------------------------------------------------------------------------------

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """The element's text, whitespace-normalised."""
        parts: list[str] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str = "", cls: str = "", **attrs) -> list[Element]:
        """Descendants with this tag, class and attributes (``data_offer_id`` is ``data-offer-id``;
        ``True`` only asks that the attribute be there)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [
            element
            for element in self.iter()
            if (not tag or element.tag == tag)
            and (not cls or cls in element.classes)
            and all(
                (name in element.attrs) if value is True else element.attrs.get(name) == str(value)
                for name, value in wanted.items()
            )
        ]

    def find(self, tag: str = "", cls: str = "", **attrs) -> Element:
        found = self.find_all(tag, cls, **attrs)
        assert len(found) == 1, f"{len(found)} elements <{tag or '*'} class={cls!r} {attrs}>"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(response_or_html) -> Element:
    html = response_or_html if isinstance(response_or_html, str) else response_or_html.content.decode()
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def ids(elements: list[Element], attribute: str, cast: Callable = int) -> list:
    return [cast(element.attrs[attribute]) for element in elements]
