"""The contacts behind a figure: an HTML page (htmx pages), each contact linked to its conversation's
record and its customer's 360, its own CSV export, permission-checked by role and team."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact
from tests.records.factories import CustomerFactory
from tests.support import session_client

pytestmark = pytest.mark.django_db
REPORT = "/insights/reports/"
DAY = {"kpis": ["handled", "aht"], "start": "2026-03-02", "end": "2026-03-02", "interval": "day"}


@pytest.fixture
def centre():
    """North: anna's two calls at 09:00 (one from a north customer); south: bob's one call."""
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", teams=[north])
    bob = UserFactory(username="bob", teams=[south])
    customer = CustomerFactory(given_name="Cleo", family_name="North", team=north)
    calls = [
        contact(team=north, agent=anna, talk=120, customer=customer),
        contact(team=north, agent=anna, talk=240, wrap_up_code="refund"),
        contact(team=south, agent=bob, talk=60),
    ]
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    return {"north": north, "south": south, "anna": anna, "bob": bob, "customer": customer, "calls": calls}


def _figure_link(client, kpi: str, group: str, **params) -> str:
    """The link of ``group``'s ``kpi`` figure in the day's report by team."""
    table = client.get(REPORT, {**DAY, "group_by": "team", **params}).context["table"]
    row = next(row for row in table.rows if row.group_label == group)
    return next(cell.drill_url for cell in row.cells if cell.kpi.name == kpi)


def test_a_figure_opens_the_page_of_its_contacts_linked_to_their_conversation_and_customer(centre):
    # Given north's supervisor / When they follow north's AHT figure
    lead = session_client(UserFactory(role="supervisor", teams=[centre["north"]]))
    link = _figure_link(lead, "aht", "north")
    response = lead.get(link)
    # Then an HTML page lists north's two contacts and names the figure
    assert link.startswith("/insights/reports/contacts/?") and link.endswith("kpi=aht")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert [interaction.pk for interaction in response.context["page"]] == [call.pk for call in centre["calls"][:2]]
    assert "Behind <strong>Average handle time</strong>" in html
    # And each contact links to its record in the console, the customer to their 360 (not to the JSON API)
    first, second = centre["calls"][:2]
    assert f'href="/admin/records/interaction/{first.pk}/change/"' in html
    assert f'href="/admin/records/interaction/{second.pk}/change/"' in html
    assert f'href="/customers/{centre["customer"].pk}/"' in html
    assert "/api/v1/" not in html
    # And both pages open for the supervisor
    assert lead.get(f"/admin/records/interaction/{first.pk}/change/").status_code == 200
    assert lead.get(f"/customers/{centre['customer'].pk}/").status_code == 200


def test_another_teams_figure_page_and_csv_are_refused(centre):
    # Given north's figure link, as an admin sees it / When south's supervisor follows it or its CSV
    link = _figure_link(session_client(UserFactory(role="admin")), "handled", "north")
    south_lead = session_client(UserFactory(role="supervisor", teams=[centre["south"]]))
    # Then both are refused
    assert south_lead.get(link).status_code == 403
    assert south_lead.get(link.replace("/contacts/?", "/contacts.csv?")).status_code == 403
    # And without a team, south's supervisor sees only south's contact of the day
    at = "2026-03-02T00:00:00+00:00"
    response = south_lead.get("/insights/reports/contacts/", {"at": at, "interval": "day"})
    assert [interaction.agent.username for interaction in response.context["page"]] == ["bob"]


def test_an_agent_sees_their_own_contacts_without_console_links_and_is_refused_anothers(centre):
    # Given bob / When he opens the day's contacts, and then anna's
    bob = session_client(centre["bob"])
    params = {"at": "2026-03-02T00:00:00+00:00", "interval": "day"}
    own = bob.get("/insights/reports/contacts/", params)
    # Then only his, with no console link (agents have no console); anna's are refused
    assert [interaction.agent.username for interaction in own.context["page"]] == ["bob"]
    assert "/admin/" not in own.content.decode()
    assert bob.get("/insights/reports/contacts/", {**params, "agent": centre["anna"].pk}).status_code == 403
    assert bob.get("/insights/reports/contacts.csv", {**params, "agent": centre["anna"].pk}).status_code == 403


def test_the_contacts_page_is_paged_by_htmx(centre):
    # Given 52 north contacts in the hour of T0 (50 more than the fixture's two)
    for _ in range(50):
        contact(team=centre["north"], agent=centre["anna"], talk=30)
    admin = session_client(UserFactory(role="admin"))
    params = {"at": "2026-03-02T09:00:00+00:00", "interval": "hour", "team": centre["north"].pk}
    # When the first page loads, then htmx asks for the second
    first = admin.get("/insights/reports/contacts/", params)
    second = admin.get("/insights/reports/contacts/", {**params, "page": 2}, headers={"HX-Request": "true"})
    # Then 50 are on the first page with an htmx link to the next, 2 on the second, swapped in alone
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 52
    assert 'hx-get="?at=' in first.content.decode() and 'data-testid="drill-next"' in first.content.decode()
    assert len(second.context["page"]) == 2
    assert b"<html" not in second.content and b'data-testid="drill-contacts"' in second.content
    assert second["HX-Push-Url"].endswith("page=2")


def test_the_contacts_csv_is_exact(centre):
    # Given an admin / When they export the contacts behind north's figure of the day
    admin = session_client(UserFactory(role="admin"))
    link = _figure_link(admin, "handled", "north")
    response = admin.get(link.replace("/contacts/?", "/contacts.csv?"))
    # Then one row per contact, with the per-conversation export's columns
    assert response["Content-Disposition"] == 'attachment; filename="contacts-20260302-0000.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    first, second = centre["calls"][:2]
    anna, customer = centre["anna"].username, str(centre["customer"])
    assert lines == [
        "Interaction,Started,Answered,Ended,Channel,Direction,Queue,Team,Agent,Customer,Wrap-up code,"
        "Disposition,Wait (s),Handle (s)",
        f"{first.pk},2026-03-02T09:00:00+00:00,2026-03-02T09:00:10+00:00,2026-03-02T09:02:10+00:00,voice,inbound,"
        f"billing,north,{anna},{customer},,,10,120",
        f"{second.pk},2026-03-02T09:00:00+00:00,2026-03-02T09:00:10+00:00,2026-03-02T09:04:10+00:00,voice,inbound,"
        f"billing,north,{anna},,refund,,10,240",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"at": "yesterday"}, "at"),
        ({"at": "2026-03-02T00:00:00"}, "at"),
        ({"at": "2026-03-02T00:00:00+00:00", "kpi": "speed"}, "kpi"),
        ({"at": "2026-03-02T00:00:00+00:00", "team": "north"}, "team"),
    ],
)
def test_a_malformed_drill_down_says_what_is_wrong(centre, params, field):
    response = session_client(UserFactory(role="admin")).get("/insights/reports/contacts/", params)
    assert response.status_code == 400
    assert field.encode() in response.content


COUNTED_CONTACTS = [
    # (KPI, the figure's term the contacts behind it are counted in)
    ("offered", "numerator"),
    ("answered", "numerator"),
    ("handled", "numerator"),
    ("abandoned", "numerator"),
    ("abandonment_rate", "denominator"),
    ("asa", "denominator"),
    ("aht", "denominator"),
    ("transfer_rate", "denominator"),
    ("fcr", "denominator"),
    ("containment", "denominator"),
]


def test_the_contacts_behind_each_figure_are_as_many_as_it_counts(centre):
    # Given north's day with more kinds of contact: abandoned, a callback, one contained in self-service,
    # an outbound call and one that never queued (no queue, no routing), from a customer, wrapped up:
    # queued 4 (the fixture's two, abandoned, callback), inbound 6, handled 4, FCR-eligible 1
    north, anna = centre["north"], centre["anna"]
    contact(team=north, answered=False, wait=40)
    contact(team=north, answered=False, wait=15, disposition="callback")
    contact(team=north, answered=False, wait=0, contained=True, queue="")
    contact(team=north, agent=anna, direction="outbound", talk=50)
    contact(team=north, agent=anna, queue="", talk=70, wrap_up_code="sale", customer=centre["customer"])
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    lead = session_client(UserFactory(role="supervisor", teams=[north]))
    kpis = [name for name, _ in COUNTED_CONTACTS]
    [row] = lead.get(REPORT, {**DAY, "kpis": kpis}).context["table"].rows
    # When the supervisor follows each figure / Then its page lists as many contacts as the figure counts
    listed, figures = {}, {}
    for cell, (name, term) in zip(row.cells, COUNTED_CONTACTS, strict=True):
        page = lead.get(cell.drill_url).context["page"]
        listed[name], figures[name] = page.paginator.count, getattr(cell, term) if term == "denominator" else cell.value
    assert listed == figures
    assert figures == {
        "offered": 4,
        "answered": 2,
        "handled": 4,
        "abandoned": 1,
        "abandonment_rate": 4,
        "asa": 2,
        "aht": 4,
        "transfer_rate": 4,
        "fcr": 1,
        "containment": 6,
    }


def test_a_figure_that_counts_no_contacts_lists_every_contact_of_its_interval(centre):
    # Given north's day / When the supervisor follows its occupancy (agents' time, not contacts)
    lead = session_client(UserFactory(role="supervisor", teams=[centre["north"]]))
    at = {"at": "2026-03-02T00:00:00+00:00", "interval": "day", "team": centre["north"].pk}
    response = lead.get("/insights/reports/contacts/", {**at, "kpi": "occupancy"})
    # Then every contact counted in the interval is listed, and the page says what the figure is
    assert response.context["page"].paginator.count == 2
    assert response.context["behind"] == ""
    assert "Behind <strong>Occupancy</strong>" in response.content.decode()
