"""Discovery: seeded k-means over the behavioural features, explained in words, adopted or dismissed."""

from __future__ import annotations

import pytest

from cea.common.errors import Conflict, PermissionDenied
from insights.personas.models import ClusterStatus, DiscoveredCluster, PersonaDefinition
from insights.personas.rules import rules_problems
from insights.personas.services import cluster_adopt, cluster_dismiss, personas_discover
from tests.insights.personas_support import customer_with, persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_kinds_of_customer():
    """Twelve chat-heavy recent gold customers, twelve voice-only long-standing standard ones (slight variations)."""
    for n in range(12):
        customer_with(value_tier="gold", contacts={"chat": 5 + n % 3, "voice": n % 2}, age_days=20 + n)
        customer_with(
            value_tier="standard", contacts={"voice": 1 + n % 2}, age_days=900 + 5 * n, holdings={"account": 1}
        )


def described(run):
    return [
        (cluster.size, cluster.centroid, cluster.distinguishing, cluster.summary)
        for cluster in DiscoveredCluster.objects.filter(run=run).order_by("number")
    ]


def test_the_same_data_and_seed_give_the_same_clusters(two_kinds_of_customer):
    # When discovery runs twice with the same seed
    first = personas_discover(random_state=7, k_range=range(2, 5))
    second = personas_discover(random_state=7, k_range=range(2, 5))
    # Then it finds the same k, silhouettes and clusters
    assert (first.k, first.silhouettes) == (second.k, second.silhouettes)
    assert described(first) == described(second)


def test_clusters_are_the_groups_in_the_data_and_say_what_sets_them_apart(two_kinds_of_customer):
    # When discovery runs
    run = personas_discover(random_state=0, k_range=range(2, 5))
    # Then it finds the two groups, of twelve each
    assert run.k == 2
    assert run.customers == 24
    clusters = list(DiscoveredCluster.objects.filter(run=run))
    assert sorted(cluster.size for cluster in clusters) == [12, 12]
    chat = next(cluster for cluster in clusters if cluster.centroid["share_chat"] > 0.5)
    # And the chat cluster is explained by the features furthest from the mean, in sd
    features = [item["feature"] for item in chat.distinguishing]
    assert {"share_chat", "share_voice", "value_rank", "tenure_days"} <= set(features)
    by_feature = {item["feature"]: item for item in chat.distinguishing}
    assert by_feature["share_chat"]["z"] > 0.5
    assert by_feature["tenure_days"]["z"] < -0.5
    assert chat.summary.startswith("12 customers (50%): ")
    assert " sd)" in chat.summary


def test_adopting_a_cluster_creates_a_persona_with_valid_suggested_rules(two_kinds_of_customer, admin_user):
    # Given a discovery run
    run = personas_discover(random_state=0, k_range=range(2, 3))
    chat = next(cluster for cluster in run.clusters.all() if cluster.centroid["share_chat"] > 0.5)
    # When an admin adopts the chat cluster
    definition = cluster_adopt(actor=admin_user, cluster_id=chat.pk, key="chat-first", name="Chat first")
    # Then a persona exists with rules from what set the cluster apart, valid and editable
    assert definition.key == "chat-first"
    assert definition.rules and rules_problems(definition.rules) == []
    assert definition.adopted_from_id == chat.pk
    chat.refresh_from_db()
    assert (chat.status, chat.persona_id, chat.decided_by_id) == (ClusterStatus.ADOPTED, definition.pk, admin_user.pk)


def test_adopting_never_overwrites_an_existing_definition(two_kinds_of_customer, admin_user):
    # Given a persona of the key chosen
    existing = persona("chat-first", rules=[{"feature": "segment", "op": "eq", "value": "x"}], description="mine")
    run = personas_discover(random_state=0, k_range=range(2, 3))
    cluster = run.clusters.first()
    # When a cluster is adopted under that key
    with pytest.raises(Conflict):
        cluster_adopt(actor=admin_user, cluster_id=cluster.pk, key="chat-first", name="Chat first")
    # Then the existing definition is untouched and the cluster still open
    existing.refresh_from_db()
    assert (existing.description, existing.rules) == ("mine", [{"feature": "segment", "op": "eq", "value": "x"}])
    assert PersonaDefinition.objects.count() == 1
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN


def test_dismissing_and_deciding_twice(two_kinds_of_customer, admin_user, supervisor):
    run = personas_discover(random_state=0, k_range=range(2, 3))
    cluster = run.clusters.first()
    with pytest.raises(PermissionDenied):
        cluster_dismiss(actor=supervisor, cluster_id=cluster.pk)
    cluster_dismiss(actor=admin_user, cluster_id=cluster.pk)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED
    with pytest.raises(Conflict):
        cluster_adopt(actor=admin_user, cluster_id=cluster.pk, key="late", name="Late")
    assert not PersonaDefinition.objects.exists()


def test_too_few_customers_to_cluster():
    customer_with()
    assert personas_discover(random_state=0) is None
