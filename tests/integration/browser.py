"""Driving the admin UI in Debian's Chromium with Playwright: timed steps, screenshots, console watch."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# apt package `chromium` (.ci/prereqs); never downloaded at run time. TRM_CHROMIUM: another binary.
CHROMIUM = Path(os.environ.get("TRM_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "ui"

# Console errors Directus's own admin app produces on every visit: not failures.
DIRECTUS_NOISE = [
    ("favicon.ico", None),  # the app has no favicon at /favicon.ico (404)
    ("/auth/refresh", "login"),  # the session probe before anyone logged in (400)
]


def why_no_browser() -> str | None:
    """None when the browser test can run, else the reason it cannot."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/prereqs does it)"
    return None


@dataclass
class ConsoleEntry:
    step: str
    text: str
    url: str


@dataclass
class Session:
    """A browser page plus the bookkeeping: the current step, console errors, step timings."""

    page: object
    out: Path
    report: Callable[[str], None]
    step: str = "start"
    errors: list[ConsoleEntry] = field(default_factory=list)
    timings: list[tuple[str, float, str]] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)  # (url part, step) allowed in that step

    def on_console(self, msg) -> None:
        if msg.type == "error":
            self.errors.append(ConsoleEntry(self.step, msg.text, (msg.location or {}).get("url", "")))

    def on_page_error(self, exc) -> None:
        self.errors.append(ConsoleEntry(self.step, f"uncaught: {exc}", ""))

    def unexpected(self) -> list[ConsoleEntry]:
        allowed = [*DIRECTUS_NOISE, *self.expected]
        return [e for e in self.errors if not any(part in e.url and step in (None, e.step) for part, step in allowed)]

    @contextmanager
    def timed(self, number: int, name: str) -> Iterator[Path]:
        """One step: its screenshot path, its duration printed, unexpected console errors fail it."""
        self.step = name
        shot = self.out / f"{number:02d}-{name}.png"
        t0 = time.monotonic()
        yield shot
        took = time.monotonic() - t0
        self.timings.append((name, took, str(shot)))
        self.report(f"[ui] step {number:02d} {name}: {took:.1f}s -> {shot.relative_to(self.out.parents[1])}")
        bad = [e for e in self.unexpected() if e.step == name]
        assert not bad, f"console errors in step {name}: " + "; ".join(f"{e.text} ({e.url})" for e in bad)


def fresh_screenshot_dir() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


ACRONYMS = {"id": "ID", "url": "URL", "cc": "CC", "ip": "IP", "uuid": "UUID", "iso": "ISO"}


def format_title(key: str) -> str:
    """Directus's default field name for a key without a translation (race_number → Race Number)."""
    return " ".join(ACRONYMS.get(w, w.capitalize()) for w in key.split("_") if w)


def column_label(api, collection: str, path: str) -> str:
    """The header the tabular layout shows for a column: the last field of the path, by its en-US
    translation if it has one, else Directus's formatted key (so relabelling fields keeps this true)."""
    relations = api.get("/relations")
    parts = path.split(".")
    for part in parts[:-1]:
        rel = next((r for r in relations if r["collection"] == collection and r["field"] == part), None)
        if rel is not None:
            collection = rel["related_collection"]
            continue
        rel = next(
            r for r in relations if r["related_collection"] == collection and (r.get("meta") or {}).get("one_field") == part
        )
        collection = rel["collection"]
    meta = api.get(f"/fields/{collection}/{parts[-1]}").get("meta") or {}
    names = {t["language"]: t["translation"] for t in meta.get("translations") or []}
    return names.get("en-US") or format_title(parts[-1])


CLASS_CODE = re.compile(r"\b([A-Z]{1,3}-[0-9A-Z]{1,3}) · ")


def wait_for_text(page, read: Callable[[], list[str]], timeout_ms: int = 30_000) -> list[str]:
    """What `read` finds once it finds something (a list that loads its rows after the page shows)."""
    for _ in range(timeout_ms // 200):
        found = read()
        if found:
            return found
        page.wait_for_timeout(200)
    raise AssertionError(f"nothing appeared within {timeout_ms / 1000:g}s")


def pick_related(page, label: str, row_text: str) -> None:
    """Choose an item in a many-to-one field: open its drawer, search for the row (it may be past the
    drawer's first page on a stack other tests add rows to), click it, confirm."""
    field_box = page.locator(".field", has=page.get_by_text(label, exact=True)).first
    field_box.get_by_text("Select an item...").click()
    drawer = page.locator(".v-drawer")
    search = drawer.locator(".search-input").first
    search.click()
    search.locator("input").fill(row_text)
    drawer.locator("tbody tr", has_text=row_text).first.click()
    if drawer.is_visible():
        drawer.locator("header button").filter(has=page.locator("[data-icon=check]")).first.click()
    drawer.wait_for(state="hidden")


def header_button(page, icon: str):
    """A button of the page header by its icon (add, check); some are links."""
    return (
        page.locator("header.header-bar").locator("a.button, button.button").filter(has=page.locator(f"[data-icon={icon}]")).first
    )


def nav_link(page, name: str):
    """A collection in the content module's navigation sidebar."""
    return page.get_by_role("navigation").locator("a.v-list-item", has=page.get_by_text(name, exact=True)).first


def nav(page, name: str) -> None:
    """Follow a link of the content module's navigation (as a person would)."""
    nav_link(page, name).click()
