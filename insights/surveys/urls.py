"""Survey routes: the API (under /api/v1/insights/surveys/), the pages (under /insights/surveys/),
and the public answer page (``/s/<token>/``, mounted at the root by cea/urls.py)."""

from django.urls import path

from insights.surveys import apis, views

api_urlpatterns = [
    path("", apis.SurveyReportApi.as_view(), name="survey-report"),
    path("answers/", apis.SurveyAnswerApi.as_view(), name="survey-answer"),
]

page_urlpatterns = [
    path("", views.survey_report_page, name="survey-report"),
    path("surveys.csv", views.survey_report_export, name="survey-report-csv"),
    path("pulse/", views.pulse_page, name="survey-pulse"),
]

public_urlpatterns = [
    path("s/<str:token>/", views.survey_public_page, name="survey-public"),
]
