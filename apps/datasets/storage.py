"""Where participant files live: the `datasets` storage, by content hash, written once and never deleted."""

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages

CHUNK_SIZE = 1024 * 1024


def dataset_storage() -> Storage:
    return storages["datasets"]


def upload_name(sha256: str) -> str:
    return f"uploads/{sha256[:2]}/{sha256}"


def parsed_name(sha256: str, parser_version: int) -> str:
    return f"parsed/{sha256[:2]}/{sha256}.v{parser_version}.parquet"


def store_once(name: str, content: File) -> str:
    """Save `content` under `name` unless a file is already there; the stored name is returned.

    Names derive from the content's hash, so an existing file already holds these bytes and is kept.
    """
    storage = dataset_storage()
    if storage.exists(name):
        return name
    return storage.save(name, content)


@contextlib.contextmanager
def local_path(name: str) -> Iterator[Path]:
    """A path on this machine for a stored file: the file itself on disk storage, otherwise a temporary copy."""
    storage = dataset_storage()
    try:
        yield Path(storage.path(name))
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=".data") as copy, storage.open(name, "rb") as source:
        shutil.copyfileobj(source, copy, CHUNK_SIZE)
        copy.flush()
        yield Path(copy.name)
