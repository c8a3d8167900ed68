"""Take the README's screenshot of a review overview from a running server.

    python manage.py load_demo && python manage.py runserver &
    .venv/bin/python scripts/screenshot_dashboard.py --username demo --password demo

Uses Playwright with Debian's Chromium, the same set-up as the browser tests.
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--review", default="", help="title of the review to open; the first one by default")
    parser.add_argument("--path", default="", help="page to capture instead of the review overview, e.g. /trials/3/")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/dashboard.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full-page", action="store_true", help="capture the whole page, not only the first screen")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_url = args.base_url.rstrip("/")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height}, device_scale_factor=1)
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Username").fill(args.username)
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base_url}/")
        if args.path:
            page.goto(f"{base_url}{args.path}")
        else:
            reviews = page.locator(".review-card h2 a")
            link = reviews.filter(has_text=args.review).first if args.review else reviews.first
            link.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(args.out), full_page=args.full_page)
        browser.close()
    print(f"Saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
