import pytest

from cea.common.errors import Conflict, ValidationFailed
from records.identities.models import Identity
from records.identities.normalise import normalise
from records.identities.selectors import customer_lookup, customer_lookup_any
from records.identities.services import identity_add, identity_remove
from records.journey.models import JourneyEvent
from tests.records.factories import CustomerFactory


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("phone", "+44 7911 123456", "+447911123456"),
        ("phone", "07911 123456", "+447911123456"),  # read in the default region (GB)
        ("email", "  Alice.Smith@Example.COM ", "alice.smith@example.com"),
        ("social", "Twitter:@Alice_B", "twitter:alice_b"),
        ("account", "acc-0012 3456", "ACC00123456"),
        ("device", "dev:thermostat-42", "dev:thermostat-42"),
    ],
)
def test_normalise_gives_one_spelling(kind, raw, stored):
    # When
    value, label = normalise(kind, raw)
    # Then
    assert value == stored
    assert label == stored


def test_national_id_is_stored_hashed_and_shown_masked():
    # When
    value, label = normalise("national_id", "ab 12 34 56 c")
    # Then
    assert len(value) == 64 and "AB123456C" not in value
    assert label == "•••56C"
    assert normalise("national_id", "AB123456C")[0] == value


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("phone", "12"),
        ("phone", "not a number"),
        ("email", "alice@"),
        ("social", "alice"),
        ("social", "myspace:bob"),
        ("account", "   "),
        ("national_id", "!!"),
        ("fax", "123"),
    ],
)
def test_malformed_identifiers_are_refused(kind, raw):
    with pytest.raises(ValidationFailed):
        normalise(kind, raw)


@pytest.mark.django_db
def test_identifier_belongs_to_one_customer_only(agent):
    # Given
    alice, bob = CustomerFactory(), CustomerFactory()
    identity_add(actor=agent, customer=alice, kind="email", value="shared@example.com")
    # When / Then
    with pytest.raises(Conflict) as refused:
        identity_add(actor=agent, customer=bob, kind="email", value="SHARED@example.com")
    assert refused.value.code == "identity_taken"
    assert Identity.objects.filter(customer=bob).count() == 0


@pytest.mark.django_db
def test_adding_the_same_identifier_twice_to_one_customer_is_idempotent(agent):
    alice = CustomerFactory()
    first = identity_add(actor=agent, customer=alice, kind="phone", value="+447911123456")
    second = identity_add(actor=agent, customer=alice, kind="phone", value="07911 123456")
    assert first.pk == second.pk
    assert Identity.objects.filter(customer=alice).count() == 1


@pytest.mark.django_db
def test_lookup_finds_the_customer_from_any_spelling(agent):
    # Given
    alice = CustomerFactory()
    identity_add(actor=agent, customer=alice, kind="phone", value="+44 7911 123456")
    identity_add(actor=agent, customer=alice, kind="national_id", value="AB123456C")
    # Then
    assert customer_lookup(kind="phone", value="07911123456") == alice
    assert customer_lookup(kind="national_id", value="ab 123456 c") == alice
    assert customer_lookup(kind="email", value="nobody@example.com") is None


@pytest.mark.django_db
def test_lookup_any_reports_every_match_instead_of_guessing(agent):
    # Given: a value that is an account number of one customer and a device id of another
    alice, bob = CustomerFactory(), CustomerFactory()
    identity_add(actor=agent, customer=alice, kind="account", value="X100")
    identity_add(actor=agent, customer=bob, kind="device", value="X100")
    # When
    matches = customer_lookup_any(value="X100")
    # Then
    assert sorted((kind, c.pk) for kind, c in matches) == sorted([("account", alice.pk), ("device", bob.pk)])


@pytest.mark.django_db
def test_identity_add_and_remove_write_the_journey(agent):
    alice = CustomerFactory()
    identity = identity_add(actor=agent, customer=alice, kind="social", value="instagram:@alice")
    identity_remove(actor=agent, identity=identity)
    kinds = list(JourneyEvent.objects.filter(customer=alice).order_by("id").values_list("kind", flat=True))
    assert kinds == ["identity.added", "identity.removed"]
    assert not Identity.objects.filter(pk=identity.pk).exists()
