"""Knowledge articles: the service keeps the weighted search vector; full-text search finds them."""

from __future__ import annotations

import pytest

from cea.common.errors import ValidationFailed
from engagement.selfservice.models import KnowledgeArticle
from engagement.selfservice.selectors import knowledge_best_answer, knowledge_search
from engagement.selfservice.services import knowledge_article_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    return {
        "hours": knowledge_article_save(
            title="When are you open?",
            body="The contact centre takes calls during these hours: Monday to Friday, 8am to 8pm.",
            keywords="opening times",
        ),
        "returns": knowledge_article_save(
            title="Returning an item",
            body="Return an item within 30 days of delivery for a full refund.",
            keywords="refund, exchange",
        ),
        "delivery": knowledge_article_save(
            title="Delivery times",
            body="Standard delivery takes 3 to 5 working days; a refund of the postage is possible if late.",
            keywords="shipping",
        ),
    }


def test_the_service_keeps_a_weighted_search_vector(articles):
    # When
    article = KnowledgeArticle.objects.get(pk=articles["returns"].pk)
    # Then: title lexemes weigh A, keywords B, body C
    assert article.search_vector == (
        "'30':10C 'day':11C 'deliveri':13C 'exchang':5B 'full':16C 'item':3A,8C "
        "'refund':4B,17C 'return':1A,6C 'within':9C"
    )


def test_updating_an_article_rebuilds_its_vector(articles):
    # Given
    article = articles["returns"]
    # When
    knowledge_article_save(article=article, title="Sending things back", body="Post it to us.", keywords="")
    # Then
    assert knowledge_search(text="refund") == [articles["delivery"]]
    assert knowledge_search(text="sending back") == [article]


def test_stemming_finds_opening_hours_in_a_title_with_open_and_a_body_with_hours(articles):
    # When
    found = knowledge_search(text="opening hours")
    # Then
    assert [a.title for a in found] == ["When are you open?"]
    assert found[0].rank > 0


def test_a_title_match_ranks_above_a_body_match(articles):
    # When: "refund" is in the returns article's keywords and in the delivery article's body
    found = knowledge_search(text="refund")
    # Then
    assert [a.title for a in found] == ["Returning an item", "Delivery times"]
    assert found[0].rank > found[1].rank


def test_web_search_syntax_excludes_and_quotes(articles):
    # When / Then
    assert [a.title for a in knowledge_search(text="refund -postage")] == ["Returning an item"]
    assert [a.title for a in knowledge_search(text='"full refund"')] == ["Returning an item"]
    assert {a.title for a in knowledge_search(text="refund or shipping")} == {"Returning an item", "Delivery times"}


def test_unpublished_articles_are_not_found(articles):
    # Given
    knowledge_article_save(
        article=articles["hours"],
        title="When are you open?",
        body=articles["hours"].body,
        is_published=False,
    )
    # When / Then
    assert knowledge_search(text="opening hours") == []
    assert [a.title for a in knowledge_search(text="opening hours", published_only=False)] == ["When are you open?"]


def test_every_article_is_searched_in_its_own_language(articles):
    # Given
    knowledge_article_save(
        title="Heures d'ouverture", body="Nous sommes ouverts du lundi au vendredi.", language="french"
    )
    # When / Then: French stemming: "ouvert" finds "ouverts"
    assert [a.title for a in knowledge_search(text="ouvert")] == ["Heures d'ouverture"]


def test_the_best_answer_to_a_question_in_the_customers_words(articles):
    # When: not every word is in the article ("please", "saturdays")
    answer = knowledge_best_answer(text="What are your opening hours on saturdays please?")
    # Then
    assert answer.title == "When are you open?"


def test_one_common_word_is_not_an_answer(articles):
    # When / Then
    assert knowledge_best_answer(text="Is my cat allowed on a delivery van driving to Mars?") is None
    assert knowledge_best_answer(text="") is None


def test_bad_articles_are_refused_with_fields():
    # When
    with pytest.raises(ValidationFailed) as refused:
        knowledge_article_save(title=" ", body="x", language="klingon")
    # Then
    assert set(refused.value.fields) == {"title", "language"}
    assert refused.value.fields["language"][0].startswith("'klingon' is not a PostgreSQL text search configuration")
    assert KnowledgeArticle.objects.count() == 0


def test_a_null_character_in_a_search_is_a_clear_error(articles):
    with pytest.raises(ValidationFailed) as refused:
        knowledge_search(text="open\x00")
    assert refused.value.fields == {"q": ["Null characters are not allowed."]}
