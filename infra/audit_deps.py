"""`make audit-deps`: pip-audit over every package installed in .venv (the pinned
dependencies of pyproject.toml and what they pull in), run by `make lint`.

A known vulnerability fails, unless it is listed in ACCEPTED with the reason it does not
reach us. When the advisory data cannot be had (no network, or a registry that serves
packages but not their vulnerability records), it says so plainly and does not fail: the
audit was not done, and the message says that, never "no vulnerabilities"."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Advisory id -> why it does not reach this project. Empty today: every finding so far
#: was fixed by a newer pin.
ACCEPTED: dict[str, str] = {}
#: This project itself, installed into .venv by `pip install '.[dev]'`: not on any registry.
OURSELVES = {"venue-backend"}
UNREACHABLE = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")


def run_pip_audit(output: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off"]
    command += ["--format", "json", "--output", str(output)]
    for advisory in sorted(ACCEPTED):
        command += ["--ignore-vuln", advisory]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 # nosec B603


def judge(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit status and the lines to print, from pip-audit's JSON report."""
    dependencies = [d for d in report.get("dependencies", []) if d["name"] not in OURSELVES]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    findings = [(d, v) for d in audited for v in d.get("vulns", [])]
    if findings:
        lines = [f"{len(findings)} known vulnerabilities in the installed dependencies:"]
        for d, v in findings:
            fixed = ", ".join(v["fix_versions"]) or "no release yet"
            lines.append(f"  {d['name']} {d['version']}: {v['id']} (fixed in {fixed})")
        lines.append(
            "pin a fixed version, or list the advisory in infra/audit_deps.py's ACCEPTED with"
            " the reason it does not reach us"
        )
        return 1, lines
    if not audited:
        return 0, [
            f"dependency audit NOT done: the registry gave no vulnerability data for any of the"
            f" {len(skipped)} installed packages (it serves packages but not their advisory"
            " records here); run `make audit-deps` where the public registry is reachable"
        ]
    lines = [f"dependency audit: {len(audited)} packages, no known vulnerabilities"]
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        lines.append(f"  not audited (no advisory data for them): {names}")
    return 0, lines


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        finished = run_pip_audit(output)
        if not output.exists():
            if any(marker in finished.stderr for marker in UNREACHABLE):
                print(
                    "dependency audit NOT done: the vulnerability service is out of reach"
                    " (no network?); run `make audit-deps` again when it is reachable"
                )
                return 0
            print(finished.stderr, file=sys.stderr)
            return finished.returncode or 1
        status, lines = judge(json.loads(output.read_text()))
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
