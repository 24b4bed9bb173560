"""The development environment is what scripts/bootstrap promises.

* h5py and our C/C++ build use the very same libhdf5 (same version, same file on disk);
* the servers the tests rely on are installed at the pinned versions and answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import VERSIONS, nimbus_cache, parse_connection_string, tool_path

# libhdf5.so.N, libhdf5_serial.so.N (Debian), libhdf5-<hash>.so.N (wheels) -- but not libhdf5_hl*.
LIBHDF5_RE = re.compile(r"^libhdf5(?:_(?!hl)[a-z]+)?(?:-[0-9a-f]+)?\.so(?:\.[0-9]+)*$")


@pytest.fixture(scope="module")
def probe(built_binary):
    exe = built_binary("hdf5_probe")
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=30).stdout
    return json.loads(out)


def loaded_libhdf5() -> set:
    """Real paths of every libhdf5 mapped into this process."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6:
                path = fields[5].strip()
                if path.startswith("/") and LIBHDF5_RE.match(os.path.basename(path)):
                    found.add(os.path.realpath(path))
    return found


def test_probe_reports_hdf5_114(probe):
    assert (probe["major"], probe["minor"]) >= (1, 14), probe
    assert probe["version"] == f"{probe['major']}.{probe['minor']}.{probe['release']}"
    assert os.path.isabs(probe["library_realpath"]) and os.path.exists(probe["library_realpath"])


def test_probe_uses_nimbus_hdf5_dir(probe):
    hdf5_dir = os.environ.get("NIMBUS_HDF5_DIR")
    if not hdf5_dir:
        pytest.skip("NIMBUS_HDF5_DIR unset (eval \"$(scripts/env)\")")
    prefix = os.path.realpath(hdf5_dir)
    assert probe["library_realpath"].startswith(prefix + os.sep), (probe, prefix)
    if Path(prefix).is_relative_to(nimbus_cache().resolve()):
        assert probe["version"] == VERSIONS["NIMBUS_HDF5_VERSION"]


def test_h5py_version_matches_probe(probe):
    import h5py

    assert h5py.version.hdf5_version == probe["version"]


def test_h5py_loads_the_probes_libhdf5(probe):
    import h5py

    assert h5py.h5.get_libversion() == (probe["major"], probe["minor"], probe["release"])
    assert loaded_libhdf5() == {probe["library_realpath"]}


def test_h5py_roundtrip(tmp_path):
    import h5py
    import numpy as np

    path = tmp_path / "roundtrip.h5"
    data = np.arange(24, dtype="<i4").reshape(4, 6)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data, chunks=(2, 3), compression="gzip")
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["x"][...], data)


def test_zarr_is_v3():
    import zarr

    assert int(zarr.__version__.split(".")[0]) >= 3


def _version_output(exe: Path, *args: str) -> str:
    assert exe.is_file() and os.access(exe, os.X_OK), f"{exe} missing (run scripts/bootstrap)"
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res
    return (res.stdout + res.stderr).strip()


def test_minio_installed_at_pin():
    exe = tool_path("minio")
    assert "minio version" in _version_output(exe, "--version")
    # go install builds report DEVELOPMENT; the embedded Go build info names the exact module version.
    pin = f"{VERSIONS['NIMBUS_MINIO_MODULE']}\t{VERSIONS['NIMBUS_MINIO_VERSION']}".encode()
    with open(exe, "rb") as f:
        assert pin in f.read(), f"{exe} was not built from {pin!r}"


def test_toxiproxy_installed_at_pin():
    out = _version_output(tool_path("toxiproxy"), "--version")
    assert VERSIONS["NIMBUS_TOXIPROXY_VERSION"].lstrip("v") in out, out


def test_azurite_installed_at_pin():
    out = _version_output(tool_path("azurite"), "--version")
    assert out.splitlines()[-1] == VERSIONS["NIMBUS_AZURITE_VERSION"], out


def test_minio_bucket_ready(s3_client, s3_config, unique_prefix):
    s3_client.head_bucket(Bucket=s3_config.bucket)
    key = unique_prefix + "hello"
    s3_client.put_object(Bucket=s3_config.bucket, Key=key, Body=b"nimbus")
    assert s3_client.get_object(Bucket=s3_config.bucket, Key=key)["Body"].read() == b"nimbus"
    s3_client.delete_object(Bucket=s3_config.bucket, Key=key)


def test_azurite_answers(azure_connection_string):
    endpoint = parse_connection_string(azure_connection_string)["BlobEndpoint"]
    assert endpoint.startswith("http://127.0.0.1:"), endpoint
    try:
        # Unauthenticated: Azurite answers with an auth error, which proves it is up.
        urllib.request.urlopen(endpoint.rstrip("/") + "?comp=list", timeout=10)
    except urllib.error.HTTPError as err:
        assert err.code in (400, 401, 403), err
