from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.models import Membership, User
from apps.core.admin import CoordinatorAdmin


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
