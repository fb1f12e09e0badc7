"""The personas page, mounted under /insights/personas/ by insights/urls.py."""

from django.urls import path

from insights.personas import views

urlpatterns = [
    path("", views.personas_page, name="personas"),
    path("clusters/<int:cluster_id>/adopt/", views.cluster_adopt_view, name="persona-cluster-adopt"),
    path("clusters/<int:cluster_id>/dismiss/", views.cluster_dismiss_view, name="persona-cluster-dismiss"),
]
