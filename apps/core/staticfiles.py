"""Static files that come inside installed packages (plotly.js in the plotly package), served by the app itself
so that pages work on a closed network: each is named in STATIC_PACKAGE_FILES as
{"served/path.js": ("package", "path/inside/the/package")}, and only those files are collected."""

import importlib.util
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


def _package_file(package: str, inside: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / inside
    return path if path.is_file() else None


class PackageFileFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.files = {
            served: _package_file(package, inside)
            for served, (package, inside) in settings.STATIC_PACKAGE_FILES.items()
        }

    def check(self, **kwargs):
        return [
            Error(f"The static file {served} is not in its package.", obj=self, id="core.E001")
            for served, path in self.files.items()
            if path is None
        ]

    def find(self, path, find_all=False, **kwargs):
        found = self.files.get(path)
        if found is None:
            return [] if find_all else None
        return [str(found)] if find_all else str(found)

    def list(self, ignore_patterns):
        for served, path in self.files.items():
            if path is None:
                continue
            # collectstatic names each file `prefix/name`: the file's folder as a storage, the served folder as
            # its prefix.
            storage = FileSystemStorage(location=str(path.parent))
            storage.prefix = str(Path(served).parent) if Path(served).parent != Path(".") else None
            yield path.name, storage
