"""Routes of WFM's forecasting: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.forecasting import apis, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("forecasts/", apis.ForecastsApi.as_view(), name="wfm-forecasts"),
    path("forecasts/<str:planning_queue_id>/", apis.ForecastDetailApi.as_view(), name="wfm-forecast"),
    path(
        "forecasts/<str:planning_queue_id>/intervals/",
        apis.ForecastIntervalsApi.as_view(),
        name="wfm-forecast-intervals",
    ),
    path(
        "forecasts/<str:planning_queue_id>/adjustments/",
        apis.ForecastAdjustApi.as_view(),
        name="wfm-forecast-adjust",
    ),
    path("forecasts/<str:planning_queue_id>/run/", apis.ForecastRunApi.as_view(), name="wfm-forecast-run"),
    path("special-days/", apis.SpecialDaysApi.as_view(), name="wfm-special-days"),
    path("special-days/<str:special_day_id>/", apis.SpecialDayApi.as_view(), name="wfm-special-day"),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("forecasts/", views.forecasts_page, name="wfm-forecasts"),
    path("forecasts/<int:planning_queue_id>/", views.forecast_page, name="wfm-forecast"),
    path("forecasts/<int:planning_queue_id>/adjust/", views.forecast_adjust_action, name="wfm-forecast-adjust"),
    path("forecasts/<int:planning_queue_id>/run/", views.forecast_run_action, name="wfm-forecast-run"),
    path(
        "forecasts/<int:planning_queue_id>/special-days/",
        views.special_day_create_action,
        name="wfm-forecast-special-days",
    ),
    path(
        "forecasts/<int:planning_queue_id>/special-days/<int:special_day_id>/delete/",
        views.special_day_delete_action,
        name="wfm-forecast-special-day-delete",
    ),
]
