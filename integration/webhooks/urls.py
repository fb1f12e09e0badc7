from django.urls import path

from integration.webhooks import apis

urlpatterns = [
    path("webhooks/", apis.WebhookSubscriptionListApi.as_view(), name="webhook-list"),
    path("webhooks/<int:subscription_id>/", apis.WebhookSubscriptionDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<int:subscription_id>/enable/", apis.WebhookSubscriptionEnableApi.as_view(), name="webhook-enable"),
    path(
        "webhooks/<int:subscription_id>/deliveries/",
        apis.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver/",
        apis.WebhookRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]
