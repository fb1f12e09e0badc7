"""The chat widget's REST endpoint: ``POST /api/v1/engagement/webchat/attachments/`` (a file into the chat).

No sign-in: the widget runs on customers' sites, so the site key, the page's Origin (one of the
site key's allowed origins, as for the widget's socket) and the signed visitor token are the
credentials, and no cookie is involved. It answers cross-origin requests from an allowed origin.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.client_ip import client_ip
from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField
from engagement.webchat.attachments import webchat_attachment_receive
from engagement.webchat.models import SiteKey
from engagement.webchat.services import site_origin_allowed


def _site_key_of(request) -> str:
    try:
        value = request.data.get("site_key", "") if request.method == "POST" else ""
    except Exception:  # a body that could not be parsed: no site key to go by
        return ""
    return value if isinstance(value, str) else ""


class AttachmentUploadSerializer(serializers.Serializer):
    site_key = CharField(max_length=40)
    visitor = CharField(max_length=200, help_text="The visitor token the widget's socket gave it")
    client_id = CharField(max_length=64, help_text="The widget's id for this file (a retry keeps it)")
    file = serializers.FileField(help_text="An image (PNG, JPEG, GIF, WebP), a PDF or a plain text file")


class AttachmentSentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The chat message that carries the file")
    conversation = serializers.IntegerField()
    client_id = CharField()
    filename = CharField()
    content_type = CharField()
    size = serializers.IntegerField()


class WebchatAttachmentApi(APIView):
    """Send a file into the visitor's open web chat (the widget's paperclip)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="engagement_webchat_attachment_send",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSentSerializer,
            200: OpenApiResponse(AttachmentSentSerializer, description="Sent before with this client_id"),
            400: OpenApiResponse(description="No file, too large, a type not allowed, or a name that lies"),
            403: OpenApiResponse(description="Unknown site key, an origin not allowed, or a bad visitor token"),
            409: OpenApiResponse(description="The visitor has no open chat"),
            429: OpenApiResponse(description="Too many files a minute"),
        },
    )
    def post(self, request):
        upload = AttachmentUploadSerializer(data=request.data)
        if not upload.is_valid():
            fields = {name: " ".join(str(e) for e in errors) for name, errors in upload.errors.items()}
            raise ValidationFailed("The file could not be read.", fields=fields)
        data = upload.validated_data
        message, created = webchat_attachment_receive(
            site_key=data["site_key"],
            origin=request.headers.get("Origin", ""),
            ip=client_ip(request._request) or "unknown",
            token=data["visitor"],
            client_id=data["client_id"],
            filename=data["file"].name or "",
            # Never more than the limit and a byte: a larger file is refused without being read whole.
            content=data["file"].read(settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES + 1),
        )
        sent = message.payload.get("attachments", [{}])[0]
        return Response(
            {
                "id": message.pk,
                "conversation": message.conversation_id,
                "client_id": data["client_id"],
                "filename": sent.get("filename", ""),
                "content_type": sent.get("content_type", ""),
                "size": sent.get("size", 0),
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        return Response(status=status.HTTP_204_NO_CONTENT)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin", "")
        site = SiteKey.objects.filter(key=_site_key_of(request)).first()
        # The widget reads the answer only from an origin its site key allows (no cookies either way).
        if origin and (site is None or site_origin_allowed(site=site, origin=origin)):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Vary"] = "Origin"
        return response
