"""Shared fixtures for the nimbus integration tests (run by scripts/test, i.e. `make test`).

scripts/test starts MinIO and Azurite on free loopback ports and describes them in NIMBUS_TEST_*:
    NIMBUS_TEST_S3_ENDPOINT, NIMBUS_TEST_S3_BUCKET, NIMBUS_TEST_S3_ACCESS_KEY,
    NIMBUS_TEST_S3_SECRET_KEY, NIMBUS_TEST_S3_REGION, NIMBUS_TEST_AZURE_CONNECTION_STRING
scripts/test-garage (make test-garage) points the same NIMBUS_TEST_S3_* at a single-node Garage and
switches the S3 target with NIMBUS_TEST_S3_FLAVOR=garage, NIMBUS_TEST_S3_REGION=garage,
NIMBUS_TEST_S3_USE_TLS=true and NIMBUS_TEST_S3_SIGNED_PAYLOADS=true, so that the h5py tests run with
exactly the seed's variables (S3Config.seed_extras()).
With NIMBUS_TEST_REQUIRE_SERVERS=1 (set by scripts/test and CI) a missing server variable FAILS the
test that needs it; otherwise (ad-hoc local runs) such tests are skipped.

Built binaries are looked up in build/dev/bin (override the build dir with NIMBUS_BUILD_DIR); the
nimbus Python package (and the nimbus._native extension CMake builds into it) in <repo>/python.
Tool paths come from scripts/env (NIMBUS_MINIO, NIMBUS_AZURITE, NIMBUS_TOXIPROXY), falling back to
the bootstrap cache layout and the pins in scripts/versions.sh.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import Callable, Dict, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------
# Pins and paths
# --------------------------------------------------------------------------------------------
def read_versions() -> Dict[str, str]:
    """NAME=value pins from scripts/versions.sh (the single source of truth for versions)."""
    pins: Dict[str, str] = {}
    text = (REPO_ROOT / "scripts" / "versions.sh").read_text()
    for m in re.finditer(r'^([A-Z][A-Z0-9_]*)=("([^"]*)"|(\S*))', text, re.MULTILINE):
        pins[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(4)
    return pins


VERSIONS = read_versions()


def nimbus_cache() -> Path:
    return Path(os.environ.get("NIMBUS_CACHE", Path.home() / ".cache" / "nimbus"))


def build_dir() -> Path:
    return Path(os.environ.get("NIMBUS_BUILD_DIR", REPO_ROOT / "build" / "dev"))


def find_binary(name: str) -> Optional[Path]:
    """A binary built by this repo (build/dev/bin/<name>), or None."""
    path = build_dir() / "bin" / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def tool_path(tool: str) -> Path:
    """Path of a bootstrap-installed server: 'minio', 'azurite' or 'toxiproxy'."""
    env = {"minio": "NIMBUS_MINIO", "azurite": "NIMBUS_AZURITE", "toxiproxy": "NIMBUS_TOXIPROXY"}[tool]
    if os.environ.get(env):
        return Path(os.environ[env])
    cache = nimbus_cache()
    return {
        "minio": cache / f"minio-{VERSIONS['NIMBUS_MINIO_VERSION']}" / "bin" / "minio",
        "azurite": cache / f"azurite-{VERSIONS['NIMBUS_AZURITE_VERSION']}" / "node_modules" / ".bin" / "azurite-blob",
        "toxiproxy": cache / f"toxiproxy-{VERSIONS['NIMBUS_TOXIPROXY_VERSION']}" / "bin" / "toxiproxy-server",
    }[tool]


def servers_required() -> bool:
    return os.environ.get("NIMBUS_TEST_REQUIRE_SERVERS") == "1"


def require_env(*names: str, what: str) -> Dict[str, str]:
    """The named variables; fail (servers required) or skip (ad-hoc run) when any is missing."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        msg = f"{what} not configured: {', '.join(missing)} unset (run the tests with `make test`)"
        if servers_required():
            pytest.fail(msg + " although NIMBUS_TEST_REQUIRE_SERVERS=1", pytrace=False)
        pytest.skip(msg)
    return {n: os.environ[n] for n in names}


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def versions() -> Dict[str, str]:
    return dict(VERSIONS)


