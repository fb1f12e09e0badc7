"""``one_or_none``: a row by a unique key, without ``.first()``'s ORDER BY (cea/common/queries.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cea.common.queries import one_or_none
from records.customers.models import Customer
from tests.support import make_customer

pytestmark = pytest.mark.django_db


def test_the_row_of_a_unique_key_or_none_in_one_statement_without_order_by(team_a):
    # Given: a customer (whose model is ordered by name), and an id nobody has
    customer = make_customer(team_a)
    rows = Customer.objects.select_related("team", "merged_into")
    # When
    with CaptureQueriesContext(connection) as queries:
        found = one_or_none(rows.filter(pk=customer.pk))
        missing = one_or_none(rows.filter(pk=customer.pk + 1_000_000))
    # Then: the customer with its team loaded, None for the unknown id, and neither statement ordered
    assert found == customer
    assert found.team == team_a
    assert missing is None
    assert len(queries.captured_queries) == 2
    assert not [query["sql"] for query in queries.captured_queries if "ORDER BY" in query["sql"]]
