"""`make dev` end to end: the stack starts, serves over real HTTP, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.seed import CENTRALE, NORD, USER
from tests.conftest import ROOT
from tests.support.oauth import sign_in_over_http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def dev_stack(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    state = tmp_path_factory.mktemp("dev-state")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": server_url,
        "PORT": str(port),
        "AWS_PORT": str(free_port()),
        "DEV_STATE_DIR": str(state),
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "functions", "layers/tenancy")),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    banner = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        banner.append(line)
        if "Ctrl-C stops everything" in line or process.poll() is not None:
            break
    assert "Ctrl-C stops everything" in "".join(banner), "".join(banner)
    yield f"http://127.0.0.1:{port}", state, process
    if process.poll() is None:
        process.kill()


def test_the_local_stack_serves_the_api_over_http(
    dev_stack: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    """Given `make dev` running, a demo user signed in through the real flow (as
    `make token` does it) reaches their venue and is refused at the other."""
    url, _, _ = dev_stack
    token = sign_in_over_http(url, USER["head_chef"].email)["access_token"]

    assert call(f"{url}/health") == (200, {"status": "ok", "database": "ok"})
    assert call(f"{url}/me/venues")[0] == 401
    status, body = call(f"{url}/venues/{CENTRALE}/orders", token)
    assert status == 200
    assert body["orders"]
    status, body = call(f"{url}/venues/{NORD}/orders", token)
    assert (status, body["code"]) == (403, "venue-access-denied")
    admin = sign_in_over_http(url, USER["platform_admin"].email)  # answers the TOTP challenge
    assert call(f"{url}/me", admin["access_token"])[0] == 200


def test_ctrl_c_stops_the_local_stack_cleanly(
    dev_stack: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    _, _, process = dev_stack

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "stopping" in output
