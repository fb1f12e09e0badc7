"""The sync reads and cleans the next page while the database writes this one, but never past a
page the connector must see committed first (a file's last page)."""

from __future__ import annotations

from dataclasses import dataclass

from integration.connectors.base import Page, SourceItem
from integration.sync.services import _pages_read_ahead


@dataclass(frozen=True)
class _Page(Page):
    settles: bool = False

    @property
    def commit_before_next(self) -> bool:
        return self.settles


def _customer(number: int) -> SourceItem:
    fields = {"external_id": f"C{number}", "given_name": "Pat", "family_name": f"N{number}", "phone": "nope"}
    return SourceItem(kind="customer", key=f"line:{number}", fields=fields)


def _pages(log: list[str]):
    for number, settles in ((1, False), (2, True), (3, False), (4, False)):
        log.append(f"read {number}")
        yield _Page([_customer(number)], watermark=str(number), settles=settles)


def test_the_next_page_is_read_ahead_except_after_a_page_that_must_be_committed_first():
    # Given pages where page 2 must be committed before the connector reads on
    log: list[str] = []

    # When the sync loads them through the read-ahead
    for page, rows in _pages_read_ahead(_pages(log)):
        log.append(f"load {page.watermark}")
        # Then each page comes with its customer rows already cleaned (or refused, with the reason)
        assert [row.external_id for row in rows] == [f"C{page.watermark}"]
        assert rows[0].prepared is not None
        assert "phone" in rows[0].prepared.error.fields

    # and page 3 was read only after page 2 was loaded; the others while the previous one loaded
    assert log == ["read 1", "read 2", "load 1", "load 2", "read 3", "read 4", "load 3", "load 4"]


def test_no_pages_means_no_loads():
    assert list(_pages_read_ahead(iter(()))) == []


def test_an_error_reading_ahead_comes_after_the_page_in_hand_is_loaded():
    # Given a source that fails on its second page
    def pages():
        yield _Page([_customer(1)], watermark="1")
        raise ConnectionError("the back-end went away")

    loaded = []
    # When the sync loads through the read-ahead
    try:
        for page, _ in _pages_read_ahead(pages()):
            loaded.append(page.watermark)
    except ConnectionError as error:
        failure = error
    # Then the first page was still loaded, and then the error came
    assert loaded == ["1"]
    assert str(failure) == "the back-end went away"
