"""Form helpers every app's pages share; they know no domain."""

from django import forms

from apps.core.errors import ApplicationError


def posted_data(request):
    """A form's data: the POST, even an empty one (which fails like any other bad input), or None for a GET."""
    return request.POST if request.method == "POST" else None


def posted_files(request):
    return request.FILES if request.method == "POST" else None


def compare_with_what_was_shown(form: forms.BaseForm) -> None:
    """On a form that edits a stored record, each field also carries the value its reader was shown (Django's
    hidden initial input), so that `changed_data` names only what the reader changed: a change someone else (or
    the system) made meanwhile is not written back with the old value. Files have no shown value to compare."""
    for field in form.fields.values():
        if not isinstance(field, forms.FileField):
            field.show_hidden_initial = True


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
