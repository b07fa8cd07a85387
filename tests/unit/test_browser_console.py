"""Which browser console errors fail the admin UI test: everything but Directus's own noise."""

from tests.integration.browser import ConsoleEntry, Session, format_title


def session(*entries: ConsoleEntry) -> Session:
    s = Session(page=None, out=None, report=print)
    s.errors = list(entries)
    return s


def test_directus_noise_is_allowed_and_everything_else_fails():
    favicon = ConsoleEntry("entries-list", "404 (Not Found)", "http://x/favicon.ico")
    probe = ConsoleEntry("login", "400 (Bad Request)", "http://x/auth/refresh")
    late_probe = ConsoleEntry("create-entry", "401 (Unauthorized)", "http://x/auth/refresh")
    crash = ConsoleEntry("create-entry", "uncaught: TypeError: x is undefined", "")
    refused = ConsoleEntry("duplicate-race-number", "400 (Bad Request)", "http://x/items/entries")
    s = session(favicon, probe, late_probe, crash, refused)
    assert s.unexpected() == [late_probe, crash, refused]
    s.expected.append(("/items/entries", "duplicate-race-number"))
    assert s.unexpected() == [late_probe, crash]


def test_default_column_names_follow_directus():
    assert [format_title(k) for k in ("race_number", "class_id", "last_name", "regulation_doc_url")] == [
        "Race Number",
        "Class ID",
        "Last Name",
        "Regulation Doc URL",
    ]
