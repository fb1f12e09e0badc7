"""Quality assurance's pages (under /insights/quality/) and API (under /api/v1/insights/quality/)."""

from django.urls import path

from insights.quality import apis, views

page_urlpatterns = [
    path("", views.quality_home, name="quality"),
    path("sampling/generate/", views.sampling_generate_view, name="quality-sampling-generate"),
    path("evaluations/new", views.evaluation_new, name="quality-evaluation-new"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_page, name="quality-evaluation"),
    path("evaluations/<int:evaluation_id>/save/", views.evaluation_save_view, name="quality-evaluation-save"),
    path(
        "evaluations/<int:evaluation_id>/acknowledge/",
        views.evaluation_acknowledge_view,
        name="quality-evaluation-acknowledge",
    ),
    path("evaluations/<int:evaluation_id>/dispute/", views.evaluation_dispute_view, name="quality-evaluation-dispute"),
    path("evaluations/<int:evaluation_id>/resolve/", views.evaluation_resolve_view, name="quality-evaluation-resolve"),
    path("mine/", views.my_evaluations, name="quality-mine"),
    path("calibrations/", views.calibrations_page, name="quality-calibrations"),
    path("calibrations/<int:session_id>/", views.calibration_page, name="quality-calibration"),
    path("reports/", views.quality_reports, name="quality-reports"),
]

api_urlpatterns = [
    path("scorecards/", apis.ScorecardListApi.as_view(), name="quality-scorecards"),
    path("evaluations/", apis.EvaluationListApi.as_view(), name="quality-evaluations"),
    path("evaluations/<int:evaluation_id>/", apis.EvaluationDetailApi.as_view(), name="quality-evaluation"),
    path(
        "evaluations/<int:evaluation_id>/acknowledge/",
        apis.EvaluationAcknowledgeApi.as_view(),
        name="quality-evaluation-acknowledge",
    ),
    path(
        "evaluations/<int:evaluation_id>/dispute/",
        apis.EvaluationDisputeApi.as_view(),
        name="quality-evaluation-dispute",
    ),
    path(
        "evaluations/<int:evaluation_id>/resolve/",
        apis.EvaluationResolveApi.as_view(),
        name="quality-evaluation-resolve",
    ),
    path("calibrations/", apis.CalibrationListApi.as_view(), name="quality-calibrations"),
    path("calibrations/<int:session_id>/", apis.CalibrationDetailApi.as_view(), name="quality-calibration"),
    path("sampling/", apis.SampleListApi.as_view(), name="quality-sampling"),
    path("reports/", apis.QualityReportApi.as_view(), name="quality-reports"),
]
