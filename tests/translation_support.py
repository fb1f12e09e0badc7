"""The translation catalogs for a test: compiled from locale/*/LC_MESSAGES/*.po as ``make`` compiles
them, and gettext's per-process cache emptied so that the test reads them."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import trans_real

from cea.common.translations import compile_catalogs

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}


def compiled_catalogs() -> Iterator[None]:
    """Use as a fixture's body: ``yield from compiled_catalogs()``."""
    compile_catalogs()
    _forget()
    yield
    _forget()


def _forget() -> None:
    trans_real._translations = {}
    trans_real._default = None
