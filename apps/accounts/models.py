from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The project's user; a custom model from the start so that fields can be added later."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # set_password() leaves the new raw password in _password until the save; every path that changes a
        # password (forms, admin, changepassword) passes here, so its API tokens are revoked here.
        password_changed = self.pk is not None and self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            from apps.accounts.tokens import tokens_revoke_for_user

            tokens_revoke_for_user(user=self)


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    CONTRIBUTOR = "contributor", "Contributor"


class Membership(models.Model):
    """A user's role in one review; contributors act only on the trials assigned to them."""

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    trials = models.ManyToManyField("trials.Trial", blank=True, related_name="assigned_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="membership_one_per_review_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.review}"


class Invitation(models.Model):
    """An invitation to join a review, addressed by username or e-mail as the coordinator typed it.

    Whether an account answers to it is never told to the coordinator: an invitation is made the same way
    either way, and becomes a membership only when the person it names accepts it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="invitations")
    invitee = models.CharField(max_length=254, help_text="The username or e-mail address invited.")
    role = models.CharField(max_length=16, choices=Role.choices)
    trials = models.ManyToManyField("trials.Trial", blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["invitee", "status"])]

    def __str__(self) -> str:
        return f"{self.invitee} invited as {self.get_role_display()} to {self.review}"


def trial_model():
    """The trial model, as Membership.trials names it: accounts sits below trials and never imports them."""
    return Membership._meta.get_field("trials").related_model
