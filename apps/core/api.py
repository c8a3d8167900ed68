"""Pieces every app's REST API shares; they know no domain."""

from apps.core.errors import PermissionDenied

DETAIL_METHODS = ["get", "patch", "delete", "head", "options"]


def deny(message: str):
    raise PermissionDenied(message)


class NestedQuerysetMixin:
    """For nested lists: the schema generator builds the view without URL arguments, so give it an empty
    queryset of the right model instead of looking the parent up."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible_queryset()
