"""The participant files this app stores under their SHA-256, for `manage.py verify_storage`."""

from collections.abc import Iterator

from apps.core.stored_files import StoredFile
from apps.datasets.models import DatasetVersion


def uploads() -> Iterator[StoredFile]:
    versions = DatasetVersion.objects.order_by("pk").values_list("pk", "storage_name", "sha256")
    for pk, name, sha256 in versions.iterator():
        yield StoredFile(kind="upload", record=f"dataset version {pk}", name=name, sha256=sha256)
