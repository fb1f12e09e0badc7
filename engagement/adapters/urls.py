"""API routes of engagement.adapters, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
