"""A standard OpenID Connect client of the issuer, as a web app would run one: Flask with
authlib's client, configured from the discovery document alone. It signs a person in with
authorization code + PKCE (S256), a state and a nonce; authlib exchanges the code and checks
the ID token with the keys it fetches from the issuer's JWKS; the callback checks the
authorization response's ``iss`` (RFC 9207) and reads UserInfo.

For the end-to-end tests: it serves on 127.0.0.1, on a port of its own, in a thread.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RelyingParty", "relying_party"]

SCOPE = "openid email profile account venue"


@dataclass
class RelyingParty:
    url: str
    client_id: str
    #: What the callback learnt, per sign-in, in order.
    signed_in: list[dict[str, Any]] = field(default_factory=list)

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"


@contextmanager
def relying_party(issuer: str, client_id: str, port: int) -> Iterator[RelyingParty]:
    """The client app, serving until the block ends."""
    from authlib.integrations.flask_client import OAuth
    from flask import Flask, jsonify, request
    from werkzeug.serving import make_server

    party = RelyingParty(f"http://127.0.0.1:{port}", client_id)
    app = Flask("relying-party")
    app.secret_key = secrets.token_hex(32)
    oauth = OAuth(app)
    oauth.register(
        "venue",
        client_id=client_id,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "none",
        },
    )
    venue: Any = oauth.create_client("venue")

    @app.get("/login")
    def login() -> Any:
        return venue.authorize_redirect(party.redirect_uri)

    @app.get("/callback")
    def callback() -> Any:
        metadata = venue.load_server_metadata()
        if request.args.get("iss") != metadata["issuer"]:
            return jsonify(error="the answer is not from the expected issuer"), 400
        token = venue.authorize_access_token()
        info = dict(venue.userinfo(token=token))
        result = {
            "id_token_claims": dict(token["userinfo"]),
            "userinfo": info,
            "scope": token["scope"],
            "access_token": token["access_token"],
        }
        party.signed_in.append(result)
        return f"<!doctype html><title>Signed in</title><p id='who'>signed in as {info['sub']}</p>"

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="relying-party", daemon=True)
    thread.start()
    try:
        yield party
    finally:
        server.shutdown()
