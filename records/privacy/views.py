"""The readable (printable) document of a right-of-access export, for its approver."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import render
from django.views.decorators.http import require_GET

from records.privacy.access_export import privacy_access_document
from records.privacy.selectors import access_privacy_request


def _cell(value: Any) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _table(title: str, rows: list[Any]) -> dict[str, Any]:
    dict_rows = [row if isinstance(row, dict) else {"value": row} for row in rows]
    columns: list[str] = []
    for row in dict_rows:
        columns += [key for key in row if key not in columns]
    return {"title": title, "columns": columns, "rows": [[_cell(row.get(c)) for c in columns] for row in dict_rows]}


def readable_sections(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each part of the export as titled tables (a part's sections become tables of their own)."""
    sections = []
    for name, exported in document["parts"].items():
        if isinstance(exported, dict):
            tables = [
                _table(
                    key,
                    value if isinstance(value, list) else [value] if isinstance(value, dict) else [{"value": value}],
                )
                for key, value in exported.items()
            ]
        else:
            tables = [_table(name, exported if isinstance(exported, list) else [exported])]
        sections.append({"name": name, "tables": tables})
    return sections


@login_required
@require_GET
def privacy_export_page(request, request_id: int):
    privacy_request = access_privacy_request(request.user, request_id)
    document = privacy_access_document(actor=request.user, request=privacy_request)
    response = render(
        request,
        "records/privacy_export.html",
        {"privacy_request": privacy_request, "document": document, "sections": readable_sections(document)},
    )
    response["Cache-Control"] = "no-store"
    return response
