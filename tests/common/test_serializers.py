"""``cea.common.serializers.ModelSerializer`` builds its fields once per class and copies them for
each instance; a subclass with its own ``get_fields`` builds them per instance, as DRF does."""

from __future__ import annotations

import pytest

from cea.common.serializers import ModelSerializer
from records.cases.models import SlaPolicy
from tests.records.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db


def _counting_serializer(*, own_get_fields: bool) -> type[ModelSerializer]:
    class Counting(ModelSerializer):
        builds = 0

        class Meta:
            model = SlaPolicy
            fields = ["id", "name", "priority", "first_response_minutes"]

        def build_field(self, *args, **kwargs):
            type(self).builds += 1
            return super().build_field(*args, **kwargs)

    if own_get_fields:

        class Dynamic(Counting):
            builds = 0

            def get_fields(self):
                return super().get_fields()

        return Dynamic
    return Counting


def test_fields_are_built_once_per_class_and_each_instance_gets_its_own_bound_copy():
    # Given
    policy = SlaPolicyFactory(name="Gold")
    serializer_class = _counting_serializer(own_get_fields=False)
    # When: two instances read their fields and serialize
    first, second = serializer_class(policy), serializer_class(policy)
    first_fields, second_fields = first.fields, second.fields
    # Then: four fields built once, not again for the second; no field object shared, each bound to its own parent
    assert serializer_class.builds == 4
    assert list(first_fields) == list(second_fields) == ["id", "name", "priority", "first_response_minutes"]
    assert all(first_fields[name] is not second_fields[name] for name in first_fields)
    assert {field.parent for field in first_fields.values()} == {first}
    assert {field.parent for field in second_fields.values()} == {second}
    assert first.data == second.data
    assert first.data["name"] == "Gold"


def test_a_serializer_with_its_own_get_fields_builds_them_per_instance():
    # Given
    policy = SlaPolicyFactory()
    serializer_class = _counting_serializer(own_get_fields=True)
    # When
    names = [list(serializer_class(policy).fields) for _ in range(2)]
    # Then: built for each instance (DRF's behaviour, for fields that may depend on the request)
    assert names == [["id", "name", "priority", "first_response_minutes"]] * 2
    assert serializer_class.builds == 8
