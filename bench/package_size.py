"""`make bench-package`: what each deployed function weighs, unzipped, with its layers.

Lambda refuses a function whose code and layers unzip to more than 250 MB; the budget here
is 60 MB (aim: 30 MB), because every cold start pays to fetch and unpack it. The dependency
layer is built as SAM builds it (manylinux2014 wheels for CPython 3.11 on x86_64, no
bytecode) into a cache under .aws-sam/, or read from `sam build`'s output when `make
package` has run. Reports, never fails: the limits are asserted by tests/infra/test_package.py.

    python -m bench.package_size            # builds (or reuses) the dependency layer
    python -m bench.package_size --built    # measures .aws-sam/build (after `make package`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUDGET",
    "LAMBDA_LIMIT",
    "FunctionSize",
    "LayerBuildError",
    "build_dependency_layer",
    "directory_size",
    "function_sizes",
    "too_new",
    "wheel_tags",
]

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "layers/dependencies/requirements.txt"
MB = 1_000_000
LAMBDA_LIMIT = 250 * 1024 * 1024  # Lambda's quota: 250 MB (MiB) unzipped, code and layers
BUDGET = 60 * MB
AIM = 30 * MB
#: The newest glibc the wheels may need: manylinux2014 is manylinux_2_17.
GLIBC = (2, 17)
#: Packages the Lambda Python runtime already ships, left out of the layer on purpose.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
#: The wheels pip may choose from: every one the python3.11 runtime (Amazon Linux 2, glibc
#: 2.26) can load, as `sam build` chooses; the pins must make it pick manylinux2014 ones.
PLATFORMS = ("manylinux2014_x86_64", *(f"manylinux_2_{minor}_x86_64" for minor in range(17, 27)))
PIP_PLATFORM = (
    *(option for platform in PLATFORMS for option in ("--platform", platform)),
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--only-binary=:all:",
    "--no-compile",
)
#: Deploy-time functions' code (Makefile, build-DeployFunction): infra/deploy and migrations.
DEPLOY_CODE = ("infra/__init__.py", "infra/migrate.py", "infra/deploy", "infra/migrations")


class LayerBuildError(RuntimeError):
    """pip could not build the layer; ``offline`` when it could not reach the index."""

    def __init__(self, message: str, *, offline: bool) -> None:
        super().__init__(message)
        self.offline = offline


def _files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def directory_size(*roots: Path) -> int:
    """Bytes of every file under ``roots`` (bytecode caches left out: SAM ships none)."""
    return sum(path.stat().st_size for root in roots for path in _files(root))


def zipped_size(root: Path) -> int:
    """Bytes of ``root`` as a deflated zip, as Lambda receives a layer."""
    scratch = ROOT / ".aws-sam" / "cache" / "measure.zip"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(root):
            archive.write(path, path.relative_to(root))
    size = scratch.stat().st_size
    scratch.unlink()
    return size


def _cache_key() -> str:
    text = REQUIREMENTS.read_text() + " ".join(PIP_PLATFORM)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build_dependency_layer(cache_root: Path = ROOT / ".aws-sam" / "cache") -> Path:
    """The dependency layer's ``python/`` folder, built once per requirements file."""
    target = cache_root / f"dependencies-{_cache_key()}" / "python"
    done = target.parent / ".complete"
    if done.exists():
        return target
    shutil.rmtree(target.parent, ignore_errors=True)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *PIP_PLATFORM,
        "--target",
        str(target),
        "-r",
        str(REQUIREMENTS),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(target.parent, ignore_errors=True)
        output = result.stdout + result.stderr
        offline = bool(
            re.search(
                r"NewConnectionError|Temporary failure in name resolution|Network is unreachable"
                r"|ConnectTimeout|Max retries exceeded|No matching distribution",
                output,
            )
        )
        raise LayerBuildError(output[-3000:], offline=offline)
    done.touch()
    return target


def wheel_tags(layer: Path) -> dict[str, list[str]]:
    """The ``Tag:`` lines of each installed distribution's WHEEL file."""
    tags: dict[str, list[str]] = {}
    for wheel in sorted(layer.glob("*.dist-info/WHEEL")):
        tags[wheel.parent.name] = [
            line.split(":", 1)[1].strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        ]
    return tags


