from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from apps.accounts.access import reviews_coordinated_by
from apps.accounts.models import Membership, User
from apps.accounts.services import membership_delete, membership_role_check, memberships_left_without_coordinator
from apps.core import admin as core_admin
from apps.core.admin import CoordinatorAdmin, ServiceCheckedModelForm

# The admin's scope: the reviews a user coordinates, and the people in them.
core_admin.register_coordinated_reviews(reviews_coordinated_by)
core_admin.register_scoped_choices(["review"], lambda reviews, user: reviews)
core_admin.register_scoped_choices(
    ["owner"], lambda reviews, user: User.objects.filter(memberships__review__in=reviews).distinct()
)


@admin.register(User)
class ProjectUserAdmin(UserAdmin):
    """Users are managed by superusers (and staff given the auth permissions)."""


class MembershipForm(ServiceCheckedModelForm):
    """A review keeps a coordinator through a change of role made in the admin, as through the API."""

    service_check = staticmethod(membership_role_check)


def reviews_left_without_coordinator(memberships: list[Membership]) -> list:
    """The reviews that removing all of `memberships` at once would leave without a coordinator."""
    reviews = {membership.review for membership in memberships}
    return [
        review
        for review in reviews
        if memberships_left_without_coordinator(
            review, [membership for membership in memberships if membership.review_id == review.pk], []
        )
    ]


class MembershipRules:
    """Members join by accepting an invitation (the review's members page, or the API), which tells nothing of
    which accounts exist: in the admin a coordinator changes a member's role and trials, or removes them through
    the service (which revokes their API tokens), but adds no one. Site administrators may."""

    form = MembershipForm

    def has_add_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "review", "user"]


@admin.register(Membership)
class MembershipAdmin(MembershipRules, CoordinatorAdmin):
    list_display = ["user", "review", "role", "created_at"]
    list_filter = ["role", ("review", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "review__title"]
    filter_horizontal = ["trials"]
    list_select_related = ["user", "review"]

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and reviews_left_without_coordinator([obj]))

    def delete_model(self, request, obj):
        membership_delete(membership=obj, actor=request.user)  # audits, and revokes the member's API tokens

    def get_deleted_objects(self, objs, request):
        """Removals that would leave a review without a coordinator are shown as protected, so the admin refuses
        them on its confirmation page before anything is deleted or logged."""
        deleted, counts, permissions, protected = super().get_deleted_objects(objs, request)
        for review in reviews_left_without_coordinator(list(objs)):
            protected = [*protected, f"{review}: its only coordinator (appoint another first)"]
        return deleted, counts, permissions, protected

    def delete_queryset(self, request, queryset):
        memberships = list(queryset.select_related("review", "user"))
        left = reviews_left_without_coordinator(memberships)
        if left:
            raise PermissionDenied(f"Removing them would leave {left[0]} without a coordinator.")
        for membership in memberships:
            self.delete_model(request, membership)
