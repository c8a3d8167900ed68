from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.text import human_date
from apps.trials.documents import document_kind
from apps.trials.lifecycle import ExitReason, Status


class Trial(TimeStampedModel):
    """A trial found by the review's search, with what PRISMA-IPD needs to count it and its IPD status."""

    class SponsorType(models.TextChoices):
        INDUSTRY = "industry", "Industry"
        ACADEMIC = "academic", "Academic"
        GOVERNMENT = "government", "Government"
        OTHER = "other", "Other"

    class IdentifiedVia(models.TextChoices):
        DATABASE = "database", "Database search"
        OTHER = "other", "Other sources (including contact with researchers)"

    class ScreeningDecision(models.TextChoices):
        PENDING = "pending", "Not screened yet"
        INCLUDED = "included", "Included"
        EXCLUDED = "excluded", "Excluded"

    class IpdNotProvidedReason(models.TextChoices):
        NO_RESPONSE = "no_response", "No response"
        DECLINED = "declined", "Declined to share"
        DATA_LOST = "data_lost", "Data lost or destroyed"
        LEGAL_OR_ETHICAL = "legal_or_ethical", "Legal or ethical restrictions"
        NO_RESOURCES = "no_resources", "No resources to prepare the data"
        NOT_IN_TIME = "not_in_time", "Not provided in time"
        OTHER = "other", "Other"

    class Measure(models.TextChoices):
        MD = "MD", "Mean difference"
        SMD = "SMD", "Standardised mean difference"
        OR = "OR", "Odds ratio"
        RR = "RR", "Risk ratio"
        RD = "RD", "Risk difference"
        HR = "HR", "Hazard ratio"

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="trials")
    registry_id = models.CharField(max_length=64, blank=True, help_text="e.g. NCT01234567 or ISRCTN12345678")
    title = models.CharField(max_length=500)
    citation = models.CharField(max_length=500, blank=True)
    doi = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sponsor_type = models.CharField(max_length=16, choices=SponsorType.choices, default=SponsorType.ACADEMIC)
    n_randomised = models.PositiveIntegerField(null=True, blank=True)
    arms = models.PositiveSmallIntegerField(default=2)

    # Published primary result: the aggregate data for integrity checks and IPD + aggregate analyses.
    result_measure = models.CharField(max_length=4, choices=Measure.choices, blank=True)
    result_estimate = models.FloatField(null=True, blank=True)
    result_ci_low = models.FloatField(null=True, blank=True)
    result_ci_high = models.FloatField(null=True, blank=True)
    result_n_intervention = models.PositiveIntegerField(null=True, blank=True)
    result_n_control = models.PositiveIntegerField(null=True, blank=True)

    # PRISMA-IPD flow diagram fields.
    identified_via = models.CharField(max_length=16, choices=IdentifiedVia.choices, default=IdentifiedVia.DATABASE)
    is_duplicate = models.BooleanField(default=False)
    screening_decision = models.CharField(
        max_length=16, choices=ScreeningDecision.choices, default=ScreeningDecision.PENDING
    )
    exclusion_reason = models.CharField(max_length=300, blank=True)
    ipd_sought = models.BooleanField(null=True, blank=True)
    ipd_not_sought_reason = models.CharField(max_length=300, blank=True)
    ipd_provided = models.BooleanField(null=True, blank=True)
    ipd_not_provided_reason = models.CharField(max_length=32, choices=IpdNotProvidedReason.choices, blank=True)
    ipd_not_provided_note = models.TextField(blank=True)
    n_provided = models.PositiveIntegerField(null=True, blank=True)
    n_not_provided = models.PositiveIntegerField(null=True, blank=True)
    n_not_provided_reason = models.CharField(max_length=300, blank=True)
    aggregate_available = models.BooleanField(default=False)

    # Lifecycle: changed only through apps.trials.services.trial_transition.
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.IDENTIFIED, db_index=True)
    exit_reason = models.CharField(max_length=32, choices=ExitReason.choices, blank=True)
    exit_note = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "title", "id"]

    def __str__(self) -> str:
        return f"{self.registry_id} {self.title}".strip() if self.registry_id else self.title


class StatusTransition(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=32, choices=Status.choices)
    to_status = models.CharField(max_length=32, choices=Status.choices)
    reason = models.CharField(max_length=32, choices=ExitReason.choices, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trial}: {self.from_status} -> {self.to_status}"


