"""The operator's admin UI in a real browser (Debian's Chromium via Playwright) on a seeded stack.

Steps, each timed and screenshotted to reports/ui/: the licence dialog shows without a project
owner and not with one (login through the form), the entries list shows the committed columns in
race-number order, Rally Albania 2026 shows its 18 classes, an entry is created through the form,
a duplicate race number is refused with a readable error and writes nothing, the Event overview
dashboard counts the new entry, the new entry's page shows its timeline (trm-operations' interface,
GET /trm/entries/:id/timeline) newest first and oldest first. Console errors other than Directus's
own fail the test.
The stack is the session's seeded one, shared with the access matrix; without Chromium the module
is skipped, with the reason, before any stack boots.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import REPO, execute, query
from tests.integration import browser
from trm_directus.artifacts import artifact_file as artifact_document
from trm_directus.artifacts import registry
from trm_directus.seed import loader
from trm_directus.seed import seed_file as document

NO_BROWSER = browser.why_no_browser()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.directus,
    pytest.mark.stack("seeded"),
    pytest.mark.skipif(NO_BROWSER is not None, reason=f"browser test skipped: {NO_BROWSER}"),  # decided before any fixture
]

RALLY = REPO / "seeds" / "rally-albania-2026.yaml"
RACE_NUMBER = 777
RALLY_NUMBERS = ["1", "101", "301", "401"]  # Rally Albania's entries (the seeded stack also holds the Adriatic Trail's)
LICENCE_TEXT = "BSL 1.1 license"  # Directus's "project owner" dialog


@pytest.fixture(scope="module")
def seeded(stack, api):
    """Seconds the seeds took: the session's seeded stack loaded them (the access matrix adds rows to its
    course, which a second load would try to undo), any other stack gets Rally Albania now."""
    if api.get("/items/events", filter={"slug": {"_eq": "rally-albania-2026"}}, fields="id"):
        return stack.seeded_in
    t0 = time.monotonic()
    loader.load(api, document.load(RALLY))
    return time.monotonic() - t0


@pytest.fixture
def ui(stack, evidence):
    from playwright.sync_api import sync_playwright

    def report(line: str) -> None:
        print(line, flush=True)  # live with -s; in every run under "what the tests showed"
        evidence(line)

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(browser.CHROMIUM), chromium_sandbox=False)
        page = chromium.new_page(viewport={"width": 1920, "height": 1080})
        page.set_default_timeout(30_000)
        session = browser.Session(page, browser.fresh_screenshot_dir(), report)
        page.on("console", session.on_console)
        page.on("pageerror", session.on_page_error)
        try:
            yield session
        finally:
            chromium.close()


def entries_columns() -> list[str]:
    doc = artifact_document.read(REPO / "snapshots" / "ui.yaml", "ui", registry.kinds("ui"))
    preset = next(p for p in doc.section(registry.kinds("ui")[0]) if p["collection"] == "entries" and not p["bookmark"])
    return preset["layout_query"]["tabular"]["fields"]


def test_operator_walkthrough_in_the_admin_ui(stack, api, seeded, ui):
    page, url = ui.page, stack.url
    t_total = time.monotonic()
    ui.report(f"[ui] stack {url}; Rally Albania seeded in {seeded:.1f}s")
    event = api.get("/items/events", filter={"slug": {"_eq": "rally-albania-2026"}}, fields="id")[0]["id"]
    entries_before = query(stack.info.dsn, "SELECT count(*) FROM entries")[0][0]

    with ui.timed(1, "login") as shot:
        # Proof that the check can fail: a database without a project owner shows the dialog.
        execute(stack.info.dsn, "UPDATE directus_settings SET project_owner = NULL")
        try:
            page.goto(f"{url}/admin/login")
            page.fill("input[type=email]", stack.info.admin_email)
            page.fill("input[type=password]", stack.info.admin_password)
            page.screenshot(path=shot.with_name("01a-login-form.png"))
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/admin/login" not in u)
            page.get_by_text(LICENCE_TEXT).wait_for()
            page.screenshot(path=shot.with_name("01b-licence-dialog-without-owner.png"))
        finally:  # with the owner the stacks set (PROJECT_OWNER), no dialog; the shared stack gets it back either way
            execute(stack.info.dsn, "UPDATE directus_settings SET project_owner = %s", (stack.info.admin_email,))
        page.goto(f"{url}/admin/content")
        browser.nav_link(page, "Entries").wait_for()
        page.wait_for_timeout(500)
        assert page.get_by_text(LICENCE_TEXT).count() == 0
        page.screenshot(path=shot)

    with ui.timed(2, "entries-list") as shot:
        browser.nav(page, "Entries")
        page.locator("table tbody tr", has_text="Rally Albania 2026").first.wait_for()  # rows, not "Loading..."
        page.screenshot(path=shot)
        headers = [h.strip() for h in page.locator("table thead th .name").all_inner_texts()]
        expected = [browser.column_label(api, "entries", f) for f in entries_columns()]
        assert headers == expected
        numbers = [c.strip() for c in page.locator("table tbody tr td:nth-child(2)").all_inner_texts()]
        everyone = sorted(e["race_number"] for e in api.get("/items/entries", fields="race_number", limit=-1))
        assert numbers == [str(n) for n in everyone]  # every entry, sorted by race number, as the layout says
        assert [n for n in numbers if n in RALLY_NUMBERS] == RALLY_NUMBERS

    with ui.timed(3, "event-classes") as shot:
        browser.nav(page, "Events")
        page.locator("table tbody tr", has_text="Rally Albania 2026").click()
        classes = page.locator(".field", has=page.get_by_text("Classes", exact=True)).first
        classes.get_by_text("M-1 · ").wait_for()
        classes.evaluate("e => e.scrollIntoView({block: 'start'})")
        seen = browser.CLASS_CODE.findall(classes.inner_text())
        page.screenshot(path=shot)
        pages = classes.locator(".v-pagination button", has_text="2")
        if pages.count():  # the list shows 15 per page
            pages.first.click()
            classes.get_by_text("C-3 · ").wait_for(state="hidden")
            # page 2 shows placeholders while it loads (seen under load): wait for its rows
            more = browser.wait_for_text(page, lambda: browser.CLASS_CODE.findall(classes.inner_text()))
            classes.evaluate("e => e.scrollIntoView({block: 'start'})")
            seen += more
            page.screenshot(path=shot.with_name("03b-event-classes-page-2.png"))
        codes = {c["code"] for c in api.get("/items/classes", filter={"event_id": {"_eq": event}}, fields="code", limit=-1)}
        assert len(seen) == 18 and set(seen) == codes, seen

    # relations are labelled as words (the model's translations), not as database keys ("Event ID")
    label = {f: browser.column_label(api, "entries", f) for f in ("event_id", "class_id", "vehicle_id")}
    assert label == {"event_id": "Event", "class_id": "Class", "vehicle_id": "Vehicle"}

    with ui.timed(4, "create-entry") as shot:
        browser.nav(page, "Entries")
        browser.header_button(page, "add").click()
        page.get_by_text("Race Number", exact=True).wait_for()
        browser.pick_related(page, label["event_id"], "Rally Albania 2026")
        page.locator(".field", has=page.get_by_text("Race Number", exact=True)).first.locator("input").fill(str(RACE_NUMBER))
        browser.pick_related(page, label["class_id"], "Car 1")
        browser.pick_related(page, label["vehicle_id"], "AA-001-AA")  # a rally entry needs a vehicle (discipline rules)
        browser.header_button(page, "check").click()
        page.wait_for_url(f"{url}/admin/content/entries")
        page.locator("table tbody tr", has_text=str(RACE_NUMBER)).wait_for()
        page.wait_for_timeout(500)  # the list re-renders after the save
        page.screenshot(path=shot)
        [created] = api.get(
            "/items/entries", filter={"race_number": {"_eq": RACE_NUMBER}}, fields="status,class_id.code,event_id.slug"
        )
        assert created == {"status": "registered", "class_id": {"code": "C-1"}, "event_id": {"slug": "rally-albania-2026"}}

    with ui.timed(5, "duplicate-race-number") as shot:
        ui.expected.append(("/items/entries", "duplicate-race-number"))  # the refused POST (400)
        browser.header_button(page, "add").click()
        page.get_by_text("Race Number", exact=True).wait_for()
        browser.pick_related(page, label["event_id"], "Rally Albania 2026")
        page.locator(".field", has=page.get_by_text("Race Number", exact=True)).first.locator("input").fill(str(RACE_NUMBER))
        browser.pick_related(page, label["class_id"], "Quad 2WD")
        browser.pick_related(page, label["vehicle_id"], "AL-Q-0101")
        browser.header_button(page, "check").click()
        notice = page.locator(".v-notice", has_text="has to be unique")
        notice.wait_for()
        page.screenshot(path=shot)
        assert "race_number" in notice.inner_text() and page.url.endswith("/admin/content/entries/+")

    with ui.timed(6, "nothing-written") as shot:
        assert len(api.get("/items/entries", filter={"race_number": {"_eq": RACE_NUMBER}}, fields="id")) == 1
        assert query(stack.info.dsn, "SELECT count(*) FROM entries WHERE race_number = %s", (RACE_NUMBER,))[0][0] == 1
        assert query(stack.info.dsn, "SELECT count(*) FROM entries")[0][0] == entries_before + 1
        page.locator("a[href='/admin/insights']").first.click()
        discard = page.get_by_role("button", name="Discard Changes")
        discard.or_(page.get_by_text("Event overview").first).first.wait_for()
        if discard.count():  # leaving the refused form: Directus asks about the unsaved changes
            discard.click()
        page.get_by_text("Event overview").first.click()
        metric = page.locator(".v-workspace-tile", has=page.get_by_text("Entries", exact=True)).first
        metric.get_by_text(str(entries_before + 1), exact=True).wait_for()
        page.locator(".v-workspace-tile", has=page.get_by_text("Latest stage · top 10", exact=True)).wait_for()
        page.wait_for_timeout(1000)  # let the charts finish drawing for the screenshot
        page.screenshot(path=shot)

    with ui.timed(7, "entry-timeline") as shot:
        [entry] = api.get("/items/entries", filter={"race_number": {"_eq": RACE_NUMBER}}, fields="id")
        api.patch(f"/items/entries/{entry['id']}", {"status": "scrutineered"})
        penalty = api.post("/items/entry_penalties", {"entry_id": entry["id"], "type": "speeding", "seconds": 60})
        api.patch(f"/items/entry_penalties/{penalty['id']}", {"status": "applied"})
        try:
            page.goto(f"{url}/admin/content/entries/{entry['id']}")
            timeline = page.locator(".trm-timeline")
            timeline.get_by_text("Penalty applied: speeding, 1 min").wait_for()
            timeline.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
            page.screenshot(path=shot)
            newest = timeline.locator(".trm-timeline-item").all_inner_texts()
            assert "Penalty applied" in newest[0] and "Entry #777 registered in C-1" in newest[-1], newest
            timeline.get_by_role("button", name="newest first").click()
            timeline.get_by_role("button", name="oldest first").wait_for()
            page.wait_for_function(
                "() => document.querySelector('.trm-timeline-item')?.innerText.includes('Entry #777 registered')"
            )
            page.screenshot(path=shot.with_name("07b-entry-timeline-oldest-first.png"))
            assert [o.strip() for o in timeline.locator("select option").all_inner_texts()] == [
                "all kinds",
                "entry (2)",
                "penalty (2)",
            ]
        finally:  # the seeded stack is shared: the penalty goes again (its removal stays in the history)
            api.delete(f"/items/entry_penalties/{penalty['id']}")

    ui.report(f"[ui] browser steps {sum(t for _, t, _ in ui.timings):.1f}s, test total {time.monotonic() - t_total:.1f}s")
    assert ui.unexpected() == []
