"""Pages of the desk's tools (knowledge panel, conversation search, own canned responses) and the public
article page, mounted at the site's root by engagement/urls.py (names in the ``engagement`` namespace)."""

from django.urls import path

from engagement.desktop import tools

urlpatterns = [
    path("desk/conversations/<int:conversation_id>/knowledge/", tools.knowledge_fragment, name="desk-knowledge"),
    path("desk/search/conversations/", tools.conversation_search_page, name="desk-conversation-search"),
    path(
        "desk/search/conversations/<int:conversation_id>/",
        tools.conversation_transcript_page,
        name="desk-conversation-transcript",
    ),
    path("desk/canned/", tools.canned_page, name="desk-canned"),
    path("desk/canned/<int:canned_id>/", tools.canned_edit_page, name="desk-canned-edit"),
    path("desk/canned/<int:canned_id>/delete/", tools.canned_delete_action, name="desk-canned-delete"),
    path("help/articles/<int:article_id>/", tools.help_article_page, name="help-article"),
]
