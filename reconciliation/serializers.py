"""The exception queue as the API shows it to a retailer's own tooling."""

from rest_framework import serializers

from .models import ExceptionCase, ExceptionEvent
from .selectors import ageing


class ExceptionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExceptionEvent
        fields = ["kind", "from_status", "to_status", "actor", "note", "at"]


class ExceptionCaseSerializer(serializers.ModelSerializer):
    sku = serializers.SlugRelatedField(slug_field="code", read_only=True)
    location = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    adjustment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    age_hours = serializers.SerializerMethodField(help_text="Since first raised.")
    target_hours = serializers.SerializerMethodField(
        help_text="How long a case of this kind may stay open."
    )
    overdue = serializers.SerializerMethodField()
    events = ExceptionEventSerializer(many=True, read_only=True)

    class Meta:
        model = ExceptionCase
        fields = [
            "id",
            "kind",
            "key",
            "status",
            "title",
            "detail",
            "facts",
            "link",
            "sku",
            "location",
            "times_raised",
            "first_raised_at",
            "last_raised_at",
            "age_hours",
            "target_hours",
            "overdue",
            "assignee",
            "resolution",
            "resolution_note",
            "resolved_by",
            "resolved_at",
            "adjustment",
            "events",
        ]

    def get_age_hours(self, case: ExceptionCase) -> float:
        return round(ageing(case).hours, 1)

    def get_target_hours(self, case: ExceptionCase) -> int:
        return ageing(case).target

    def get_overdue(self, case: ExceptionCase) -> bool:
        return case.status == ExceptionCase.Status.OPEN and ageing(case).overdue
