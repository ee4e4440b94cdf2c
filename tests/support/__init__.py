"""What the tests share beyond fixtures, one place for each:

- ``tests.support.demo_users``: accounts made for one test (copies of the demo people,
  attachments to a venue), so locks, sessions and changes touch nothing else;
- ``tests.support.oauth``: sign-in as the admin SPA does it (PKCE through /oauth/authorize
  and /oauth/token, the TOTP challenge answered from the demo secret), through the
  in-process gateway or over real HTTP;
- ``tests.support.stack``: the local issuer (infra/local/issuer.py, shared with `make dev`
  and the benchmarks), the runtime and the in-process API client the fixtures are built from.

The flow and the issuer are written once in infra/local/ (which `make dev` and bench/ can
import, and which must not import tests/); the modules here re-export and extend them.
"""