def too_new(tag: str) -> bool:
    """Whether a wheel tag needs a newer glibc than manylinux2014 (or is not for Linux)."""
    platform = tag.split("-")[-1]
    if platform == "any":
        return False
    if platform in ("manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"):
        return False
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
    return match is None or (int(match[1]), int(match[2])) > GLIBC


@dataclass(frozen=True)
class FunctionSize:
    name: str
    code: int
    layers: int

    @property
    def total(self) -> int:
        return self.code + self.layers


def _template_functions() -> list[tuple[str, str]]:
    """(logical id, kind) of every function in template.yaml: ``route`` or ``deploy``."""
    from infra.template import load_template

    found = []
    for name, resource in load_template()["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            found.append((name, "route"))
        elif resource["Type"] == "AWS::Lambda::Function":
            found.append((name, "deploy"))
    return sorted(found)


def function_sizes(dependencies: Path, built: Path | None = None) -> list[FunctionSize]:
    """Each function's unzipped size: its code, and the two layers every function has."""
    if built is not None:
        layers = directory_size(built / "DependenciesLayer", built / "TenancyLayer")
        return [
            FunctionSize(name, directory_size(built / name), layers)
            for name, _ in _template_functions()
            if (built / name).is_dir()
        ]
    layers = directory_size(dependencies, ROOT / "layers/tenancy")
    route_code = directory_size(ROOT / "functions")
    deploy_code = directory_size(*(ROOT / part for part in DEPLOY_CODE if (ROOT / part).is_dir()))
    deploy_code += sum((ROOT / part).stat().st_size for part in DEPLOY_CODE if part.endswith(".py"))
    return [
        FunctionSize(name, route_code if kind == "route" else deploy_code, layers)
        for name, kind in _template_functions()
    ]


def _by_package(layer: Path, top: int = 8) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    for path in _files(layer):
        first = path.relative_to(layer).parts[0]
        package = re.split(r"[-.]", first)[0].removesuffix("_binary")
        sizes[package] = sizes.get(package, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:top]


def _mb(size: int) -> str:
    return f"{size / MB:7.1f} MB"


def report(built: Path | None) -> None:
    dependencies = (
        built / "DependenciesLayer" / "python" if built is not None else build_dependency_layer()
    )
    sizes = function_sizes(dependencies, built)
    tenancy = (built / "TenancyLayer") if built is not None else ROOT / "layers/tenancy"
    print("Package sizes (unzipped; what Lambda unpacks for each function)")
    print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    source = f"sam build output in {built}" if built else "pip, manylinux2014 / cp311, cached"
    print(f"  layer     {source}")
    print()
    print(f"  dependencies layer {_mb(directory_size(dependencies))} unzipped,", end=" ")
    print(f"{_mb(zipped_size(dependencies))} zipped")
    print(f"  tenancy layer      {_mb(directory_size(tenancy))} unzipped (RDS CA bundle included)")
    print("  the dependency layer's heaviest packages:")
    for package, weight in _by_package(dependencies):
        print(f"     {package:<26} {_mb(weight)}")
    left_out = ", ".join(RUNTIME_PROVIDED)
    print(f"  left out (the Lambda runtime ships them): {left_out}")
    tags = wheel_tags(dependencies)
    newer = sorted(name for name, found in tags.items() if any(too_new(t) for t in found))
    print(f"  wheels: {len(tags)}, above manylinux2014: {', '.join(newer) or 'none'}")
    print()
    print(f"  {'function':<34} {'code':>10} {'layers':>10} {'total':>10}   budget 60 MB")
    for size in sizes:
        verdict = "PASS" if size.total <= BUDGET else "MISS"
        aim = " (aim 30 MB met)" if size.total <= AIM else ""
        print(
            f"  {size.name:<34} {_mb(size.code)} {_mb(size.layers)} {_mb(size.total)}"
            f"   {verdict}{aim}"
        )
    largest = max(sizes, key=lambda size: size.total)
    print()
    print(
        f"  largest: {largest.name}, {_mb(largest.total).strip()} of Lambda's"
        f" {LAMBDA_LIMIT / 2**20:.0f} MiB limit ({largest.total / LAMBDA_LIMIT:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--built",
        nargs="?",
        const=str(ROOT / ".aws-sam" / "build"),
        help="measure `sam build`'s output (default .aws-sam/build) instead of building",
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    try:
        report(Path(args.built) if args.built else None)
    except LayerBuildError as error:
        print(f"could not build the dependency layer:\n{error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
