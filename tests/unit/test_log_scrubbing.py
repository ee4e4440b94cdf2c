"""No secret, token, PIN, password or allergen reaches a log line or a Sentry event."""

from tenancy.log import REDACTED, scrub


def test_sensitive_keys_are_redacted_at_any_depth() -> None:
    event = {
        "password": "hunter2",
        "request": {"headers": {"Authorization": "Bearer abc", "accept": "json"}},
        "staff": [{"pin": "1234", "name": "Luca"}],
        "diner": {"allergens": ["peanuts"], "dietary_notes": "coeliac"},
    }

    cleaned = scrub(event)

    assert cleaned["password"] == REDACTED
    assert cleaned["request"]["headers"] == {"Authorization": REDACTED, "accept": "json"}
    assert cleaned["staff"] == [{"pin": REDACTED, "name": "Luca"}]
    assert cleaned["diner"] == {"allergens": REDACTED, "dietary_notes": REDACTED}


def test_a_token_inside_free_text_is_redacted() -> None:
    line = "failed for eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl today"

    assert scrub(line) == f"failed for {REDACTED} today"
