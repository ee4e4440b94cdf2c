"""What a browser-shaped sign-in costs beside the argon2id verification it must do:
`make bench-sign-in` (``python -m bench.sign_in_pages``).

A whole sign-in is what a browser and a standard client do: the authorization request's
sign-in page (GET /oauth/authorize), its form posted (POST /oauth/authorize: the password,
argon2id), the redirect read, and the code exchanged (POST /oauth/token: an access token and,
with openid, an ID token, both signed by moto's in-process KMS). Every request goes through
the local gateway and the real handlers against a fresh, migrated database, as in the tests.

The figure is the ratio of the whole to one argon2id verification of the same password,
timed side by side (A B A B ...). Target: <= 1.5. It reports and never fails on a miss.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench.timing import Samples, interleaved

if TYPE_CHECKING:
    import psycopg

    from auth.config import Issuer
    from infra.local.signin import Transport

__all__ = ["RATIO_TARGET", "code_in_process", "main", "measure"]

RATIO_TARGET = 1.5
WARMUP = 20
ROUNDS = 300
SCOPE = "openid profile email account venue"


def code_in_process(
    conn: psycopg.Connection, issuer: Issuer, email: str, password: str, verifier: str
) -> str:
    """A sign-in's one-time code through the issuer's own modules, without the gateway:
    the sign-in page of an authorization request, then its form, each in its transaction."""
    from auth import authorization, signin
    from auth.models import AuthorizationQuery, PasswordForm
    from infra.local.signin import authorization_query, forms
    from tenancy import HtmlPage, Redirect

    pairs = tuple(parse_qsl(urlsplit(authorization_query(verifier, state="bench")).query))
    with conn.transaction():
        page = authorization.start(conn, issuer, AuthorizationQuery(pairs=pairs), {})
    assert isinstance(page, HtmlPage), page
    name, _, rest = page.cookies[0].partition("=")
    fields = forms(page.html)[0].fields | {"email": email, "password": password}
    with conn.transaction():
        answer = signin.sign_in(
            conn, issuer, PasswordForm(**fields), {name: rest.split(";")[0]}, "127.0.0.1"
        )
    assert isinstance(answer, Redirect), answer
    return dict(parse_qsl(urlsplit(answer.location).query))["code"]


@dataclass(frozen=True)
class Figures:
    whole: Samples
    argon2: Samples
    page: Samples
    form: Samples
    exchange: Samples

    @property
    def ratio(self) -> float:
        return self.whole.median / self.argon2.median

    @property
    def paired_ratio(self) -> float:
        """The median of each pair's own ratio: A and B ran back to back, so a pair shares
        what the machine was doing; a cross-check on the ratio of the medians."""
        pairs = zip(self.whole.seconds, self.argon2.seconds, strict=True)
        return statistics.median(a / b for a, b in pairs)


@contextlib.contextmanager
def _gateway(issuer_url: str, binding_key: str) -> Iterator[Transport]:
    """The local gateway in front of the real handlers, one issuer connection (as a warm
    Lambda container holds one), the issuer signing with moto's in-process KMS."""
    from auth.config import Issuer
    from bench.stack import OneConnection
    from infra.local.gateway import LocalGateway
    from infra.local.issuer import in_memory_issuer
    from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER
    from infra.local.signin import Answer
    from tenancy.bindings import BindingKey
    from tenancy.db import connect
    from tenancy.runtime import Runtime
    from tenancy.spec import DbRole
    from tenancy.tokens import StaticKeySource, TokenVerifier

    with in_memory_issuer() as issuer, connect(issuer_url) as conn:
        keys = StaticKeySource(issuer.signer.jwks())
        runtime = Runtime(
            databases={DbRole.ISSUER: OneConnection(conn)},
            verifier=TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=keys),
            binding_key=BindingKey.from_setting(binding_key),
            collaborators={Issuer: issuer},
        )
        gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)

        def send(method: str, target: str, *, headers: Any, body: bytes = b"") -> Answer:
            status, answered, data = gateway.handle(method, target, dict(headers), body)
            return Answer(status, {k.lower(): v for k, v in answered.items()}, data)

        yield send


