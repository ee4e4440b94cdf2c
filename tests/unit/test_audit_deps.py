"""`make audit-deps` judges pip-audit's report: a finding fails, an audit that could not be
done says so and never claims "no vulnerabilities"."""

from __future__ import annotations

from infra.audit_deps import judge


def test_a_known_vulnerability_fails_and_names_the_fix() -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "3.1.0",
                "vulns": [{"id": "GHSA-x", "fix_versions": ["3.1.6"]}],
            },
            {"name": "pyjwt", "version": "2.15.1", "vulns": []},
        ]
    }

    status, lines = judge(report)

    assert status == 1
    assert "jinja2 3.1.0: GHSA-x (fixed in 3.1.6)" in "\n".join(lines)


def test_no_advisory_data_at_all_is_said_and_not_called_clean() -> None:
    skipped = {"skip_reason": "Dependency not found on PyPI and could not be audited"}
    report = {"dependencies": [{"name": "jinja2", **skipped}, {"name": "venue-backend", **skipped}]}

    status, lines = judge(report)

    assert status == 0
    assert lines[0].startswith("dependency audit NOT done")
    assert "no known vulnerabilities" not in "\n".join(lines)


def test_a_clean_audit_counts_the_packages_without_this_project() -> None:
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.6", "vulns": []},
            {"name": "venue-backend", "skip_reason": "not on the registry"},
        ]
    }

    status, lines = judge(report)

    assert (status, lines) == (0, ["dependency audit: 1 packages, no known vulnerabilities"])