@pytest.fixture(scope="session")
def built_binary() -> Callable[[str], Path]:
    """built_binary('name') -> path of build/dev/bin/name; fails the test when it was not built."""

    def get(name: str) -> Path:
        path = find_binary(name)
        if path is None:
            pytest.fail(f"{name} not built: {build_dir() / 'bin' / name} missing (run `make build`)", pytrace=False)
        return path

    return get


@dataclasses.dataclass(frozen=True)
class S3Config:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str
    flavor: str = "minio"                   # NIMBUS_TEST_S3_FLAVOR: minio (make test) | garage
    use_tls: Optional[str] = None           # NIMBUS_TEST_S3_USE_TLS -> the seed's AWS_USE_TLS
    signed_payloads: Optional[str] = None   # NIMBUS_TEST_S3_SIGNED_PAYLOADS -> AWS_SIGNED_PAYLOADS

    def seed_extras(self) -> Dict[str, str]:
        """The seed's AWS_USE_TLS / AWS_SIGNED_PAYLOADS for this target (Garage sets both to
        "true", as the seed does; MinIO leaves them unset). Added to the STORAGE_PLATFORM /
        BUCKET_NAME / AWS_* variables the h5py tests already pass."""
        extras = {}
        if self.use_tls is not None:
            extras["AWS_USE_TLS"] = self.use_tls
        if self.signed_payloads is not None:
            extras["AWS_SIGNED_PAYLOADS"] = self.signed_payloads
        return extras


@pytest.fixture(scope="session")
def s3_config() -> S3Config:
    env = require_env(
        "NIMBUS_TEST_S3_ENDPOINT",
        "NIMBUS_TEST_S3_BUCKET",
        "NIMBUS_TEST_S3_ACCESS_KEY",
        "NIMBUS_TEST_S3_SECRET_KEY",
        what="S3 test server (MinIO)",
    )
    return S3Config(
        endpoint=env["NIMBUS_TEST_S3_ENDPOINT"],
        bucket=env["NIMBUS_TEST_S3_BUCKET"],
        access_key=env["NIMBUS_TEST_S3_ACCESS_KEY"],
        secret_key=env["NIMBUS_TEST_S3_SECRET_KEY"],
        region=os.environ.get("NIMBUS_TEST_S3_REGION", "us-east-1"),
        flavor=os.environ.get("NIMBUS_TEST_S3_FLAVOR", "minio"),
        use_tls=os.environ.get("NIMBUS_TEST_S3_USE_TLS"),
        signed_payloads=os.environ.get("NIMBUS_TEST_S3_SIGNED_PAYLOADS"),
    )


@pytest.fixture(scope="session")
def s3_client(s3_config: S3Config):
    """boto3 S3 client for the test server (MinIO or Garage; path-style addressing, few retries)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=s3_config.endpoint,
        aws_access_key_id=s3_config.access_key,
        aws_secret_access_key=s3_config.secret_key,
        region_name=s3_config.region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


@pytest.fixture(scope="session")
def azure_connection_string() -> str:
    return require_env("NIMBUS_TEST_AZURE_CONNECTION_STRING", what="Azure test server (Azurite)")[
        "NIMBUS_TEST_AZURE_CONNECTION_STRING"
    ]


def parse_connection_string(conn: str) -> Dict[str, str]:
    """'A=b;C=d;' -> {'A': 'b', 'C': 'd'} (values may contain '=')."""
    out: Dict[str, str] = {}
    for part in conn.split(";"):
        if part:
            key, _, value = part.partition("=")
            out[key] = value
    return out


@pytest.fixture
def unique_prefix(request) -> str:
    """An object-key prefix unique to this test, so tests sharing the bucket never collide."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:60]
    return f"pytest/{name}-{uuid.uuid4().hex[:12]}/"


@pytest.fixture(scope="session")
def nimbus_zarr():
    """nimbus.zarr from <repo>/python, where CMake writes the nimbus._native extension."""
    python_dir = str(REPO_ROOT / "python")
    if python_dir not in sys.path:
        sys.path.insert(0, python_dir)
    try:
        import nimbus.zarr
    except ImportError as e:
        pytest.fail(f"nimbus.zarr not importable ({e}); build the extension with `make build`",
                    pytrace=False)
    return nimbus.zarr


@pytest.fixture(scope="session")
def which() -> Callable[[str], Optional[str]]:
    return shutil.which
