"""Routes of the engagement strategies: the API (under /api/v1/insights/) and the pages (under /insights/)."""

from django.urls import path

from insights.strategies import apis, views

api_urlpatterns = [
    path("strategies/", apis.StrategyListApi.as_view(), name="strategy-list"),
    path("strategies/dry-run/", apis.StrategyDraftDryRunApi.as_view(), name="strategy-draft-dry-run"),
    path("strategies/arbitration/", apis.ArbitrationApi.as_view(), name="strategy-arbitration"),
    path("strategies/<slug:key>/", apis.StrategyDetailApi.as_view(), name="strategy-detail"),
    path("strategies/<slug:key>/dry-run/", apis.StrategyDryRunApi.as_view(), name="strategy-dry-run"),
    path("strategies/<slug:key>/effect/", apis.StrategyEffectApi.as_view(), name="strategy-effect"),
]

page_urlpatterns = [
    path("", views.strategy_list_page, name="strategies"),
    path("arbitration/", views.arbitration_page, name="strategy-arbitration"),
    path("<slug:key>/", views.strategy_page, name="strategy"),
    path("<slug:key>/dry-run/", views.strategy_dry_run_fragment, name="strategy-dry-run"),
]
