"""Compile the interface's translation catalogs (``locale/<lang>/LC_MESSAGES/*.po``) into the
``.mo`` files gettext reads, with polib: no GNU gettext needed on the machine (``make`` runs it
before ``run`` and ``test``; docs/translations.md). A catalog is compiled again only when its
``.po`` is newer than its ``.mo``.

    python -m cea.common.translations [--force]
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"


def compile_catalogs(locale_dir: Path = LOCALE_DIR, *, force: bool = False) -> list[Path]:
    """Compile every ``.po`` under ``locale_dir`` whose ``.mo`` is missing or older; the ``.mo`` files written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def supported_language(code: str) -> str:
    """The interface's language nearest to ``code`` (``de-AT`` → ``de``; the first of an
    Accept-Language header's); the default language (English) when none is."""
    first = code.split(",")[0].split(";")[0].strip().lower()[:32]
    try:
        return translation.get_supported_language_variant(first) if first else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE


if __name__ == "__main__":
    for path in compile_catalogs(force="--force" in sys.argv[1:]):
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
