"""Serializers of the accounts API: they parse and render; writes go through the services."""

from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from apps.accounts.models import Invitation, Membership, Role, trial_model


class TokenRequestSerializer(AuthTokenSerializer):
    """Username and password, checked by Django's authentication backends."""


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When the token stops working.")


class ReviewTrialsField(serializers.PrimaryKeyRelatedField):
    """Trials of the serializer's review only (context "review", or the instance's): another review's trial
    id gets the same "does not exist" as an id that exists nowhere."""

    def __init__(self, **kwargs):
        # The model, for the schema; the rows come from get_queryset().
        super().__init__(queryset=trial_model().objects.none(), **kwargs)

    def get_queryset(self):
        root = self.root
        review = root.context.get("review") or getattr(root.instance, "review", None)
        trials = trial_model().objects
        return trials.filter(review=review) if review is not None else trials.none()


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    user_name = serializers.CharField(source="user.get_full_name", read_only=True)
    trials = ReviewTrialsField(many=True, required=False, help_text="Trials assigned to a contributor.")

    class Meta:
        model = Membership
        fields = ["id", "review", "user", "user_name", "role", "trials", "created_at"]
        read_only_fields = ["review", "created_at"]


class InvitationCreateSerializer(serializers.Serializer):
    invitee = serializers.CharField(max_length=254, help_text="The username or e-mail address of the person invited.")
    role = serializers.ChoiceField(choices=Role.choices)
    trials = ReviewTrialsField(many=True, required=False, help_text="Trials assigned to a contributor.")


class InvitationSerializer(serializers.ModelSerializer):
    review_title = serializers.CharField(source="review.title", read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id", "review", "review_title", "invitee", "role", "trials", "status", "invited_by", "created_at",
            "expires_at", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields
