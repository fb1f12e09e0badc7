"""API routes of engagement.selfservice, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
