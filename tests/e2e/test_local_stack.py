"""`make dev` end to end: the stack starts, serves over real HTTP, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from infra.local.seed import CENTRALE, INVITED_EMAIL, NORD, USER, VENUES
from infra.local.state import DEFAULT_PORT
from tests.conftest import ROOT
from tests.support.oauth import sign_in_over_http


def free_port() -> int:
    """A port nothing listens on, never the default one (so following it proves something)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != DEFAULT_PORT:
            return port


def call(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class Output:
    """What the stack writes after its banner, line by line, read on a thread."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def until(self, last: Callable[[str], bool]) -> list[str]:
        """The lines up to and including the first one ``last`` accepts."""
        lines: list[str] = []
        while True:
            line = self._lines.get(timeout=60)  # a guard against a hang, not a measurement
            assert line is not None, "the stack stopped:\n" + "".join(lines)
            lines.append(line)
            if last(line):
                return lines

    def rest(self) -> str:
        """Everything until the stack closes its output."""
        lines = []
        while (line := self._lines.get(timeout=60)) is not None:
            lines.append(line)
        return "".join(lines)


@dataclass
class DevStack:
    url: str
    state: Path
    process: subprocess.Popen[str]
    banner: list[str]
    output: Output


@pytest.fixture(scope="module")
def dev_stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`make dev` (python -m infra.local.dev) on a port other than 8787, with its own state
    folder and database, against the suite's Postgres server."""
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
    yield DevStack(f"http://127.0.0.1:{port}", state, process, banner, Output(process.stdout))
    if process.poll() is None:
        process.kill()


def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by sh in the repository, as a terminal would, from an environment
    without PORT or DEV_STATE_DIR (plus ``env``); make uses this test's interpreter."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "DEV_STATE_DIR")}
    clean["MAKEFLAGS"] = f"BIN={Path(sys.executable).parent}"
    return subprocess.run(  # noqa: S602 - the commands a person would paste
        command,
        shell=True,
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_local_stack_serves_the_api_over_http(dev_stack: DevStack) -> None:
    """Given `make dev` running, a demo user signed in through the real flow (as
    `make token` does it) reaches their venue and is refused at the other."""
    url = dev_stack.url
    token = sign_in_over_http(url, USER["head_chef"].email)["access_token"]

    assert call(f"{url}/health/ready") == (200, {"status": "ok", "database": "ok"})
    assert call(f"{url}/me/venues")[0] == 401
    status, body = call(f"{url}/venues/{CENTRALE}/orders", token)
    assert status == 200
    assert body["orders"]
    status, body = call(f"{url}/venues/{NORD}/orders", token)
    assert (status, body["code"]) == (403, "venue-access-denied")
    admin = sign_in_over_http(url, USER["platform_admin"].email)  # answers the TOTP challenge
    assert call(f"{url}/me", admin["access_token"])[0] == 200


def test_make_token_follows_the_port_make_dev_was_started_on(dev_stack: DevStack) -> None:
    """Given `make dev` started with PORT set to a port other than 8787, when
    `make -s token USER=head_chef` runs in a shell without PORT, then it signs in on that
    port and the token opens centrale; when PORT is set, PORT wins."""
    elsewhere = free_port()

    found = shell("make -s token USER=head_chef", DEV_STATE_DIR=str(dev_stack.state))
    told = shell(
        "make -s token USER=head_chef", DEV_STATE_DIR=str(dev_stack.state), PORT=str(elsewhere)
    )

    assert found.returncode == 0, found.stderr
    assert call(f"{dev_stack.url}/venues/{CENTRALE}/orders", found.stdout.strip())[0] == 200
    assert told.returncode == 2
    assert f"nothing answers on http://127.0.0.1:{elsewhere}" in told.stderr


def test_make_mail_shows_the_demo_invitation_whose_link_opens_its_page(
    dev_stack: DevStack,
) -> None:
    """Given `make dev` (whose seed invited nord's new waiter), when `make -s mail` runs for
    that address, then it prints the invitation, whose link on this stack answers with the
    page to choose a password."""
    mail = shell(f"make -s mail TO={INVITED_EMAIL}", DEV_STATE_DIR=str(dev_stack.state))

    assert mail.returncode == 0, mail.stderr
    assert f"To: {INVITED_EMAIL}" in mail.stdout
    link = re.search(rf"{re.escape(dev_stack.url)}/oauth/invitation\?token=\S+", mail.stdout)
    assert link, mail.stdout
    with urllib.request.urlopen(link.group(0), timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert 'name="password"' in response.read().decode()


def test_the_banner_names_the_demo_venues_and_its_commands_work_as_printed(
    dev_stack: DevStack,
) -> None:
    """Given the banner of `make dev`, then it names every demo venue with its id, and its
    token line run as printed (in a shell without PORT or DEV_STATE_DIR) followed by its
    venue curl line answers 200 with the venue's orders."""
    banner = "".join(dev_stack.banner)
    token_line = next(line.strip() for line in dev_stack.banner if "make -s token" in line)
    curl_line = next(line for line in dev_stack.banner if "curl" in line and "/venues/" in line)
    program, option, header, url = shlex.split(curl_line)

    token = shell(f'{token_line} && printf %s "$TOKEN"')
    name, _, value = header.replace("$TOKEN", token.stdout).partition(": ")
    request = urllib.request.Request(url, headers={name: value})  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        status, body = response.status, json.load(response)

    for slug, (venue_id, _, _) in VENUES.items():
        assert re.search(rf"^\s+{slug}\s+{venue_id}\s", banner, re.MULTILINE), slug
    assert token_line.startswith("TOKEN=$(")
    assert token.returncode == 0, token.stderr
    assert (program, option, name) == ("curl", "-H", "Authorization")
    assert url == f"{dev_stack.url}/venues/{CENTRALE}/orders"
    assert status == 200
    assert body["orders"]


def test_an_edit_becomes_a_chained_row_and_a_locked_object_within_seconds(
    dev_stack: DevStack,
) -> None:
    """Given `make dev` running, when the head chef changes a price over HTTP, then the
    change shows up (polled, at most 30 s) as the next row of centrale's chain in audit_log
    and as a COMPLIANCE-locked object in the emulator's bucket whose content is the row's
    event; and `make audit-verify` for centrale, run as the banner prints it, finds the chain
    intact."""
    import boto3
    import psycopg

    from audit.chain import canonical
    from infra.local.aws import CREDENTIALS
    from infra.local.seed import menu_item_id

    url = dev_stack.url
    token = sign_in_over_http(url, USER["head_chef"].email)["access_token"]
    price = 1000 + uuid.uuid4().int % 9000
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{url}/venues/{CENTRALE}/menu/items/{menu_item_id('Tiramisù')}",
        data=json.dumps({"price_cents": price}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    pipeline = json.loads((dev_stack.state / "audit.json").read_text())

    row = None
    with psycopg.connect(pipeline["database_url"], autocommit=True) as conn:
        for _ in range(300):  # waits for the pipeline: bounded, asserts nothing about time
            row = conn.execute(
                "SELECT seq, event FROM audit_log WHERE venue_id = %s"
                " AND event->'details'->>'price_cents' = %s",
                (CENTRALE, str(price)),
            ).fetchone()
            if row is not None:
                break
            time.sleep(0.1)
    assert row is not None, "the edit never reached audit_log"
    seq, event = row
    s3 = boto3.client("s3", endpoint_url=pipeline["endpoint"], **CREDENTIALS)
    key = f"{CENTRALE}/{event['occurred_at'][:10]}/{seq:012d}/{event['id']}.json"
    copy = None
    for _ in range(300):
        listed = s3.list_objects_v2(Bucket=pipeline["bucket"], Prefix=key).get("Contents")
        if listed:
            copy = s3.get_object(Bucket=pipeline["bucket"], Key=key)
            break
        time.sleep(0.1)
    assert copy is not None, "the edit never reached the bucket"
    verify_line = next(line.strip() for line in dev_stack.banner if "audit-verify" in line)
    verified = shell(verify_line)

    assert copy["Body"].read() == canonical(event)
    assert copy["ObjectLockMode"] == "COMPLIANCE"
    assert event["action"] == "menu.price_changed"
    assert event["actor_user_id"] == str(USER["head_chef"].id)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{CENTRALE}: intact" in verified.stdout
    assert key in verified.stdout


def lines_of(dev_stack: DevStack, request: Callable[[], object]) -> list[str]:
    """What the stack writes while serving ``request``: the lines between two requests for
    paths no route serves, each named uniquely (a request writes its lines before it
    answers, and requests here go one at a time)."""

    def marker() -> Callable[[str], bool]:
        path = f"/log-marker-{uuid.uuid4().hex}"
        assert call(f"{dev_stack.url}{path}")[0] == 404
        return lambda line: path in line

    dev_stack.output.until(marker())
    request()
    return dev_stack.output.until(marker())[:-1]


def test_every_request_is_logged_once_as_a_json_line(dev_stack: DevStack) -> None:
    """Given `make dev` running, when the head chef reads centrale's orders, then that
    request writes exactly one line: JSON, with the correlation id, user and venue. A request
    the gateway refuses itself (no token) also writes exactly one JSON line."""
    url = dev_stack.url
    token = sign_in_over_http(url, USER["head_chef"].email)["access_token"]

    served = lines_of(dev_stack, lambda: call(f"{url}/venues/{CENTRALE}/orders", token))
    refused = lines_of(dev_stack, lambda: call(f"{url}/me/venues"))

    assert len(served) == 1, served
    line = json.loads(served[0])
    assert line["correlation_id"]
    assert line["user_id"] == str(USER["head_chef"].id)
    assert line["venue_id"] == str(CENTRALE)
    assert line["status"] == 200
    assert len(refused) == 1, refused
    assert json.loads(refused[0])["status"] == 401


def test_ctrl_c_stops_the_local_stack_cleanly(dev_stack: DevStack) -> None:
    """Given `make dev` running, when it gets Ctrl-C, then it stops with status 0 and
    forgets the URL it announced."""
    process = dev_stack.process

    process.send_signal(signal.SIGINT)
    output = dev_stack.output.rest()
    process.wait(timeout=30)

    assert process.returncode == 0, output
    assert "stopping" in output
    assert list(dev_stack.state.glob("url")) == []
