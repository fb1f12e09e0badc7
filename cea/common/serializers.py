"""Serializer helpers shared by every app's API."""

from __future__ import annotations

from rest_framework import serializers


class BriefUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")
