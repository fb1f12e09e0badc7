"""REST API of ID&V, under /api/v1/engagement/conversations/<id>/.

Every view fetches the conversation through ``access_conversation`` (404 unknown, 403 another
team's) and needs the ``verification:write`` scope for API tokens. Verification answers never
say whether a customer is on file: a code request is always 202 with the same body, every
failed check is the same 400 ``verification_failed``, and a lock is 429 ``verification_locked``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement.access import access_conversation
from engagement.idv.serializers import (
    CodeRequestSerializer,
    IdentificationSerializer,
    IdentifyInputSerializer,
    IdvErrorSerializer,
    KnowledgeInputSerializer,
    OtpCheckInputSerializer,
    OtpStartInputSerializer,
    VerificationSerializer,
)
from engagement.idv.services import (
    conversation_identify,
    verification_knowledge_check,
    verification_otp_check,
    verification_otp_start,
    verification_raise_for_failure,
)
from records.audit.access import customer_access_record

TAGS = ["engagement: identification and verification"]


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(IdvErrorSerializer, description=description)


COMMON_ERRORS = {
    400: _error("Invalid input (`invalid`, with `fields`)"),
    401: _error("Not signed in, or an unknown, expired or revoked API token"),
    403: _error("Another team's conversation, or an API token without `verification:write`"),
    404: _error("No such conversation"),
    409: _error("The conversation has ended (`conversation_ended`) or is with another customer"),
}
VERIFY_ERRORS = {
    **COMMON_ERRORS,
    400: _error(
        "Invalid input (`invalid`, with `fields`), or the details could not be verified (`verification_failed`)"
    ),
    429: _error("Too many failed attempts: verification is paused (`verification_locked`, `retry_after_seconds`)"),
}


class ConversationIdentifyApi(APIView):
    """Identify the conversation's customer from a channel identifier, through records.

    Only the conversation's handling agent, a supervisor, an administrator or an integration
    client may identify, and only customers the user may see match: another team's customer
    reads exactly as an identifier on nobody's file. One match: the conversation becomes
    `identified`. Several: `ambiguous`, nothing is set and the matches are listed. None:
    `not_identified`, nothing is set.
    """

    scope_resource = "verification"
    throttle_scope = "identify"

    @extend_schema(
        tags=TAGS,
        request=IdentifyInputSerializer,
        responses={200: IdentificationSerializer, **COMMON_ERRORS},
        summary="Identify the customer of a conversation",
    )
    def post(self, request, conversation_id: int):
        conversation = access_conversation(request.user, conversation_id)
        serializer = IdentifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identification = conversation_identify(
            actor=request.user, conversation=conversation, **serializer.validated_data
        )
        read = [identification.customer] if identification.customer else [m.customer for m in identification.matches]
        customer_access_record(
            actor=request.user,
            customer_ids=[customer.pk for customer in read],
            surface="identify",
            detail=f"conversation {conversation.pk}",
        )
        return Response(IdentificationSerializer(identification, context={"user": request.user}).data)


class VerificationOtpStartApi(APIView):
    """Send a one-time passcode to the customer's registered phone (sms) or email.

    Always 202 with the same body, whether or not the customer is known and has a registered
    destination: the answer does not reveal who is on file.
    """

    scope_resource = "verification"
    throttle_scope = "auth"

    @extend_schema(
        tags=TAGS,
        request=OtpStartInputSerializer,
        responses={
            202: CodeRequestSerializer,
            **COMMON_ERRORS,
            429: _error("Verification is paused, or too many codes were requested (`too_many_code_requests`)"),
        },
        summary="Send a one-time passcode",
    )
    def post(self, request, conversation_id: int):
        conversation = access_conversation(request.user, conversation_id)
        serializer = OtpStartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code_request = verification_otp_start(
            actor=request.user, conversation=conversation, **serializer.validated_data
        )
        return Response(CodeRequestSerializer(code_request).data, status=status.HTTP_202_ACCEPTED)


class VerificationOtpCheckApi(APIView):
    """Check the one-time passcode the customer gives; success makes the conversation `verified`."""

    scope_resource = "verification"
    throttle_scope = "auth"

    @extend_schema(
        tags=TAGS,
        request=OtpCheckInputSerializer,
        responses={200: VerificationSerializer, **VERIFY_ERRORS},
        summary="Check a one-time passcode",
    )
    def post(self, request, conversation_id: int):
        conversation = access_conversation(request.user, conversation_id)
        serializer = OtpCheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = verification_otp_check(
            actor=request.user, conversation=conversation, **serializer.validated_data
        )
        return Response(VerificationSerializer(verification_raise_for_failure(verification=verification)).data)


class VerificationKnowledgeApi(APIView):
    """Check knowledge answers: `date_of_birth` and `postcode`, or `account_digits` (last 4 of an account)."""

    scope_resource = "verification"
    throttle_scope = "auth"

    @extend_schema(
        tags=TAGS,
        request=KnowledgeInputSerializer,
        responses={200: VerificationSerializer, **VERIFY_ERRORS},
        summary="Check knowledge questions",
    )
    def post(self, request, conversation_id: int):
        conversation = access_conversation(request.user, conversation_id)
        serializer = KnowledgeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = verification_knowledge_check(
            actor=request.user, conversation=conversation, **serializer.validated_data
        )
        return Response(VerificationSerializer(verification_raise_for_failure(verification=verification)).data)
