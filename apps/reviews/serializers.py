"""Serializers of the reviews API: they parse and render; writes go through the services."""

from rest_framework import serializers

from apps.accounts.access import role_for
from apps.core.models import DataAccessEvent
from apps.reviews.models import Outcome, Review


class ReviewSerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField(help_text="Your role in this review.")

    class Meta:
        model = Review
        fields = ["id", "title", "question", "registration", "status", "my_role", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_my_role(self, review) -> str | None:
        request = self.context.get("request")
        return role_for(request.user, review) if request else None


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["id", "review", "name", "type", "measure", "is_primary", "higher_is_better", "description"]
        read_only_fields = ["review"]


class DataAccessEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DataAccessEvent
        fields = [
            "id", "created_at", "actor", "action", "object_type", "object_id", "object_repr", "trial", "detail",
            "client_ip",
        ]  # fmt: skip
        read_only_fields = fields
