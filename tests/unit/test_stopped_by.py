"""How a run that undoes its writes names what stopped it: interruption, our error, anything else."""

from trm_directus import signals
from trm_directus.errors import CourseError


def test_an_interruption_names_the_signal_and_where():
    what, details = signals.stopped_by(signals.Terminated(), "x failed", "x interrupted", "create 3 waypoints")
    assert (what, details) == ("x interrupted by SIGTERM at create 3 waypoints", "")
    what, _ = signals.stopped_by(KeyboardInterrupt(), "x failed", "x interrupted", "entries")
    assert what == "x interrupted by Ctrl-C (SIGINT) at entries"


def test_our_error_keeps_its_message_and_details():
    exc = CourseError("Directus refused", "fix it", details="HTTP 400 body")
    assert signals.stopped_by(exc, "x failed", "x interrupted", "delete 1 segments") == (
        "x failed at delete 1 segments: Directus refused",
        "HTTP 400 body",
    )


def test_anything_else_is_named_by_its_type_not_a_traceback():
    what, details = signals.stopped_by(TypeError("list indices"), "x failed", "x interrupted", "entries")
    assert (what, details) == ("x failed at entries: unexpected TypeError: list indices", "")
