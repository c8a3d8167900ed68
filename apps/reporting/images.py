"""Static images of the analyses' plotly figures for documents, from plotly's own exporter, kaleido, driving the
server's Chromium (no second plotting library). Images are cached by the figure's content, so a report asked
for again does not start the browser again. Where no browser is installed, no image is made and the caller says
so in the document."""

import asyncio
import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

CACHE_SECONDS = 7 * 24 * 3600
WIDTH = 900


@dataclass
class Images:
    pngs: dict[str, bytes] = field(default_factory=dict)
    note: str = ""  # why some or all images are missing


def chromium_path() -> str | None:
    path = settings.REPORT_CHROMIUM_PATH
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def _key(figure: dict) -> str:
    content = json.dumps(figure, sort_keys=True, separators=(",", ":")).encode()
    return "reporting:figure-png:" + hashlib.sha256(content).hexdigest()


def _size(figure: dict) -> tuple[int, int]:
    layout = figure.get("layout") or {}
    return int(layout.get("width") or WIDTH), int(layout.get("height") or 500)


async def _render(figures: dict[str, dict], browser: str) -> dict[str, bytes]:
    import kaleido

    for name in ("kaleido", "choreographer", "logistro"):  # their progress notes are not the app's log
        logging.getLogger(name).setLevel(logging.WARNING)

    pngs = {}
    async with kaleido.Kaleido(path=browser, mathjax=False, timeout=90) as exporter:
        for name, figure in figures.items():
            width, height = _size(figure)
            options = {"format": "png", "width": width, "height": height, "scale": 2}
            pngs[name] = await exporter.calc_fig(figure, opts=options)
    return pngs


def figure_pngs(figures: dict[str, dict]) -> Images:
    """PNG images of the figures by name; those in the cache are not drawn again."""
    images = Images()
    missing = {}
    for name, figure in figures.items():
        cached = cache.get(_key(figure))
        if cached is not None:
            images.pngs[name] = cached
        else:
            missing[name] = figure
    if not missing:
        return images
    browser = chromium_path()
    if browser is None:
        images.note = (
            f"The forest plots are not included as images: no Chromium browser was found on the server (looked for "
            f"{settings.REPORT_CHROMIUM_PATH or 'nothing: REPORT_CHROMIUM_PATH is empty'}); plotly's exporter, "
            "kaleido, needs one. The plots are on the analyses' pages."
        )
        return images
    try:
        # In a thread of its own: asyncio.run cannot start inside a thread that already runs an event loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            drawn = pool.submit(asyncio.run, _render(missing, browser)).result()
    except Exception as error:  # a browser that fails to start must not take the whole report down
        images.note = f"The forest plots could not be drawn as images ({type(error).__name__}: {error})."
        return images
    for name, png in drawn.items():
        cache.set(_key(missing[name]), png, CACHE_SECONDS)
        images.pngs[name] = png
    return images
