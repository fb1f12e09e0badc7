"""API routes of engagement.context, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
