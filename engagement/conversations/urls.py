"""API routes of engagement.conversations, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
