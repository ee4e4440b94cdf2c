"""Sign a demo user in through the real flow and print the access token:
`make token USER=head_chef` (needs `make dev` running).

It finds `make dev` where it listens: on PORT when that is set, else on the port the running
`make dev` recorded in its state folder (DEV_STATE_DIR, by default .dev/), else on 8787.

It does what a browser and the admin SPA do (infra/local/signin.py): opens the sign-in page
of an authorization request with a PKCE challenge (GET /oauth/authorize), posts its form with
the demo password, answers the second factor's page where the account has one (the platform
admin, from the demo secret), takes the code from the redirect and exchanges it at
POST /oauth/token.
"""

from __future__ import annotations

import sys
import urllib.error

from infra.local.seed import USER, USERS
from infra.local.signin import SignInRefused, sign_in_over_http
from infra.local.state import dev_url


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    user = USER.get(wanted) or next((u for u in USERS if u.email == wanted), None)
    if user is None:
        print(f"unknown demo user {wanted!r}; one of: {', '.join(USER)}", file=sys.stderr)
        return 2
    base_url = dev_url()
    try:
        tokens = sign_in_over_http(base_url, user.email)
    except SignInRefused as refused:
        print(refused, file=sys.stderr)
        return 1
    except urllib.error.URLError:
        print(f"nothing answers on {base_url}: start `make dev` first", file=sys.stderr)
        return 2
    print(tokens["access_token"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
