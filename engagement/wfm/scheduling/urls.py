"""Routes of WFM's scheduling: the API (``urlpatterns``, under /api/v1/engagement/wfm/) and the pages
(``page_urlpatterns``, under /wfm/), both mounted by engagement/wfm/urls.py."""

from django.urls import URLPattern, URLResolver, path

from engagement.wfm.scheduling import apis, roster_apis, roster_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("schedules/", apis.SchedulesApi.as_view(), name="wfm-schedules"),
    path("schedules/generate/", apis.ScheduleGenerateApi.as_view(), name="wfm-schedule-generate"),
    path("schedules/<str:schedule_id>/", apis.ScheduleApi.as_view(), name="wfm-schedule"),
    path("schedules/<str:schedule_id>/publish/", apis.SchedulePublishApi.as_view(), name="wfm-schedule-publish"),
]
page_urlpatterns: list[URLPattern | URLResolver] = [
    path("schedules/", views.schedules_page, name="wfm-schedules"),
    path("schedules/<int:schedule_id>/", views.schedule_page, name="wfm-schedule"),
    path("schedules/<int:schedule_id>/publish/", views.schedule_publish_action, name="wfm-schedule-publish"),
]

# --- The people side (issue 15, part D): time off, swaps, shift edits, the agent's own schedule ------
urlpatterns += [
    path("my-schedule/", roster_apis.MyScheduleApi.as_view(), name="wfm-my-schedule"),
    path("time-off/", roster_apis.TimeOffListApi.as_view(), name="wfm-time-off"),
    path("time-off/<str:time_off_id>/", roster_apis.TimeOffDetailApi.as_view(), name="wfm-time-off-detail"),
    path("time-off/<str:time_off_id>/decide/", roster_apis.TimeOffDecideApi.as_view(), name="wfm-time-off-decide"),
    path("time-off/<str:time_off_id>/cancel/", roster_apis.TimeOffCancelApi.as_view(), name="wfm-time-off-cancel"),
    path("swaps/", roster_apis.SwapListApi.as_view(), name="wfm-swaps"),
    path("swaps/<str:swap_id>/", roster_apis.SwapDetailApi.as_view(), name="wfm-swap-detail"),
    path("swaps/<str:swap_id>/respond/", roster_apis.SwapRespondApi.as_view(), name="wfm-swap-respond"),
    path("swaps/<str:swap_id>/decide/", roster_apis.SwapDecideApi.as_view(), name="wfm-swap-decide"),
    path("swaps/<str:swap_id>/cancel/", roster_apis.SwapCancelApi.as_view(), name="wfm-swap-cancel"),
    path("schedules/<str:schedule_id>/shifts/", roster_apis.ShiftCreateApi.as_view(), name="wfm-shift-create"),
    path("shifts/<str:shift_id>/", roster_apis.ShiftDetailApi.as_view(), name="wfm-shift-detail"),
]
page_urlpatterns += [
    path("my-schedule/", roster_views.my_schedule_page, name="wfm-my-schedule"),
    path("my-schedule/panel/", roster_views.desk_schedule_fragment, name="wfm-desk-schedule"),
    path("my-schedule/time-off/", roster_views.time_off_request_action, name="wfm-time-off-request"),
    path("my-schedule/swaps/", roster_views.swap_request_action, name="wfm-swap-request"),
    path("time-off/<int:time_off_id>/cancel/", roster_views.time_off_cancel_action, name="wfm-time-off-cancel"),
    path("time-off/<int:time_off_id>/decide/", roster_views.time_off_decide_action, name="wfm-time-off-decide"),
    path("swaps/<int:swap_id>/respond/", roster_views.swap_respond_action, name="wfm-swap-respond"),
    path("swaps/<int:swap_id>/cancel/", roster_views.swap_cancel_action, name="wfm-swap-cancel"),
    path("swaps/<int:swap_id>/decide/", roster_views.swap_decide_action, name="wfm-swap-decide"),
    path("requests/", roster_views.requests_page, name="wfm-requests"),
    path("requests/time-off/", roster_views.time_off_enter_action, name="wfm-time-off-enter"),
    path(
        "schedules/<int:schedule_id>/agents/<int:agent_profile_id>/",
        roster_views.agent_week_page,
        name="wfm-agent-week",
    ),
    path(
        "schedules/<int:schedule_id>/agents/<int:agent_profile_id>/shifts/",
        roster_views.shift_create_action,
        name="wfm-shift-create",
    ),
    path("shifts/<int:shift_id>/", roster_views.shift_update_action, name="wfm-shift-update"),
    path("shifts/<int:shift_id>/delete/", roster_views.shift_delete_action, name="wfm-shift-delete"),
]
# --- end of part D ----------------------------------------------------------------------------------
