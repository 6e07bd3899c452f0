"""API shapes of file imports: the upload (multipart) and the job as answered."""

from rest_framework import serializers

from .kinds import KIND_CHOICES
from .models import ImportJob


class ImportUploadSerializer(serializers.Serializer):
    """``multipart/form-data``: the file, what it holds, and whether wrong rows are
    left out (true) or stop the whole file (false, the default)."""

    file = serializers.FileField(
        help_text="CSV (.csv, a header row) or JSON Lines (.jsonl, .ndjson), UTF-8."
    )
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    skip_wrong_rows = serializers.BooleanField(
        default=False,
        help_text="true: rows in error are left out and reported, the others "
        "written; false: any row in error refuses the file, nothing written.",
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="CSV: the header is line 1.")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, read_only=True)
    progress = serializers.IntegerField(
        read_only=True, help_text="0-100: the check pass is the first half."
    )
    errors = RowErrorSerializer(
        many=True,
        read_only=True,
        help_text="The first 1,000 rows in error, by line; `rows_wrong` counts all.",
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "file_format",
            "size_bytes",
            "digest",
            "status",
            "skip_wrong_rows",
            "progress",
            "rows_total",
            "rows_checked",
            "rows_wrong",
            "rows_written",
            "pages_total",
            "pages_written",
            "message",
            "errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
