"""Plumbing shared by the h5py integration tests (test_h5py_*.py, test_active_pushdown.py).

h5py reads HDF5_VOL_CONNECTOR when it is imported, and other test modules import h5py with the
native connector, so every scenario runs in its own Python subprocess with the connector selected
through the environment exactly as a user would: HDF5_PLUGIN_PATH=<build>/plugins,
HDF5_VOL_CONNECTOR=nimbus, and the seed's STORAGE_PLATFORM / BUCKET_NAME / AWS_* variables.

Here: the clean environment (`clean_environment`), the seed's S3 variables (`s3_seed_environment`),
one scenario subprocess (`run_scenario`), the `Store` a scenario runs against and `make_store`
building it for the `store` fixtures (parametrised over STORE_KINDS), and the `plugin_built`
fixture (a module imports it to make it autouse there).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterable, Optional

import pytest

from conftest import REPO_ROOT, S3Config, build_dir

PLUGIN_DIR = build_dir() / "plugins"

# The `store` fixtures' parameters: the file store and S3 (MinIO, or Garage with make test-garage).
STORE_KINDS = ["file", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture(scope="module", autouse=True)
def plugin_built():
    if not (PLUGIN_DIR / "libnimbus_vol.so").is_file():
        pytest.fail(f"libnimbus_vol.so not built in {PLUGIN_DIR} (run `make build`)", pytrace=False)


def clean_environment(connector: Optional[str] = "nimbus", *, python_path: bool = False,
                      drop_prefixes: Iterable[str] = (), drop: Iterable[str] = ()) -> Dict[str, str]:
    """The test process's environment without any store or HDF5 configuration of its own
    (AWS_*, AZURE_*, HDF5_*, STORAGE_PLATFORM, BUCKET_NAME, NIMBUS_STORE_URL, and whatever
    drop_prefixes / drop name), then nimbus selected as `connector` through HDF5_PLUGIN_PATH and
    HDF5_VOL_CONNECTOR (connector=None: neither is set). python_path: the repo's nimbus package
    first on PYTHONPATH."""
    prefixes = ("AWS_", "AZURE_", "HDF5_") + tuple(drop_prefixes)
    names = ("STORAGE_PLATFORM", "BUCKET_NAME", "NIMBUS_STORE_URL") + tuple(drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in names}
    if connector is not None:
        env["HDF5_PLUGIN_PATH"] = str(PLUGIN_DIR)
        env["HDF5_VOL_CONNECTOR"] = connector
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "python")] +
                                            [p for p in [os.environ.get("PYTHONPATH")] if p])
    return env


def s3_seed_environment(s3: S3Config) -> Dict[str, str]:
    """The seed's variables, exactly (shared/seeds/000_b818dc1044ab85dc.txt), for the S3 target;
    AWS_USE_TLS / AWS_SIGNED_PAYLOADS on Garage (make test-garage)."""
    env = dict(STORAGE_PLATFORM="S3", BUCKET_NAME=s3.bucket, AWS_ENDPOINT_URL_S3=s3.endpoint,
               AWS_S3_ADDRESSING_STYLE="path", AWS_ACCESS_KEY_ID=s3.access_key,
               AWS_SECRET_ACCESS_KEY=s3.secret_key, AWS_REGION=s3.region)
    env.update(s3.seed_extras())
    return env


def run_scenario(prelude: str, code: str, env: Dict[str, str], timeout: int = 180) -> str:
    """Runs prelude + code (dedented) in a fresh Python; it must exit 0 having reached its end.
    Returns its stdout."""
    script = prelude + textwrap.dedent(code) + "\nprint('SCENARIO-OK')\n"
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0 and "SCENARIO-OK" in r.stdout, (
        f"scenario failed (exit {r.returncode})\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}")
    return r.stdout


@dataclasses.dataclass
class Store:
    kind: str              # "file" or "s3"
    env: Dict[str, str]    # environment for the h5py subprocess
    prefix: str            # prepended to file names (unique per test on S3)
    root: Optional[Path]   # the directory files land in (file store only)
    prelude: str = ""      # the test module's scenario prelude (name(), helpers)

    def run(self, code: str, extra_env: Optional[Dict[str, str]] = None, timeout: int = 180) -> str:
        env = dict(self.env)
        env.update(extra_env or {})
        return run_scenario(self.prelude, code, env, timeout)


def make_store(request, tmp_path: Path, prelude: str, env: Optional[Dict[str, str]] = None,
               cls: type = Store) -> Store:
    """The Store for a `store` fixture's parameter (STORE_KINDS): a fresh directory under tmp_path
    on the file store, a unique key prefix in the test bucket on S3. env: the clean environment to
    start from (default clean_environment())."""
    env = clean_environment() if env is None else env
    if request.param == "file":
        root = tmp_path / "files"
        root.mkdir()
        env.update(STORAGE_PLATFORM="File", BUCKET_NAME=str(root), NIMBUS_TEST_NAME_PREFIX="")
        return cls("file", env, "", root, prelude)
    s3 = request.getfixturevalue("s3_config")
    prefix = request.getfixturevalue("unique_prefix")
    env.update(s3_seed_environment(s3), NIMBUS_TEST_NAME_PREFIX=prefix)
    return cls("s3", env, prefix, None, prelude)
