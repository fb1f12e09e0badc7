"""Report pages, mounted under /insights/reports/ by insights/urls.py."""

from django.urls import path

from insights.reports import adherence, views

urlpatterns = [
    path("", views.report_page, name="reports"),
    path("export.csv", views.report_export, {"file_format": "csv"}, name="report-export-csv"),
    path("export.xlsx", views.report_export, {"file_format": "xlsx"}, name="report-export-xlsx"),
    path("conversations.csv", views.conversations_export, {"file_format": "csv"}, name="report-conversations"),
    path("conversations.xlsx", views.conversations_export, {"file_format": "xlsx"}, name="report-conversations-xlsx"),
    path("contacts/", views.report_contacts_page, name="report-contacts"),
    path("contacts.csv", views.report_contacts_export, name="report-contacts-csv"),
    path("agents/", views.agent_timeline_page, name="report-agents"),
    path("adherence/", adherence.adherence_report_page, name="report-adherence"),
    path("desk-panel/", views.desk_panel_fragment, name="report-desk-panel"),
]
