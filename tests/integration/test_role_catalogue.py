"""GET /roles: the role catalogue the admin app shows when it attaches someone."""

from __future__ import annotations

from infra.local.client import ApiClient
from infra.local.seed import USER
from staff.catalogue import MEANINGS
from tenancy.permissions import ROLE_DEFAULTS, Permission


def test_every_flag_has_a_meaning() -> None:
    assert set(MEANINGS) == set(Permission)
    assert all(meaning.strip() for meaning in MEANINGS.values())


def test_the_catalogue_lists_each_roles_defaults_and_each_flags_meaning(api: ApiClient) -> None:
    """Given any signed-in person (a casual, with no venue bound), when they ask for the
    role catalogue, then it lists every role with its default flags and every flag with
    its value and meaning."""
    response = api.get("/roles", as_user=USER["casual"].id)

    assert response.status == 200, response.text
    body = response.json()
    assert {r["role"]: r["permissions"] for r in body["roles"]} == {
        role.value: flags.names() for role, flags in ROLE_DEFAULTS.items()
    }
    assert [(p["name"], p["value"]) for p in body["permissions"]] == [
        (flag.name, int(flag)) for flag in Permission
    ]
    assert {p["name"]: p["meaning"] for p in body["permissions"]}["REOPEN_SHIFT"] == (
        "Reopen a closed shift"
    )
