"""Every declared route, found by importing the function modules.

The template checks, the OpenAPI document, the local gateway's routing checks and the
cross-tenant matrix all start here, so a new route is covered without editing them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from tenancy.gate import Route, RouteSpec

__all__ = ["DeclaredRoute", "discover"]


@dataclass(frozen=True)
class DeclaredRoute:
    #: The Lambda handler string, as in template.yaml: ``area.module.handler``.
    handler: str
    route: Route

    @property
    def spec(self) -> RouteSpec:
        return self.route.spec


def discover(functions_root: Path) -> list[DeclaredRoute]:
    """All routes under ``functions_root`` (which must be importable), sorted by path."""
    found: list[DeclaredRoute] = []
    for area in sorted(p for p in functions_root.iterdir() if (p / "__init__.py").is_file()):
        for source in sorted(area.glob("*.py")):
            if source.stem == "__init__":
                continue
            module = importlib.import_module(f"{area.name}.{source.stem}")
            handler = getattr(module, "handler", None)
            if isinstance(handler, Route):
                found.append(DeclaredRoute(f"{area.name}.{source.stem}.handler", handler))
    keys = [declared.spec.route_key for declared in found]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"routes declared more than once: {duplicates}")
    return sorted(found, key=lambda d: (d.spec.path, d.spec.method))
