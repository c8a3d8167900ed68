from django.conf import settings
from django.db import models


class DatasetVersion(models.Model):
    """One uploaded file of a trial's participant data. Immutable: a new upload is a new version.

    The file is stored under its SHA-256 and never overwritten or deleted; parsing adds the typed
    table and the data dictionary beside it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PARSING = "parsing", "Parsing"
        PARSED = "parsed", "Parsed"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        UNKNOWN = "", "Not detected yet"
        CSV = "csv", "Delimited text (CSV/TSV)"
        XLSX = "xlsx", "Excel workbook (xlsx)"
        SAS7BDAT = "sas7bdat", "SAS data set (sas7bdat)"
        XPORT = "xport", "SAS transport (xpt)"
        DTA = "dta", "Stata (dta)"
        SAV = "sav", "SPSS (sav)"
        BINARY = "binary", "Unrecognised binary"

    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="dataset_versions")
    number = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    original_name = models.CharField(max_length=255)
    note = models.TextField(blank=True)
    storage_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="dataset_versions"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    detected_format = models.CharField(max_length=16, choices=Format.choices, blank=True)
    # How the content was read: encoding and delimiter of a text file, the sheet of a workbook.
    read_options = models.JSONField(default=dict, blank=True)
    # What the people who upload the trial's data declare about its variables: missing codes and date formats
    # (the shape is described in apps.datasets.declarations). A change is read again into a new typed table.
    declarations = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    # The typed table's stored name: an Arrow IPC file (.arrow), or Parquet for versions parsed before.
    parquet_name = models.CharField(max_length=255, blank=True)
    n_rows = models.PositiveIntegerField(null=True, blank=True)
    n_columns = models.PositiveIntegerField(null=True, blank=True)
    parsed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["trial", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "sha256"], name="dataset_version_unique_content_per_trial"),
            models.UniqueConstraint(fields=["trial", "number"], name="dataset_version_unique_number_per_trial"),
        ]

    def __str__(self) -> str:
        return f"{self.trial} v{self.number} ({self.original_name})"


class DictionaryEntry(models.Model):
    """One variable of a parsed version: what it is called, what it holds, and a summary of its values."""

    class Type(models.TextChoices):
        INTEGER = "integer", "Integer"
        NUMBER = "number", "Number"
        TEXT = "text", "Text"
        DATE = "date", "Date"
        DATETIME = "datetime", "Date and time"
        BOOLEAN = "boolean", "Yes/no"

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="dictionary")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    label = models.TextField(blank=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    # The source's own format (SAS/Stata/SPSS display format) or the date format detected in text.
    source_format = models.CharField(max_length=64, blank=True)
    value_labels = models.JSONField(default=dict, blank=True)
    n_missing = models.PositiveIntegerField(default=0)
    # Values read as missing because they are missing codes, declared for the version or by the file's own
    # metadata (SPSS user-missing values, Stata and SAS special missing values); counted in n_missing too.
    n_declared_missing = models.PositiveIntegerField(default=0)
    # One item per code: {"code": "-99", "count": 3, "declared_by": "declaration" or "file", "label": ...}.
    missing_codes = models.JSONField(default=list, blank=True)
    # The date format in source_format was declared, not detected.
    date_format_declared = models.BooleanField(default=False)
    n_distinct = models.PositiveIntegerField(default=0)
    # Values that did not parse as the detected type (dates), counted and shown, kept in the stored file.
    n_invalid = models.PositiveIntegerField(default=0)
    invalid_examples = models.JSONField(default=list, blank=True)
    minimum = models.CharField(max_length=255, blank=True)
    maximum = models.CharField(max_length=255, blank=True)
    top_values = models.JSONField(default=list, blank=True)
    # Why the variable looks like personal data ("e-mail addresses", ...), or null: the API says null for "none",
    # which an empty string would blur (apps.datasets.personal).
    personal_data = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="dictionary_entry_unique_position"),
        ]
        verbose_name_plural = "dictionary entries"

    def __str__(self) -> str:
        return self.name


# Module-level names for the API schema's enum names (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
VersionStatus = DatasetVersion.Status
VariableType = DictionaryEntry.Type
