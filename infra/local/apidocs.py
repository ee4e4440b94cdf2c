"""The API's documentation on the local gateway: the OpenAPI document at /openapi.json
and an interactive page at /docs (Swagger UI 5, its assets from the pip-installed
flask-swagger-ui package's dist folder, never a CDN). Local only: in AWS the document is
docs/openapi.json in the repository."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
#: No script but the page's own files; Swagger UI sets inline styles.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none';"
    " form-action 'self'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Venue backend API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: true,
    docExpansion: "list",
  });
});
"""
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def _dist() -> Path:
    """Swagger UI's dist folder, found without importing the package (it imports Flask)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed: `make dev` installs it")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


def serves(method: str, path: str) -> bool:
    return method.upper() == "GET" and (
        path in ("/docs", "/docs/", "/openapi.json", "/docs/init.js")
        or path.removeprefix("/docs/") in ASSETS
    )


def answer(path: str) -> tuple[int, dict[str, str], bytes]:
    """The page, its files, or the document (``serves`` said it is one of them)."""
    headers = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}
    if path == "/openapi.json":
        return 200, {**headers, "content-type": "application/json"}, DOCUMENT.read_bytes()
    if path in ("/docs", "/docs/"):
        page = {"content-type": "text/html; charset=utf-8", "content-security-policy": POLICY}
        return 200, {**headers, **page}, PAGE.encode()
    if path == "/docs/init.js":
        return 200, {**headers, "content-type": ASSETS["swagger-ui-bundle.js"]}, INIT.encode()
    name = path.removeprefix("/docs/")
    return 200, {**headers, "content-type": ASSETS[name]}, (_dist() / name).read_bytes()
