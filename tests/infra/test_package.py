"""What `make package` ships: the dependency layer is built from pinned manylinux2014 wheels
for CPython 3.11 (as `sam build` builds it, without Docker), leaves out what the Lambda
runtime ships, and every function with its layers stays under Lambda's 250 MB unzipped.

The layer is built with pip into a cache under .aws-sam/ (downloads from PyPI the first
time; skipped, saying so, when PyPI cannot be reached). The last test runs the full `sam
build` (about half a minute once pip's cache is warm) with the SAM CLI `make test` installs
in .venv-sam; `make test-package` runs it alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.package_size import (
    LAMBDA_LIMIT,
    PLATFORMS,
    RUNTIME_PROVIDED,
    LayerBuildError,
    build_dependency_layer,
    function_sizes,
    too_new,
    wheel_tags,
)
from infra.template import load_template
from tenancy.schema import SCHEMA_VERSION
from tests.conftest import ROOT

OFFLINE = re.compile(
    r"NewConnectionError|Temporary failure in name resolution|Network is unreachable"
)


@pytest.fixture(scope="module")
def dependency_layer() -> Path:
    try:
        return build_dependency_layer()
    except LayerBuildError as error:
        if error.offline:
            pytest.skip(f"PyPI cannot be reached to download the layer's wheels: {error}")
        raise


def test_the_layer_is_built_from_manylinux2014_wheels_only(dependency_layer: Path) -> None:
    """Given every wheel the python3.11 runtime could load (glibc up to 2.26, as `sam build`
    chooses), when the dependency layer is built from its pins, then each installed wheel is
    manylinux2014 (glibc 2.17) or pure Python: none needs a newer glibc."""
    tags = wheel_tags(dependency_layer)
    newer = {name: found for name, found in tags.items() if any(too_new(tag) for tag in found)}

    assert "manylinux_2_26_x86_64" in PLATFORMS
    assert len(tags) >= 10
    assert all(tags.values())
    assert newer == {}


def test_the_wheel_tag_check_tells_the_glibc_apart() -> None:
    """Given wheel tags, then manylinux2014, manylinux_2_17 and pure-Python tags pass and a
    manylinux_2_26 or macOS tag does not (the check above would see them)."""
    assert not too_new("cp311-cp311-manylinux2014_x86_64")
    assert not too_new("cp311-abi3-manylinux_2_17_x86_64")
    assert not too_new("py3-none-any")
    assert too_new("cp310-abi3-manylinux_2_26_x86_64")
    assert too_new("cp311-cp311-macosx_11_0_arm64")


def test_the_layer_leaves_out_what_the_lambda_runtime_ships(dependency_layer: Path) -> None:
    """Given the built layer, then boto3 and botocore are not in it (the runtime's are
    used), and everything the functions import is."""
    installed = {path.name for path in dependency_layer.iterdir()}

    assert not {"boto3", "botocore", "s3transfer"} & installed
    assert set(RUNTIME_PROVIDED) == {"boto3", "botocore", "s3transfer"}
    assert {"psycopg", "pydantic", "jwt", "cryptography", "argon2", "pyotp"} <= installed
    assert {"aws_lambda_powertools", "sentry_sdk"} <= installed


def test_every_function_with_its_layers_fits_lambdas_unzipped_limit(
    dependency_layer: Path,
) -> None:
    """Given the layer and each function of template.yaml (route and deploy-time), when its
    code and both layers are added up unzipped, then each is under 250 MB."""
    sizes = function_sizes(dependency_layer)
    names = {
        name
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }

    assert {size.name for size in sizes} == names
    assert all(size.code > 0 and size.layers > 0 for size in sizes)
    assert [size.name for size in sizes if size.total >= LAMBDA_LIMIT] == []


SAM = os.environ.get("SAM") or shutil.which("sam") or str(ROOT / ".venv-sam/bin/sam")


@pytest.mark.slow
@pytest.mark.skipif(not Path(SAM).is_file(), reason="no SAM CLI: `make test` installs it")
def test_sam_build_builds_every_function_and_layer(tmp_path: Path) -> None:
    """Given this tree, when `sam build` runs (no Docker: python3.11 builds for the
    python3.11 runtime; telemetry and the version check off), then it succeeds, each
    function and layer is built, the tenancy layer carries the RDS CA bundle, the migrations
    function its migrations, and each function with the two layers stays under Lambda's
    unzipped limit, from manylinux2014 wheels only."""
    build = tmp_path / "build"
    app_dir = tmp_path / "sam-cli"
    app_dir.mkdir()
    (app_dir / "metadata.json").write_text(
        json.dumps({"telemetryEnabled": False, "lastVersionCheck": time.time()})
    )
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "SAM_CLI_APP_DIR": str(app_dir)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    done = subprocess.run(
        [SAM, "build", "--build-in-source", "--build-dir", str(build)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )

    output = done.stdout[-4000:] + done.stderr[-4000:]
    if done.returncode != 0 and OFFLINE.search(output):
        pytest.skip(f"PyPI cannot be reached for the layer's wheels: {output[-500:]}")
    assert done.returncode == 0, output
    functions = [
        name
        for name, resource in load_template()["Resources"].items()
        if resource["Type"].endswith("::Function")
    ]
    sizes = function_sizes(build / "DependenciesLayer" / "python", build)
    assert sorted(size.name for size in sizes) == sorted(functions)
    assert [size.name for size in sizes if size.total >= LAMBDA_LIMIT] == []
    assert (build / "TenancyLayer" / "python" / "tenancy" / "rds-ca-bundle.pem").is_file()
    assert (build / "MigrationsFunction" / "infra" / "migrations" / SCHEMA_VERSION).is_file()
    layer = build / "DependenciesLayer" / "python"
    assert [name for name, tags in wheel_tags(layer).items() if any(map(too_new, tags))] == []