class ContactRole(models.TextChoices):
    PRINCIPAL_INVESTIGATOR = "principal_investigator", "Principal investigator"
    CORRESPONDING_AUTHOR = "corresponding_author", "Corresponding author"
    STATISTICIAN = "statistician", "Trial statistician"
    DATA_MANAGER = "data_manager", "Data manager"
    SPONSOR = "sponsor", "Sponsor representative"
    OTHER = "other", "Other"


class Contact(TimeStampedModel):
    Role = ContactRole

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CORRESPONDING_AUTHOR)
    email = models.EmailField(blank=True)
    institution = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["trial", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ContactAttempt(TimeStampedModel):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Telephone"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "Meeting"
        PLATFORM = "platform", "Data-sharing platform request"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        NO_REPLY = "no_reply", "No reply yet"
        BOUNCED = "bounced", "Bounced or wrong address"
        REPLIED = "replied", "Replied"
        AGREED = "agreed", "Agreed to share"
        DECLINED = "declined", "Declined"
        REFERRED = "referred", "Referred to someone else"
        OTHER = "other", "Other"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="contact_attempts")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts")
    date = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.NO_REPLY)
    next_follow_up = models.DateField(null=True, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the owner was e-mailed about this follow-up, so a reminder goes out once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} on {human_date(self.date)}: {self.get_outcome_display()}"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    NEGOTIATING = "negotiating", "Negotiating"
    SIGNED = "signed", "Signed"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


AGREEMENT_DOCUMENT_EXTENSIONS = ("pdf", "doc", "docx", "odt")


def validate_agreement_document(document) -> None:
    """Office documents and PDFs only, up to AGREEMENT_MAX_DOCUMENT_BYTES: the file is shared with the team.

    Only a new upload is checked; a file already stored was checked when it came in.
    """
    if getattr(document, "_committed", False):
        return
    extension = Path(document.name or "").suffix.lower().lstrip(".")
    if extension not in AGREEMENT_DOCUMENT_EXTENSIONS:
        allowed = ", ".join(AGREEMENT_DOCUMENT_EXTENSIONS)
        raise ValidationError(f"Upload the agreement as one of: {allowed} (not '{extension or 'no extension'}').")
    limit = settings.AGREEMENT_MAX_DOCUMENT_BYTES
    if document.size is not None and document.size > limit:
        raise ValidationError(f"The document is larger than the limit of {limit // (1024 * 1024)} MB.")
    kind = document_kind(getattr(document, "file", None) or document)
    if kind != extension:
        found = f"a {kind} file" if kind else "not a PDF or office document"
        raise ValidationError(
            f"The file is named .{extension} but its content is {found}: upload the signed agreement as a PDF, "
            "Word (doc, docx) or OpenDocument (odt) file."
        )


class Agreement(TimeStampedModel):
    Status = AgreementStatus

    class Platform(models.TextChoices):
        DIRECT = "direct", "Direct with the trial team"
        YODA = "yoda", "YODA Project"
        CSDR = "csdr", "ClinicalStudyDataRequest.com"
        VIVLI = "vivli", "Vivli"
        OTHER = "other", "Other"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="agreements")
    title = models.CharField(max_length=200, default="Data-sharing agreement")
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.DIRECT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    signed_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    # Served only by the access-checked download views, as an attachment.
    document = models.FileField(upload_to="agreements/%Y/", blank=True, validators=[validate_agreement_document])
    conditions = models.TextField(blank=True, help_text="e.g. analysis on the provider's server only")
    data_may_leave_platform = models.BooleanField(
        default=False,
        help_text="The agreement lets the participant data leave the platform they are held on (e.g. in a "
        "reproducibility bundle); otherwise only results computed there are shared.",
    )

    class Meta:
        ordering = ["trial", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class EthicsApproval(TimeStampedModel):
    class Side(models.TextChoices):
        CONTRIBUTING = "contributing", "Contributing (trial) side"
        RECEIVING = "receiving", "Receiving (review) side"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="approvals")
    side = models.CharField(max_length=16, choices=Side.choices)
    body = models.CharField(max_length=300, help_text="Ethics committee or board")
    reference = models.CharField(max_length=100, blank=True)
    approved_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["trial", "-approved_on", "-id"]

    def __str__(self) -> str:
        return f"{self.body} {self.reference}".strip()
