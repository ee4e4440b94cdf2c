"""Where a sign-in's time goes: argon2id, KMS signing, and the database and the rest.

A whole sign-in is the sign-in page and its form (password) then POST /oauth/token (code +
PKCE), run in-process through the issuer's modules against the bench database, with the signing
key in moto's KMS. The parts are timed alone, interleaved with the whole.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SignInCost:
    whole: float
    argon2: float
    signing: float

    @property
    def rest(self) -> float:
        return max(self.whole - self.argon2 - self.signing, 0.0)


def measure(runtime_url: str, rounds: int = 25) -> SignInCost:
    from auth import passwords
    from auth.grants import access_token, token
    from auth.token_models import TokenRequest
    from bench.sign_in_pages import code_in_process
    from infra.local.issuer import in_memory_issuer
    from infra.local.seed import DEMO_PASSWORD, SPA_CLIENT_ID, USER
    from infra.local.signin import code_exchange, new_verifier
    from tenancy.db import connect

    with in_memory_issuer() as issuer:
        stored = passwords.hash_password(DEMO_PASSWORD)
        with connect(runtime_url) as conn:

            def whole() -> object:
                verifier = new_verifier()
                code = code_in_process(conn, issuer, USER["waiter"].email, DEMO_PASSWORD, verifier)
                with conn.transaction():
                    return token(conn, issuer, TokenRequest(**code_exchange(code, verifier)))

            def argon2() -> object:
                return passwords.verify_password(stored, DEMO_PASSWORD)

            def signing() -> object:
                return access_token(
                    issuer, subject="bench", client_id=SPA_CLIENT_ID, scope="account", session=None
                )

            samples: dict[str, list[float]] = {"whole": [], "argon2": [], "signing": []}
            parts: dict[str, Callable[[], object]] = {
                "whole": whole,
                "argon2": argon2,
                "signing": signing,
            }
            for fn in parts.values():
                fn()  # warm
            for _ in range(rounds):
                for name, fn in parts.items():
                    start = time.perf_counter()
                    fn()
                    samples[name].append(time.perf_counter() - start)
    return SignInCost(
        *(statistics.median(samples[name]) for name in ("whole", "argon2", "signing"))
    )


def report(cost: SignInCost) -> None:
    from auth.passwords import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST

    print("7. Sign-in cost split: POST /oauth/authorize + POST /oauth/token, in-process")
    print(
        f"   argon2id m={ARGON2_MEMORY_KIB} KiB t={ARGON2_TIME_COST} p={ARGON2_PARALLELISM}"
        "  (OWASP minimum: m >= 19456 KiB, t >= 2)"
    )
    rows = [
        ("whole sign-in", cost.whole),
        ("argon2id verification", cost.argon2),
        ("KMS signing (moto's KMS, in-process)", cost.signing),
        ("database and the rest (by difference)", cost.rest),
    ]
    for label, seconds in rows:
        print(f"   {label:<40} {seconds * 1000:8.2f} ms  {seconds / cost.whole:6.1%}")
    print()
