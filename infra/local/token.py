"""Sign a demo user in through the real flow and print the access token:
`make token USER=head_chef` (needs `make dev` running).

It does what the admin SPA does: POST /oauth/authorize with the demo password and a PKCE
challenge, answers the TOTP challenge where the account has one (the platform admin), and
exchanges the code at POST /oauth/token.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from infra.local.pkce import challenge_for, new_verifier
from infra.local.seed import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    SPA_CLIENT_ID,
    SPA_REDIRECT_URIS,
    USER,
    USERS,
)


def _post(url: str, body: bytes, content_type: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local gateway only
        url, data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            result: dict[str, Any] = json.load(response)
            return result
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{url}: {error.code} {error.read().decode()}") from None


def sign_in(base_url: str, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    verifier = new_verifier()
    redirect = SPA_REDIRECT_URIS[0]
    step = _post(
        f"{base_url}/oauth/authorize",
        json.dumps(
            {
                "email": email,
                "password": password,
                "client_id": SPA_CLIENT_ID,
                "redirect_uri": redirect,
                "code_challenge": challenge_for(verifier),
                "code_challenge_method": "S256",
            }
        ).encode(),
        "application/json",
    )
    if step["status"] == "mfa_required":
        import pyotp

        step = _post(
            f"{base_url}/oauth/authorize/mfa",
            json.dumps(
                {"mfa_token": step["mfa_token"], "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
            ).encode(),
            "application/json",
        )
    return _post(
        f"{base_url}/oauth/token",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": step["code"],
                "code_verifier": verifier,
                "client_id": SPA_CLIENT_ID,
                "redirect_uri": redirect,
            }
        ).encode(),
        "application/x-www-form-urlencoded",
    )


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    user = USER.get(wanted) or next((u for u in USERS if u.email == wanted), None)
    if user is None:
        print(f"unknown demo user {wanted!r}; one of: {', '.join(USER)}", file=sys.stderr)
        return 2
    base_url = f"http://127.0.0.1:{os.environ.get('PORT', '8787')}"
    try:
        tokens = sign_in(base_url, user.email)
    except urllib.error.URLError:
        print(f"nothing answers on {base_url}: start `make dev` first", file=sys.stderr)
        return 2
    print(tokens["access_token"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
