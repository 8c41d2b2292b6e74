"""SOPs and their versions: list, read, and post new text (a draft or published version)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from salesops.api.base import ApiView
from salesops.api.errors import api_error
from salesops.api.permissions import model_permission, permissions_require
from salesops.api.schema import ErrorOutput
from salesops.api.serializers import (
    SopDetailOutput,
    SopOutput,
    SopVersionCreatedOutput,
    SopVersionDetailOutput,
    SopVersionOutput,
)
from salesops.models import Sop, SopVersion
from salesops.services.evals import evals_held_message, evals_publish_gated
from salesops.services.sops import sop_version_create


class SopListApi(ApiView):
    """Every SOP with its published version."""

    permission_model = Sop

    @extend_schema(responses=SopOutput(many=True), summary="List SOPs", operation_id="sops_list")
    def get(self, request: Request) -> Response:
        sops = Sop.objects.select_related("published_version").order_by("name")
        return Response(SopOutput(sops, many=True).data)


class SopDetailApi(ApiView):
    """One SOP with its published text and versions."""

    permission_model = Sop

    @extend_schema(responses=SopDetailOutput, summary="Read an SOP", operation_id="sops_read")
    def get(self, request: Request, name: str) -> Response:
        sop = get_object_or_404(Sop.objects.select_related("published_version"), name=name)
        return Response(SopDetailOutput(sop).data)


class SopVersionInput(serializers.Serializer):
    """New SOP text; `publish` makes it the version every new run uses."""

    text = serializers.CharField(trim_whitespace=False)
    publish = serializers.BooleanField(default=False)
    publish_fewer_evals = serializers.BooleanField(
        default=False,
        help_text="Publish even if the version passes fewer eval cases than the published one.",
    )


class SopVersionListApi(ApiView):
    """An SOP's versions (GET), or a new version from posted text (POST)."""

    # The admin's rule: editing an SOP is changing it; a new one needs add, publishing its own.
    permission_model = Sop
    write_action = "change"

    @extend_schema(
        responses=SopVersionOutput(many=True),
        summary="List an SOP's versions",
        operation_id="sop_versions_list",
    )
    def get(self, request: Request, name: str) -> Response:
        sop = get_object_or_404(Sop, name=name)
        versions = sop.versions.order_by("-number")
        return Response(SopVersionOutput(versions, many=True).data)

    @extend_schema(
        request=SopVersionInput,
        responses={
            201: SopVersionCreatedOutput,
            200: OpenApiResponse(SopVersionCreatedOutput, description="the same text: no change"),
            409: OpenApiResponse(
                ErrorOutput,
                description="saved as a draft: it passes fewer eval cases than the published "
                "version (send publish_fewer_evals to publish it anyway)",
            ),
        },
        summary="Save SOP text as a new version",
        operation_id="sop_versions_create",
        description="Every issue of invalid text comes back at once, under errors.text.",
    )
    def post(self, request: Request, name: str) -> Response:
        data = SopVersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        needed = [] if Sop.objects.filter(name=name).exists() else [model_permission(Sop, "add")]
        if data.validated_data["publish"]:
            needed.append("salesops.publish_sopversion")
        permissions_require(request=request, perms=needed)
        # SpecError -> 400 with every issue (salesops.api.errors).
        version, created = sop_version_create(
            sop_name=name, text=data.validated_data["text"], author=request.user, source="api"
        )
        if data.validated_data["publish"] and not version.published:
            held = evals_publish_gated(
                version,
                user=request.user,
                confirmed=data.validated_data["publish_fewer_evals"],
            )
            if held is not None:  # saved as a draft; 409 says why and how to confirm
                message = f"version {version.number} saved as a draft, {evals_held_message(held)}"
                return api_error(409, message, {"publish_fewer_evals": [message]})
        body = {
            "sop": name,
            "number": version.number,
            "published": version.published,
            "created": created,
            "content_hash": version.content_hash,
        }
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(SopVersionCreatedOutput(body).data, status=code)


class SopVersionDetailApi(ApiView):
    """One version of an SOP with its text."""

    permission_model = SopVersion

    @extend_schema(
        responses=SopVersionDetailOutput,
        summary="Read one SOP version",
        operation_id="sop_versions_read",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = get_object_or_404(
            SopVersion.objects.select_related("sop", "author"), sop__name=name, number=number
        )
        return Response(SopVersionDetailOutput(version).data)
