"""Form helpers every app's pages share; they know no domain."""

from django import forms

from apps.core.errors import ApplicationError


class AccessibleFormMixin:
    """Ties each input to its hint and errors (aria-describedby, aria-invalid) so screen readers announce them."""

    def describe_fields(self) -> None:
        errors = self._errors or {}
        for name, field in self.fields.items():
            auto_id = self[name].auto_id
            described_by = [f"{auto_id}_hint"] if field.help_text else []
            if name in errors:
                described_by.append(f"{auto_id}_errors")
                field.widget.attrs["aria-invalid"] = "true"
            if described_by:
                field.widget.attrs["aria-describedby"] = " ".join(described_by)

    def full_clean(self) -> None:
        super().full_clean()
        self.describe_fields()

    def add_application_error(self, error: ApplicationError) -> None:
        """Show a service's refusal next to the fields it names, or above the form."""
        placed = False
        for name, messages in (error.details or {}).items():
            if name in self.fields:
                for message in messages if isinstance(messages, list | tuple) else [messages]:
                    self.add_error(name, str(message))
                placed = True
        if not placed:
            self.add_error(None, error.message)
        self.describe_fields()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
