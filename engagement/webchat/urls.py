"""API routes of engagement.webchat, mounted under /api/v1/engagement/ by engagement/urls.py."""

urlpatterns: list = []
