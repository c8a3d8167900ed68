"""Where participant files live: the `datasets` storage, by content hash, written once and never deleted."""

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.move import file_move_safe
from django.core.files.storage import Storage, storages

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
# Files being written for the storage wait here, on its own file system, to be renamed into place.
INCOMING = ".incoming"


def dataset_storage() -> Storage:
    return storages["datasets"]


def upload_name(sha256: str) -> str:
    return f"uploads/{sha256[:2]}/{sha256}"


def parsed_name(sha256: str, parser_version: int, declarations_hash: str = "") -> str:
    """The typed table's name (an Arrow IPC file); read with declarations, it carries their hash, so no table
    replaces another."""
    declared = f".d{declarations_hash}" if declarations_hash else ""
    return f"parsed/{sha256[:2]}/{sha256}.v{parser_version}{declared}.arrow"


def store_once(name: str, content: File) -> str:
    """Save `content` under `name` unless a complete file is already there; the stored name is returned.

    Names derive from the content's hash, so a file already there with the same size holds these bytes and is
    kept; one of another size was cut short by a process that died mid-write, and is replaced. On disk the
    bytes are written under a temporary name and renamed into place, so the name never shows a partial file.
    """
    storage = dataset_storage()
    if storage.exists(name):
        stored_size = storage.size(name)
        if stored_size == content.size:
            return name
        logger.warning("Replacing %s: %s bytes stored where %s were expected", name, stored_size, content.size)
    try:
        path = Path(storage.path(name))
    except NotImplementedError:
        # Object stores write a whole object or none; a short one is deleted so that save keeps the name.
        if storage.exists(name):
            storage.delete(name)
        return storage.save(name, content)
    _write_atomically(path, content, storage.file_permissions_mode)
    return name


def _write_atomically(path: Path, content: File, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        if hasattr(content, "temporary_file_path"):
            # An upload already on disk is moved (a rename on the same file system), not copied.
            os.close(handle)
            file_move_safe(content.temporary_file_path(), partial, allow_overwrite=True)
        else:
            with os.fdopen(handle, "wb") as target:
                for chunk in content.chunks(CHUNK_SIZE):
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
        if mode is not None:
            os.chmod(partial, mode)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


@contextlib.contextmanager
def new_file(name: str) -> Iterator[Path]:
    """A path to write a new file at, stored under `name` once the block ends without an error.

    For files derived from stored ones (parsed tables), whose names say what they were derived from: a file
    already under `name` is kept and the new one dropped, as in store_once. On disk the file is flushed and
    renamed into its place, so nothing is copied and the name never shows a partial file, even after a crash;
    other storages receive the finished file.
    """
    storage = dataset_storage()
    try:
        final = Path(storage.path(name))
    except NotImplementedError:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "new"
            yield path
            if not storage.exists(name):
                with path.open("rb") as handle:
                    storage.save(name, File(handle, name=name))
        return
    with _partial_file(final.parent, prefix=f".{final.name}.") as partial:
        yield partial
        _place(partial, final, storage.file_permissions_mode)


@contextlib.contextmanager
def _partial_file(directory: Path, prefix: str = "") -> Iterator[Path]:
    """An empty file in `directory` (on the storage's own file system) to write before it is placed; whatever
    is not placed by the end of the block is removed."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".partial")
    os.close(handle)
    try:
        yield Path(partial)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _place(partial: Path, final: Path, mode: int | None) -> None:
    """Move a finished file into its place unless one is there already; flushed first, so that a crash can
    never leave a name holding a partial file."""
    if final.exists():
        return
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    if mode is not None:
        os.chmod(partial, mode)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, final)
    _fsync_directory(final.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def store_new(write: Callable[[Path], None], name_for: Callable[[str], str]) -> tuple[str, str]:
    """Write a file with write(path) and store it under name_for(its SHA-256); (stored name, SHA-256).

    The file is hashed once written, from the page cache. Hashing on the way through a Python file object
    cost more: Arrow's writer then waited for the interpreter lock at every write, while the rules of the next
    block held it. On disk the file is written inside the storage and renamed into its place, so it is never
    copied; a file already under that name holds the same bytes and is kept.
    """
    storage = dataset_storage()
    try:
        incoming = Path(storage.path(INCOMING))
    except NotImplementedError:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "new"
            write(path)
            sha256 = file_sha256(path)
            with path.open("rb") as handle:
                return store_once(name_for(sha256), File(handle, name=path.name)), sha256
    with _partial_file(incoming) as partial:
        write(partial)
        sha256 = file_sha256(partial)
        name = name_for(sha256)
        # Named by its own hash: a file already there holds these very bytes.
        _place(partial, Path(storage.path(name)), storage.file_permissions_mode)
        return name, sha256


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


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


def partials_remove_stale(older_than_seconds: float) -> int:
    """Delete the unfinished files (`*.partial`) a killed process left in the storage, once they are older than
    any write could take; the number deleted. Finished files are never touched."""
    storage = dataset_storage()
    try:
        root = Path(storage.path(""))
    except NotImplementedError:
        return 0  # object stores write a whole object or none: nothing is left half-written
    cutoff = time.time() - older_than_seconds
    removed = 0
    for partial in root.rglob("*.partial"):
        with contextlib.suppress(FileNotFoundError):
            if partial.is_file() and partial.stat().st_mtime < cutoff:
                partial.unlink()
                removed += 1
                logger.warning("Removed %s, left unfinished by a process that stopped while writing it", partial)
    return removed
