"""The live wallboard speaks the language of the page that opened it: each socket's board HTML is
rendered in the language of its handshake (the language cookie, else Accept-Language), one read
serving the team's sockets of every language."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting
from tests.engagement.websockets import accepted, receive, run, session_cookie, socket
from tests.translation_support import compiled_catalogs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("wallboard_env", "eager_tasks")]


@pytest.fixture(autouse=True, scope="module")
def german_catalog():
    yield from compiled_catalogs()


async def opened(user, team_id: int, *extra_headers: tuple[bytes, bytes]):
    session = await database_sync_to_async(session_cookie)(user)
    cookie = b"; ".join(
        [f"sessionid={session}".encode(), *(value for name, value in extra_headers if name == b"cookie")]
    )
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", cookie)]
    headers += [(name, value) for name, value in extra_headers if name != b"cookie"]
    return await accepted(socket(f"/ws/insights/wallboard/{team_id}/", headers))


def test_each_socket_gets_the_board_in_its_own_language(supervisor, team_a):
    # Given a waiting contact, and three pages of the wallboard: German by Accept-Language, German by the
    # language cookie over an English Accept-Language, and one that states no language
    waiting(QueueFactory(name="billing", label="Billing", team=team_a))

    async def scenario():
        by_header = await opened(supervisor, team_a.pk, (b"accept-language", b"de-DE,de;q=0.9"))
        by_cookie = await opened(supervisor, team_a.pk, (b"accept-language", b"en"), (b"cookie", b"django_language=de"))
        plain = await opened(supervisor, team_a.pk)
        # When each gets its first frame
        frames = [await receive(each, "wallboard.snapshot") for each in (by_header, by_cookie, plain)]
        # Then the German pages read German headings, the other English, over the same figures
        for frame in frames[:2]:
            assert ">Längste Wartezeit</th>" in frame["html"]
            assert "Longest wait" not in frame["html"]
        assert ">Longest wait</th>" in frames[2]["html"]
        assert "Längste Wartezeit" not in frames[2]["html"]
        billing = [[queue for queue in frame["board"]["queues"] if queue["name"] == "billing"] for frame in frames]
        assert [queue["waiting"] for (queue,) in billing] == [1, 1, 1]
        assert all("html_by_language" not in frame for frame in frames)

    run(scenario)
