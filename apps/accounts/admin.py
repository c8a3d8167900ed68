from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.access import reviews_coordinated_by
from apps.accounts.models import Membership, User
from apps.core import admin as core_admin
from apps.core.admin import CoordinatorAdmin

# The admin's scope: the reviews a user coordinates, and the people in them.
core_admin.register_coordinated_reviews(reviews_coordinated_by)
core_admin.register_scoped_choices(["review"], lambda reviews, user: reviews)
core_admin.register_scoped_choices(
    ["owner"], lambda reviews, user: User.objects.filter(memberships__review__in=reviews).distinct()
)


@admin.register(User)
class ProjectUserAdmin(UserAdmin):
    """Users are managed by superusers (and staff given the auth permissions)."""


@admin.register(Membership)
class MembershipAdmin(CoordinatorAdmin):
    list_display = ["user", "review", "role", "created_at"]
    list_filter = ["role", ("review", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "review__title"]
    filter_horizontal = ["trials"]
    list_select_related = ["user", "review"]
