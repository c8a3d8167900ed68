"""The harmonised tables this app stores under their SHA-256, for `manage.py verify_storage`."""

from collections.abc import Iterator

from apps.core.stored_files import StoredFile
from apps.harmonisation.models import HarmonisedTable


def harmonised_tables() -> Iterator[StoredFile]:
    tables = HarmonisedTable.objects.order_by("pk").values_list("pk", "storage_name", "sha256")
    for pk, name, sha256 in tables.iterator():
        yield StoredFile(kind="harmonised table", record=f"harmonised table {pk}", name=name, sha256=sha256)