def measure(issuer_url: str, binding_key: str, rounds: int = ROUNDS) -> Figures:
    from auth import passwords
    from infra.local.seed import DEMO_PASSWORD, USER
    from infra.local.signin import (
        FORM_TYPE,
        Browser,
        authorization_query,
        code_exchange,
        new_verifier,
        redirect_params,
        sign_in,
    )

    email = USER["waiter"].email
    stored = passwords.hash_password(DEMO_PASSWORD)
    with _gateway(issuer_url, binding_key) as transport:

        def whole() -> object:
            tokens = sign_in(transport, email, scope=SCOPE)
            assert tokens["id_token"]
            return tokens

        def argon2() -> object:
            return passwords.verify_password(stored, DEMO_PASSWORD)

        samples = interleaved(
            [("whole", whole), ("argon2", argon2)], warmup=WARMUP, iterations=rounds
        )

        # The steps of the same sign-in, each timed alone (the other steps untimed).
        steps: dict[str, list[float]] = {"page": [], "form": [], "exchange": []}
        clock = time.perf_counter
        for _ in range(rounds // 3):
            browser, verifier = Browser(transport), new_verifier()
            start = clock()
            page = browser.get(authorization_query(verifier, state="bench", scope=SCOPE))
            steps["page"].append(clock() - start)
            start = clock()
            answer = browser.submit(page, {"email": email, "password": DEMO_PASSWORD})
            steps["form"].append(clock() - start)
            form = code_exchange(redirect_params(answer)["code"], verifier)
            start = clock()
            tokens = transport(
                "POST",
                "/oauth/token",
                headers={"content-type": FORM_TYPE},
                body=urlencode(form).encode(),
            )
            steps["exchange"].append(clock() - start)
            assert tokens.status == 200, tokens.text
    whole_samples, argon2_samples = samples
    return Figures(
        whole_samples,
        argon2_samples,
        *(Samples(name, tuple(times)) for name, times in steps.items()),
    )


def report(figures: Figures) -> None:
    from auth.passwords import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST

    print("Browser-shaped sign-in: page GET, form POST, redirect, code exchange (openid)")
    print(
        f"   through the local gateway and the real handlers, one issuer connection;"
        f" argon2id m={ARGON2_MEMORY_KIB} KiB t={ARGON2_TIME_COST} p={ARGON2_PARALLELISM}"
    )
    print(f"   {len(figures.whole.seconds)} interleaved pairs after {WARMUP} warm-up pairs")
    print(f"   {'':<52} {'median':>10} {'p90':>10}")
    rows = [
        ("A  the whole sign-in", figures.whole),
        ("B  argon2id verification alone", figures.argon2),
        ("   step: GET /oauth/authorize (the page)", figures.page),
        ("   step: POST /oauth/authorize (argon2id inside)", figures.form),
        ("   step: POST /oauth/token (access + ID token)", figures.exchange),
    ]
    for label, samples in rows:
        print(f"   {label:<52} {samples.median * 1000:7.2f} ms {samples.p90 * 1000:7.2f} ms")
    steps = figures.page.median + figures.form.median + figures.exchange.median
    print(f"   {'   the three steps, added up':<52} {steps * 1000:7.2f} ms")
    print(f"   median of the pairs' own ratios (a cross-check)        {figures.paired_ratio:.2f}")
    verdict = "PASS" if figures.ratio <= RATIO_TARGET else "MISS"
    print(f"   ratio A / B   {figures.ratio:.2f}   target <= {RATIO_TARGET}   {verdict}")


def main() -> None:
    from bench.stack import bench_database, quiet_request_logs

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    started = time.perf_counter()
    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        print("starting Postgres, migrating and seeding a fresh database", file=sys.stderr)
        with bench_database() as db:
            print(
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores,"
                f" {platform.system()}, CPython {platform.python_version()},"
                f" Postgres {db.server_version} ({db.origin})\n"
            )
            figures = measure(db.database.issuer_url, db.database.binding_key)
    report(figures)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
