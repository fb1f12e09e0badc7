"""Pages of the live wallboard, mounted at /insights/wallboard/ by insights/urls.py."""

from django.urls import path

from insights.wallboard import views

urlpatterns = [
    path("", views.wallboard_picker, name="wallboard"),
    path("<int:team_id>/", views.wallboard_page, name="wallboard-team"),
]
