"""Application errors: services raise these, and one exception handler renders them for the API."""


class ApplicationError(Exception):
    """A failure a person can read and act on; `details` maps field names to messages where useful."""

    def __init__(self, message: str, *, code: str = "invalid", status: int = 400, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found.", *, code: str = "not_found", details: dict | None = None):
        super().__init__(message, code=code, status=404, details=details)


class PermissionDenied(ApplicationError):
    def __init__(
        self,
        message: str = "You do not have permission to do this.",
        *,
        code: str = "permission_denied",
        details: dict | None = None,
    ):
        super().__init__(message, code=code, status=403, details=details)
