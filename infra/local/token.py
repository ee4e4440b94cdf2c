"""Print a local access token for a demo user: `make token USER=head_chef`.

Signed with the local development key in .dev/; no deployed stack trusts that key.
"""

from __future__ import annotations

import sys

from infra.local.dev import STATE
from infra.local.keys import SigningKey
from infra.local.seed import USER, USERS


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    user = USER.get(wanted) or next((u for u in USERS if u.email == wanted), None)
    if user is None:
        print(f"unknown demo user {wanted!r}; one of: {', '.join(USER)}", file=sys.stderr)
        return 2
    key_file = STATE / "signing-key.json"
    if not key_file.exists():
        print("run `make dev` first: it creates the local signing key", file=sys.stderr)
        return 2
    print(SigningKey.load_or_create(key_file).access_token(user.id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
