"""GET /.well-known/security.txt (RFC 9116): how to report a vulnerability. Public, no
database, no AWS: the same facts as SECURITY.md, which a test keeps in step."""

import datetime as dt

from disclosure.models import SecurityTxt
from tenancy import NoBody, NoQuery, Request, public_route

#: Where reports go (SECURITY.md names the same address).
CONTACT = "mailto:security@venue-platform.example"
#: The disclosure policy: SECURITY.md, published.
POLICY = "https://venue-platform.example/security"
LANGUAGES = "en, it"
#: RFC 9116 asks for an expiry less than a year ahead; the file is valid for 180 days from
#: whenever it is served, so a deployed stack never publishes a stale one.
VALID_FOR = dt.timedelta(days=180)


@public_route(
    "GET",
    "/.well-known/security.txt",
    summary="How to report a vulnerability (RFC 9116)",
    response=SecurityTxt,
    database=None,
)
def handler(request: Request[NoQuery, NoBody]) -> SecurityTxt:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return SecurityTxt(
        contact=[CONTACT],
        expires=today + VALID_FOR,
        policy=POLICY,
        preferred_languages=LANGUAGES,
    )
