"""Reading template.yaml: the SAM template as data, and the HTTP API routes it declares.

One reader for everything that needs the template: the local gateway (which routes it
serves), the route contract tests and the cross-tenant matrix (that code and template agree).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["TEMPLATE", "TemplateRoute", "load_template", "template_routes"]

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain mappings."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data; ``!Ref x`` reads as ``{"Ref": "x"}``."""
    # _CfnLoader is a SafeLoader that reads the intrinsic tags as plain data.
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 # nosec B506
    return data


@dataclass(frozen=True)
class TemplateRoute:
    """One HttpApi event of a function: the route and the handler that serves it."""

    method: str
    path: str
    handler: str
    function: str
    authorized: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(
            "^" + re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        )


def template_routes(template: Mapping[str, Any]) -> list[TemplateRoute]:
    """Every HttpApi event of every function in the template."""
    globals_ = template.get("Globals", {}).get("Function", {})
    routes = []
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        handler = props.get("Handler", globals_.get("Handler"))
        for event in props.get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            ep = event["Properties"]
            authorizer = (ep.get("Auth") or {}).get("Authorizer")
            routes.append(
                TemplateRoute(
                    method=ep["Method"].upper(),
                    path=ep["Path"],
                    handler=handler,
                    function=name,
                    authorized=authorizer != "NONE",
                )
            )
    return routes
