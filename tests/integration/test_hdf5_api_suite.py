"""HDF5's own API test suite (test/API, `h5_api_test`) against the nimbus connector (issue #4, 8).

scripts/hdf5-api-tests runs every area (file, group, dataset, datatype, attribute, link, object,
misc) in its own process on the file store, and on the S3 test server (MinIO in `make test`) when
NIMBUS_TEST_S3_* describe one. The suite skips what the connector's capability flags do not
advertise. Each (store, area) must pass at least as many tests as recorded in
tests/conformance/hdf5_api_expected.json; more is fine (re-record then, see that file's "about").

The whole run takes a few seconds on the file store and well under a minute on MinIO.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import REPO_ROOT, VERSIONS, build_dir, nimbus_cache, servers_required

RUNNER = REPO_ROOT / "scripts" / "hdf5-api-tests"
EXPECTED_PATH = REPO_ROOT / "tests" / "conformance" / "hdf5_api_expected.json"
EXPECTED = json.loads(EXPECTED_PATH.read_text())
AREAS = ["file", "group", "dataset", "datatype", "attribute", "link", "object", "misc"]
BINARY = nimbus_cache() / f"hdf5-api-tests-{VERSIONS['NIMBUS_HDF5_VERSION']}" / "bin" / "h5_api_test"


def _missing(msg: str):
    if servers_required():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def _run_suite(store: str, tmp: Path) -> Dict[str, Dict]:
    if not BINARY.is_file():
        _missing(f"{BINARY} not built (scripts/bootstrap builds it in step hdf5-api)")
    plugin_dir = build_dir() / "plugins"
    if not (plugin_dir / "libnimbus_vol.so").is_file():
        pytest.fail(f"libnimbus_vol.so not built in {plugin_dir} (run `make build`)", pytrace=False)
    out = tmp / f"api-{store}.json"
    cmd = [sys.executable, str(RUNNER), "--binary", str(BINARY), "--plugin-dir", str(plugin_dir),
           "--store", store, "--seed", str(EXPECTED["seed"]), "--show", "failed", "--json", str(out),
           "--timeout", "120"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    print(r.stdout)
    print(r.stderr, file=sys.stderr)
    assert r.returncode == 0 and out.is_file(), f"scripts/hdf5-api-tests failed (exit {r.returncode}):\n{r.stderr}"
    return {res["area"]: res for res in json.loads(out.read_text())["results"]}


@pytest.fixture(scope="module")
def file_results(tmp_path_factory) -> Dict[str, Dict]:
    return _run_suite("file", tmp_path_factory.mktemp("api-file"))


@pytest.fixture(scope="module")
def s3_results(tmp_path_factory, s3_config) -> Dict[str, Dict]:
    # s3_config: fails (make test) or skips (ad-hoc run) without NIMBUS_TEST_S3_*; the runner reads
    # the same variables.
    return _run_suite("s3", tmp_path_factory.mktemp("api-s3"))


def _check(results: Dict[str, Dict], store: str, area: str) -> None:
    want = EXPECTED["stores"].get(store, {}).get(area)
    if want is None:
        pytest.skip(f"no recorded counts for {store}/{area} in {EXPECTED_PATH.name}")
    got = results[area]
    passed_now = {t["name"] for t in got["tests"] if t["status"] == "passed"}
    lost: List[str] = [n for n in want["passed_tests"] if n not in passed_now]
    failing = [f"{t['status'].upper()}: {t['name']}" for t in got["tests"] if t["status"] in ("failed", "crashed")]
    assert got["counts"]["passed"] >= want["passed"], (
        f"{store}/{area}: {got['counts']['passed']} API tests passed, fewer than the {want['passed']} recorded "
        f"in {EXPECTED_PATH.name}.\nNo longer passing: {lost}\nFailing now: {failing}\n"
        f"stderr tail: {got.get('stderr_tail', '')}")


@pytest.mark.parametrize("area", AREAS)
def test_api_suite_file_store(file_results, area):
    _check(file_results, "file", area)


@pytest.mark.s3
@pytest.mark.parametrize("area", AREAS)
def test_api_suite_s3(s3_results, area):
    _check(s3_results, "s3", area)


def test_recorded_counts_match_the_suite_version():
    assert EXPECTED["hdf5_version"] == VERSIONS["NIMBUS_HDF5_VERSION"], (
        "hdf5_api_expected.json was recorded with another HDF5 release; re-record it")
    assert set(EXPECTED["stores"].get("file", {})) == set(AREAS)
