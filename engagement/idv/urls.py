"""API routes of engagement.idv, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
