"""`make bench`: what the gate and the issuer cost, as ratios measured side by side in one run.

Never a pass/fail: it prints figures and their targets. docs/benchmarks.md keeps the dated
results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.roundtrips import CountingProxy
from infra.local import postgres
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, USER, add_orders, menu_item_id, seed
from tenancy.catalogue import discover
from tenancy.db import SingleConnection
from tenancy.runtime import Runtime
from tenancy.tokens import StaticKeySource, TokenVerifier

ROOT = Path(__file__).resolve().parents[1]
ORDERS = 50


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def side_by_side(
    a: Callable[[], object], b: Callable[[], object], *, rounds: int = 15, repeat: int = 40
) -> tuple[float, float]:
    """Medians of a and b, interleaved round by round so drift hits both alike."""
    a(), b()  # warm
    samples_a, samples_b = [], []
    for _ in range(rounds):
        samples_a.append(median_seconds(a, repeat))
        samples_b.append(median_seconds(b, repeat))
    return statistics.median(samples_a), statistics.median(samples_b)


def event(
    method: str, path_params: dict[str, str], token: str, body: str | None = None
) -> dict[str, Any]:
    return {
        "headers": {"authorization": f"Bearer {token}", "content-type": "application/json"},
        "pathParameters": path_params,
        "requestContext": {"http": {"method": method, "sourceIp": "127.0.0.1"}},
        "body": body,
    }


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def import_times() -> list[tuple[str, float]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "functions", "layers/tenancy")),
    }

    def fresh(code: str) -> float:
        samples = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    results = [
        ("(python -c pass)", fresh("pass")),
        ("import psycopg, pydantic", fresh("import psycopg, pydantic")),
    ]
    for declared in discover(ROOT / "functions"):
        module = declared.handler.rsplit(".", 1)[0]
        results.append((module, fresh(f"import {module}")))
    return results


def main() -> None:
    print(f"venue backend benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
    print(f"machine: {machine}\n")
    with tempfile.TemporaryDirectory() as scratch:
        server = os.environ.get("DATABASE_URL") or postgres.server_url(
            Path(scratch) / "pg", delete_on_exit=True
        )
        name = f"venue_bench_{uuid.uuid4().hex[:8]}"
        database = postgres.prepare(server, name, fresh=True)
        try:
            run(database)
        finally:
            postgres.drop(server, name)


def run(database: postgres.Database) -> None:
    seed(database.admin_url)
    with psycopg.connect(database.admin_url) as admin:
        row = admin.execute(
            "SELECT count(*) FROM orders WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()
        assert row is not None
        add_orders(admin, "centrale", ORDERS - int(row[0]))

    key = SigningKey.generate()
    verifier = TokenVerifier(
        issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(key.jwks())
    )
    # Latency over the runtime role's own connection, as a Lambda container holds it.
    connections = SingleConnection(lambda: database.runtime_url)
    runtime = Runtime(connections=connections, verifier=verifier)
    # Round trips through a loopback proxy that counts them, on a second connection.
    params = conninfo_to_dict(database.runtime_url)
    proxy = CountingProxy(str(params.get("host", "")), int(params.get("port") or 5432))
    proxied_url = make_conninfo(
        database.runtime_url, host="127.0.0.1", port=str(proxy.port), sslmode="disable"
    )
    proxied = Runtime(connections=SingleConnection(lambda: proxied_url), verifier=verifier)

    from menus.set_item_price import handler as set_price
    from orders.list_orders import handler as list_orders
    from orders.queries import ORDER_QUEUE

    chef_token = key.access_token(USER["regional"].id)
    orders_event = event("GET", {"venue_id": str(CENTRALE)}, chef_token)
    served = json.loads(list_orders.invoke(orders_event, runtime)["body"])
    assert len(served["orders"]) == ORDERS

    with connections.connection() as conn:
        pass  # the container's one connection; the gate takes it again for each request
    # The bare query: the venue bound once for the session, then just the SQL (autocommit).
    conn.execute("SELECT set_config('app.venue_id', %s, false)", (str(CENTRALE),))

    def bare() -> object:
        return conn.execute(
            ORDER_QUEUE, {"venue": CENTRALE, "status": None, "limit": ORDERS}
        ).fetchall()

    assert len(json.loads(bare()[0][0])["orders"]) == ORDERS  # type: ignore[index]
    gate_s, bare_s = side_by_side(lambda: list_orders.invoke(orders_event, runtime), bare)
    conn.execute("RESET app.venue_id")

    print("1. The gate's overhead on GET /venues/{venue_id}/orders (50 orders, in-process, warm)")
    print(f"   through the full gate   {gate_s * 1000:8.3f} ms")
    print(f"   bare SQL, same conn     {bare_s * 1000:8.3f} ms   (the query alone, venue bound)")
    ratio = gate_s / bare_s
    print(f"   ratio                   {ratio:8.2f}     target <= 1.5  {verdict(ratio, 1.5)}\n")

    price_event = event(
        "PATCH",
        {"venue_id": str(CENTRALE), "item_id": str(menu_item_id("Tiramisù"))},
        chef_token,
        body='{"price_cents": 700}',
    )
    print("2. Database round trips per request (counted at a loopback proxy)")
    for label, ev, route in (
        ("GET orders", orders_event, list_orders),
        ("PATCH price", price_event, set_price),
    ):
        route.invoke(ev, proxied)
        proxy.reset()
        response = route.invoke(ev, proxied)
        assert response["statusCode"] == 200, response
        trips = proxy.turns()
        print(f"   {label:<12} {len(trips)} round trips   target <= 2  {verdict(len(trips), 2)}")
        for number, messages in enumerate(trips, 1):
            print(f"      {number}: {messages}")
    print()

    verify_s = median_seconds(lambda: verifier.verify(chef_token), 200)
    print("3. JWT verification inside the gate")
    print(f"   verify (ES256, cached key)  {verify_s * 1000:8.3f} ms")
    share = verify_s / gate_s
    print(f"   share of the gated request  {share:8.1%}    target < 10%  {verdict(share, 0.1)}\n")

    sign_in_costs(database)

    print("5. Import time of each handler module, fresh interpreter (median of 7)")
    times = import_times()
    floor = times[1][1]
    for module, seconds in times:
        ratio = seconds / floor
        mark = (
            "" if module.startswith(("(", "import ")) else f"target <= 1.5  {verdict(ratio, 1.5)}"
        )
        print(f"   {module:<32} {seconds * 1000:7.1f} ms  {ratio:5.2f}x  {mark}")
    proxy.close()


def sign_in_costs(database: postgres.Database) -> None:
    """Where a sign-in's time goes: argon2id, KMS signing, and the rest (database, models)."""
    import boto3
    from moto import mock_aws

    from auth import passwords
    from auth.config import Issuer, IssuerSettings
    from auth.models import SignIn, TokenRequest
    from auth.service import access_token, sign_in, token
    from infra.local.pkce import challenge_for, new_verifier
    from infra.local.seed import DEMO_PASSWORD, LOCAL_APP_KEYS, SPA_CLIENT_ID, SPA_REDIRECT_URIS

    with mock_aws():
        kms = boto3.client("kms", region_name="eu-south-1")
        key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
            "KeyId"
        ]
        issuer = Issuer.from_settings(
            IssuerSettings(
                token_issuer=LOCAL_ISSUER,
                token_audience=LOCAL_AUDIENCE,
                token_signing_key_ids=key_id,
                app_keys=LOCAL_APP_KEYS,
                breach_corpus=str(ROOT / "infra/local/pwned-passwords.txt"),
                signin_max_failures_per_ip=10**6,
            ),
            kms,
        )
        with psycopg.connect(database.runtime_url) as conn:
            stored = passwords.hash_password(DEMO_PASSWORD)

            def whole() -> object:
                verifier = new_verifier()
                with conn.transaction():
                    code = sign_in(
                        conn,
                        issuer,
                        SignIn(
                            email=USER["waiter"].email,
                            password=DEMO_PASSWORD,
                            client_id=SPA_CLIENT_ID,
                            redirect_uri=SPA_REDIRECT_URIS[0],
                            code_challenge=challenge_for(verifier),
                            code_challenge_method="S256",
                        ),
                        "127.0.0.1",
                    ).code
                with conn.transaction():
                    return token(
                        conn,
                        issuer,
                        TokenRequest(
                            grant_type="authorization_code",
                            code=code,
                            code_verifier=verifier,
                            client_id=SPA_CLIENT_ID,
                            redirect_uri=SPA_REDIRECT_URIS[0],
                        ),
                    )

            total = median_seconds(whole, 15)
            argon = median_seconds(lambda: passwords.verify_password(stored, DEMO_PASSWORD), 15)
            signing = median_seconds(
                lambda: access_token(issuer, subject="x", client_id="c", scope="s", session=None),
                15,
            )
    rest = max(total - argon - signing, 0.0)
    print("4. Sign-in cost split: POST /oauth/authorize + POST /oauth/token (in-process)")
    print(
        f"   argon2id m={passwords.ARGON2_MEMORY_KIB} KiB t={passwords.ARGON2_TIME_COST} "
        f"p={passwords.ARGON2_PARALLELISM} (OWASP minimum: m >= 19456, t >= 2)"
    )
    print(f"   whole sign-in           {total * 1000:8.2f} ms")
    print(f"   argon2id verification   {argon * 1000:8.2f} ms  {argon / total:6.1%}")
    print(f"   KMS signing (emulated)  {signing * 1000:8.2f} ms  {signing / total:6.1%}")
    print(f"   database and the rest   {rest * 1000:8.2f} ms  {rest / total:6.1%}\n")


if __name__ == "__main__":
    main()
