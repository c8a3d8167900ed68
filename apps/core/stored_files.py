"""Stored files checked against their recorded SHA-256 (`manage.py verify_storage`, weekly by beat).

Each app that stores files by content lists them through a function named in VERIFY_STORAGE_SOURCES, which
yields StoredFile records; this module knows no app. A file is ok, missing, or altered (its bytes no longer
hash to the recorded value).
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import storages
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    kind: str  # e.g. "upload", "harmonised table"
    record: str  # the record that names it, e.g. "dataset version 12"
    name: str  # its name in the storage
    sha256: str  # the recorded hash
    storage: str = "datasets"


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[StoredFile] = field(default_factory=list)
    altered: list[tuple[StoredFile, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "missing": [f"{item.kind} {item.name} ({item.record})" for item in self.missing],
            "altered": [f"{item.kind} {item.name} ({item.record}): sha256 {found}" for item, found in self.altered],
        }


def stored_files() -> Iterator[StoredFile]:
    for path in settings.VERIFY_STORAGE_SOURCES:
        yield from import_string(path)()


def _sha256(storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def storage_verify(files: Iterable[StoredFile] | None = None) -> VerifyReport:
    """Re-hash every stored file and compare it with the hash its record holds."""
    report = VerifyReport()
    for item in stored_files() if files is None else files:
        report.checked += 1
        storage = storages[item.storage]
        if not storage.exists(item.name):
            report.missing.append(item)
            logger.error("stored file missing: %s %s (%s)", item.kind, item.name, item.record)
            continue
        found = _sha256(storage, item.name)
        if found != item.sha256:
            report.altered.append((item, found))
            logger.error("stored file altered: %s %s (%s): sha256 %s, recorded %s", item.kind, item.name,
                         item.record, found, item.sha256)  # fmt: skip
    return report
