"""API serializers for participant data: they render; uploads go through the services."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.datasets.models import DatasetVersion, DictionaryEntry
from apps.datasets.services import identical_upload_message
from apps.jobs.models import Job


class DatasetUploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The data file: CSV/TSV, xlsx, sas7bdat, xpt, dta or sav.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class DatasetJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "state",
            "progress",
            "progress_message",
            "attempts",
            "max_attempts",
            "error",
            "heartbeat_at",
            "result",
            "created_at",
            "started_at",
            "finished_at",
        ]


class DictionaryEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = DictionaryEntry
        fields = [
            "position",
            "name",
            "label",
            "type",
            "source_format",
            "value_labels",
            "n_missing",
            "n_declared_missing",
            "missing_codes",
            "n_distinct",
            "n_invalid",
            "invalid_examples",
            "minimum",
            "maximum",
            "top_values",
            "date_format_declared",
            "personal_data",
        ]


class DatasetVariableDeclarationSerializer(serializers.Serializer):
    missing_codes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Values of this variable that mean missing."
    )
    decimal = serializers.ChoiceField(
        choices=[",", "."],
        required=False,
        help_text="The variable's decimal mark: it is read as numbers with it, and the values that fail are counted.",
    )
    date_format = serializers.CharField(
        required=False,
        help_text="A strptime-style format (%Y %y %m %b %B %d %j %H %I %p %M %S %a %A), e.g. %d/%m/%Y: the "
        "variable is read as dates with it, and the values that fail are counted.",
    )


class DatasetDeclarationsSerializer(serializers.Serializer):
    """The body of PUT /datasets/{id}/declarations/: it replaces the version's declarations whole."""

    missing_codes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Values that mean missing in every variable."
    )
    sheet = serializers.CharField(
        required=False, help_text="The workbook's sheet to read; without it, the sheet with the largest table."
    )
    header_row = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The row (line) of the column names, from 1; without it, found under any title rows.",
    )
    decimal = serializers.ChoiceField(
        choices=[",", "."],
        required=False,
        help_text='The file\'s decimal mark: how a value such as "1,234" is read where a column allows either reading.',
    )
    variables = serializers.DictField(
        child=DatasetVariableDeclarationSerializer(),
        required=False,
        help_text="Declarations of single variables, keyed by the variable's name.",
    )


class DatasetDeclarationsStateSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=DatasetVersion.Status.choices)
    declarations = DatasetDeclarationsSerializer()
    job = serializers.SerializerMethodField(help_text="The latest parse job: the reading again with the declarations.")

    @extend_schema_field(DatasetJobSerializer(allow_null=True))
    def get_job(self, version) -> dict | None:
        from apps.datasets.selectors import version_parse_job

        job = version_parse_job(version)
        return DatasetJobSerializer(job).data if job else None


class DatasetVersionSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.StringRelatedField()

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "trial",
            "number",
            "sha256",
            "size",
            "original_name",
            "note",
            "uploaded_by",
            "uploaded_at",
            "detected_format",
            "read_options",
            "status",
            "error",
            "n_rows",
            "n_columns",
            "parsed_at",
        ]
        read_only_fields = fields


class DatasetVersionUploadedBeforeSerializer(DatasetVersionSerializer):
    """The version an upload of the same content returns: with a message saying nothing new was stored."""

    message = serializers.SerializerMethodField(help_text="Says the content is identical to this version.")

    class Meta(DatasetVersionSerializer.Meta):
        fields = [*DatasetVersionSerializer.Meta.fields, "message"]
        read_only_fields = fields

    def get_message(self, version) -> str:
        return identical_upload_message(version)


class DatasetVersionDetailSerializer(DatasetVersionSerializer):
    dictionary = DictionaryEntrySerializer(many=True, read_only=True)
    job = serializers.SerializerMethodField(help_text="The latest parse job: progress while it runs.")
    declarations = DatasetDeclarationsSerializer(read_only=True)
    original_url = serializers.SerializerMethodField(help_text="Where to download the file as it was uploaded.")

    class Meta(DatasetVersionSerializer.Meta):
        fields = [*DatasetVersionSerializer.Meta.fields, "declarations", "original_url", "job", "dictionary"]
        read_only_fields = fields

    def get_original_url(self, version) -> str:
        return reverse("api-dataset-original", args=[version.pk])

    @extend_schema_field(DatasetJobSerializer(allow_null=True))
    def get_job(self, version) -> dict | None:
        from apps.datasets.selectors import version_parse_job

        job = version_parse_job(version)
        return DatasetJobSerializer(job).data if job else None
