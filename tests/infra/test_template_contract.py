"""template.yaml and the route declarations describe the same API, and SAM can build it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra.template import TemplateRoute, load_template, template_routes
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tests.conftest import ROOT

TEMPLATE = load_template()
DECLARED = discover(ROOT / "functions")
IN_TEMPLATE = template_routes(TEMPLATE)
FUNCTIONS = {
    name: resource["Properties"]
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def key(route: DeclaredRoute | TemplateRoute) -> tuple[str, str, str]:
    if isinstance(route, DeclaredRoute):
        return (route.spec.method, route.spec.path, route.handler)
    return (route.method, route.path, route.handler)


def test_every_declared_route_is_in_the_template_and_nothing_else_is() -> None:
    """A route in code but not in template.yaml (or the other way round) would either never
    deploy or deploy without its gate."""
    declared = {key(d) for d in DECLARED}
    templated = {key(r) for r in IN_TEMPLATE}

    assert sorted(declared - templated) == [], "declared but missing from template.yaml"
    assert sorted(templated - declared) == [], "in template.yaml but declared nowhere"


#: Functions that serve no route, written by hand in template.yaml: the audit pipeline's.
NOT_ROUTES = {
    "audit.consume.handler": "SQS",
    "audit.sweep.handler": "Schedule",
    "webhooks.process.handler": "SQS",
}


def test_each_function_serves_exactly_one_route() -> None:
    """Every function serves one route, except the audit consumer and sweeper and the webhook
    processor, which serve none and have exactly their one queue or schedule."""
    handlers = [r.handler for r in IN_TEMPLATE]
    routed = {k: p for k, p in FUNCTIONS.items() if p["Handler"] not in NOT_ROUTES}
    workers = {p["Handler"]: p for p in FUNCTIONS.values() if p["Handler"] in NOT_ROUTES}

    assert len(handlers) == len(set(handlers))
    assert all(
        len([e for e in props.get("Events", {}).values() if e["Type"] == "HttpApi"]) == 1
        for props in routed.values()
    )
    assert {
        handler: [event["Type"] for event in props["Events"].values()]
        for handler, props in workers.items()
    } == {handler: [kind] for handler, kind in NOT_ROUTES.items()}


def test_only_public_routes_skip_the_jwt_authorizer() -> None:
    public = {(d.spec.method, d.spec.path) for d in DECLARED if d.spec.access is Access.PUBLIC}
    unauthorized = {(r.method, r.path) for r in IN_TEMPLATE if not r.authorized}

    assert unauthorized == public
    assert TEMPLATE["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"]


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sam_build_layout_holds() -> None:
    """CodeUri functions/ makes a handler `area.module.handler`; each layer is a folder with
    its requirements, built by SAM for the Lambda runtime."""
    globals_ = TEMPLATE["Globals"]["Function"]
    assert globals_["CodeUri"] == "functions/"
    assert globals_["Runtime"] == "python3.11"
    for name in ("TenancyLayer", "DependenciesLayer"):
        layer = TEMPLATE["Resources"][name]
        content = ROOT / layer["Properties"]["ContentUri"]
        assert (content / "requirements.txt").is_file(), name
        assert layer["Metadata"]["BuildMethod"] == "python3.11"
    assert (ROOT / "layers/tenancy/tenancy/__init__.py").is_file()
    for route in IN_TEMPLATE:
        area, module, attribute = route.handler.split(".")
        assert (ROOT / "functions" / area / f"{module}.py").is_file(), route.handler
        assert attribute == "handler"


def _requirements(lines: list[str]) -> dict[str, str]:
    pinned: dict[str, str] = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line} is not pinned with =="
            pinned[name.lower().replace("_", "-")] = version
    return pinned


def test_the_dependencies_layer_pins_exactly_the_projects_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = (ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()

    assert _requirements(layer) == _requirements(project)


THIRD_PARTY = {
    "psycopg",
    "pydantic",
    "jwt",
    "boto3",
    "aws_lambda_powertools",
    "sentry_sdk",
    "cryptography",
    "argon2",
    "pyotp",
    "jinja2",
    "markupsafe",
    "stripe",
}


@pytest.mark.parametrize(
    "source",
    sorted((ROOT / "functions").glob("*/*.py")),
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_areas_import_only_the_gate_their_own_area_and_shipped_packages(source: Path) -> None:
    """Everything a function imports must be in its deployment package: the standard
    library, the dependencies layer, `tenancy`, or its own area."""
    area = source.parent.name
    tree = ast.parse(source.read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    allowed = set(sys.stdlib_module_names) | THIRD_PARTY | {"tenancy", area, "__future__"}

    assert imported - allowed == set()


def test_every_function_has_its_own_policies_and_no_wildcard_actions() -> None:
    """Each function gets a role of its own from its own policies (never a shared ``Role``);
    a function whose route needs nothing from AWS (liveness, the discovery document) has none;
    test_function_grants.py checks that every policy is exactly what the route needs."""

    def actions(policies: list[Any]) -> list[str]:
        found: list[str] = []
        for policy in policies:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                value = statement.get("Action", [])
                found += value if isinstance(value, list) else [value]
        return found

    assert "Role" not in TEMPLATE["Globals"]["Function"]
    for name, props in FUNCTIONS.items():
        assert "Role" not in props, name
        assert not [a for a in actions(props.get("Policies", [])) if "*" in a], name
