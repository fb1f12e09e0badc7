"""The console's check of a flat-file connector's settings and mappings: each problem, by its setting."""

from __future__ import annotations

import pytest

from integration.connectors.flatfile.connector import flatfile_settings_check
from integration.sample_systems import customer_master


def _settings(**overrides):
    return {**customer_master.connector_settings("/srv/drop/custmast"), **overrides}


def test_the_sample_settings_and_mappings_are_fine():
    assert flatfile_settings_check(_settings(), customer_master.MAPPINGS) == {}


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"folder": ""}, ["folder (the drop folder) is required."]),
        ({"folder": None}, ["folder (the drop folder) is required."]),
        ({"page_size": 0}, ["page_size is a number of lines from 1 to 100000."]),
        ({"page_size": "1000"}, ["page_size is a number of lines from 1 to 100000."]),
        ({"after": "delete"}, ["after is 'leave' or 'move'."]),
        ({"delimiter": ";;"}, ["delimiter is one character (default ',')."]),
        ({"has_header": "no"}, ["has_header is true or false."]),
        ({"encoding": "klingon"}, ["encoding is a text encoding, e.g. utf-8, latin-1 or cp037."]),
        ({"skip_prefixes": ["HDR", ""]}, ["skip_prefixes[1]: a prefix is one character or more."]),
        (
            {"holdings": [{"mappings": {}}, "account"]},
            [
                "holdings[0]: kind is what the holding is (account, loan, card …).",
                "holdings[1]: each of holdings has a kind and mappings.",
            ],
        ),
        ({"layout": []}, ["layout: layout is a non-empty list of fields."]),
        (
            {"folder": "", "layout": [{"name": "A"}]},
            ["folder (the drop folder) is required.", "layout: Field 'A': start is a position counted from 1."],
        ),
    ],
)
def test_each_problem_with_the_settings_is_named(overrides, problems):
    # Given the sample settings with something wrong, when they are checked
    found = flatfile_settings_check(_settings(**overrides), customer_master.MAPPINGS)

    # Then every problem is listed under settings, in the settings' order
    assert found == {"settings": problems}


def test_mappings_name_the_customer_id_and_fields_of_the_layout():
    # Given a holding and the customer both mapped from fields the layout does not have, and no customer id
    holdings = [{"kind": "account", "mappings": {"external_id": "ACCT-NUMBER"}}]

    # When checked
    found = flatfile_settings_check(_settings(holdings=holdings), {"given_name": "FORENAME"})

    # Then both mapping problems are named
    assert found == {
        "mappings": [
            "external_id must be mapped (the customer's id in the file).",
            "Not fields of the layout: ACCT-NUMBER, FORENAME.",
        ]
    }
