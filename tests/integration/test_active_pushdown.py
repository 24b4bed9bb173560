"""Selection push-down and reductions through nimbus-active, against MinIO.

A nimbus-active server is started by this module. h5py reads through the connector with
`active_storage=http://...` set: sparse selections of gzip / zstd / shuffled datasets, unsharded
and sharded, must give exactly the values the normal path gives, while the bytes that travel to the
client drop (measured with the server's /metrics byte counters against the stored sizes of the
chunks involved, which the normal path would have fetched whole). nimbus.reduce (sum, min, max,
count, mean = sum / count) is compared with numpy for several dtypes, selections and axes, with
the server and without. With the server down, reads and reductions stay correct.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import pytest

from h5py_stores import clean_environment, run_scenario, s3_seed_environment
from h5py_stores import plugin_built  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.s3


class Active:
    """A nimbus-active started for these tests (port 0: any free port)."""

    def __init__(self, binary: Path):
        self.proc = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0", "--log-level", "warn",
                                      "--memory-limit", "512M"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"nimbus-active did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.strip().rsplit(" ", 1)[1]

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def counters(self) -> Dict[str, float]:
        return {k: self.metric(f"nimbus_active_{k}") for k in
                ("bytes_fetched_total", "bytes_returned_total", "requests_total")}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def active(built_binary):
    server = Active(built_binary("nimbus-active"))
    yield server
    server.stop()


@pytest.fixture(scope="module", autouse=True)
def nimbus_package(nimbus_zarr):
    """`import nimbus` in this process resolves to <repo>/python (the conftest fixture puts it on
    sys.path), whether or not a nimbus package is installed in the venv."""
    return nimbus_zarr


def h5py_env(s3, connector: str) -> Dict[str, str]:
    env = clean_environment(connector, python_path=True, drop_prefixes=("NIMBUS_ACTIVE",))
    env.update(s3_seed_environment(s3))
    return env


def run(env: Dict[str, str], code: str, timeout: int = 300) -> str:
    return run_scenario("import json, os, sys\nimport numpy as np\nimport h5py\n", code, env, timeout)


# The datasets: name -> (dtype, h5py creation keywords). Chunks are 100 x 100 of a 400 x 300 array.
DATASETS = {
    "gzip_f4": ("<f4", dict(compression="gzip", compression_opts=4)),
    "zstd_i4": ("<i4", dict(compression=32015, compression_opts=(3,), allow_unknown_filter=True)),
    "shuffle_gzip_f8": (">f8", dict(compression="gzip", shuffle=True)),
    "blosc_u2": ("<u2", dict(compression=32001, compression_opts=(0, 0, 0, 0, 5, 1, 5),
                             allow_unknown_filter=True)),
}
SHAPE = (400, 300)
CHUNKS = (100, 100)
# Sparse selections (numpy keys as text, evaluated in the subprocesses) and the chunks they touch.
SELECTIONS = {
    "np.s_[::10, 7]": [(r, 0) for r in range(4)],
    "np.s_[205, :]": [(2, c) for c in range(3)],
    "np.s_[50:60:3, 120:290:17]": [(0, 1), (0, 2)],
}

GENERATE = '''
def values(name, dtype):
    rng = np.random.default_rng(sum(map(ord, name)))
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=(400, 300)).astype(dtype)
    return (rng.integers(0, 1000, size=(400, 300)) + np.arange(300)).astype(dtype)
'''


@pytest.fixture(scope="module")
def dataset_file(s3_config, s3_client):
    """A nimbus file with the DATASETS (written by h5py through the connector, no active storage)
    plus a sharded zstd array written by nimbus.zarr into the same hierarchy."""
    import uuid

    prefix = f"pytest/pushdown-{uuid.uuid4().hex[:10]}/"
    name = prefix + "data.h5"
    run(h5py_env(s3_config, "nimbus"), GENERATE + f'''
datasets = {DATASETS!r}
with h5py.File({name!r}, "w") as f:
    for key, (dtype, kw) in datasets.items():
        f.create_dataset(key, data=values(key, dtype), chunks={CHUNKS}, **kw)
''')
    import nimbus.zarr as nz

    url = f"s3://{s3_config.bucket}/{name}"
    settings = dict(endpoint=s3_config.endpoint, region=s3_config.region,
                    access_key_id=s3_config.access_key, secret_access_key=s3_config.secret_key,
                    addressing="path")
    a = nz.create_array(url, "sharded_f4", shape=SHAPE, dtype="float32", chunks=(50, 50),
                        shards=(100, 300), **settings)
    rng = np.random.default_rng(5)
    a[...] = rng.normal(size=SHAPE).astype("float32")
    return dict(name=name, prefix=prefix, url=url, settings=settings)


def stored_size(s3_client, bucket: str, key: str) -> int:
    return s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]


READ = GENERATE + '''
name = {name!r}
out = {{}}
with h5py.File(name, "r") as f:
    for key in {keys!r}:
        for i, sel in enumerate({sels!r}):
            got = f[key][eval(sel)]
            np.save({tmp!r} + "/" + key + "-" + str(i) + {tag!r} + ".npy", got)
'''


def read_all(env, dataset_file, keys, tmp_path, tag):
    run(env, READ.format(name=dataset_file["name"], keys=list(keys), sels=list(SELECTIONS),
                         tmp=str(tmp_path), tag=tag))


def test_h5py_sparse_reads_select_on_the_server(s3_config, s3_client, active, dataset_file,
                                                tmp_path):
    keys = list(DATASETS)
    read_all(h5py_env(s3_config, "nimbus"), dataset_file, keys, tmp_path, "-plain")
    before = active.counters()
    read_all(h5py_env(s3_config, f"nimbus active_storage={active.url}"), dataset_file, keys,
             tmp_path, "-pushed")
    after = active.counters()
    # Identical values (bit for bit) to the normal path, and to numpy.
    for key in keys:
        dtype = DATASETS[key][0]
        rng = np.random.default_rng(sum(map(ord, key)))
        full = (rng.normal(size=SHAPE).astype(dtype) if np.dtype(dtype).kind == "f" else
                (rng.integers(0, 1000, size=SHAPE) + np.arange(300)).astype(dtype))
        for tag, sel in enumerate(SELECTIONS):
            plain = np.load(tmp_path / f"{key}-{tag}-plain.npy")
            pushed = np.load(tmp_path / f"{key}-{tag}-pushed.npy")
            assert pushed.dtype == plain.dtype and pushed.shape == plain.shape
            assert pushed.tobytes() == plain.tobytes(), (key, sel)
            assert np.array_equal(plain, full[eval(sel)]), (key, sel)
    # Every touched chunk went through the server, which fetched it whole from MinIO; what reached
    # the client is a small fraction of what the normal path fetched.
    touched = 0
    n_chunks = 0
    for key in keys:
        for chunks in SELECTIONS.values():
            for r, c in chunks:
                touched += stored_size(s3_client, s3_config.bucket,
                                       f"{dataset_file['name']}/{key}/c/{r}/{c}")
                n_chunks += 1
    fetched = after["bytes_fetched_total"] - before["bytes_fetched_total"]
    returned = after["bytes_returned_total"] - before["bytes_returned_total"]
    requests = after["requests_total"] - before["requests_total"]
    assert requests == n_chunks
    assert fetched == touched
    assert returned < 0.1 * touched, (returned, touched)
    print(f"\nselection push-down: normal path {touched} bytes from the store, "
          f"pushed {returned:.0f} bytes from nimbus-active ({returned / touched:.2%})")


def test_h5py_sharded_inner_chunks_select_on_the_server(s3_config, s3_client, active,
                                                        dataset_file, tmp_path):
    read_all(h5py_env(s3_config, "nimbus"), dataset_file, ["sharded_f4"], tmp_path, "-plain")
    before = active.counters()
    read_all(h5py_env(s3_config, f"nimbus active_storage={active.url};active_storage_min_saving=0.5"),
             dataset_file, ["sharded_f4"], tmp_path, "-pushed")
    after = active.counters()
    for tag, sel in enumerate(SELECTIONS):
        plain = np.load(tmp_path / f"sharded_f4-{tag}-plain.npy")
        pushed = np.load(tmp_path / f"sharded_f4-{tag}-pushed.npy")
        assert pushed.tobytes() == plain.tobytes(), sel
    fetched = after["bytes_fetched_total"] - before["bytes_fetched_total"]
    returned = after["bytes_returned_total"] - before["bytes_returned_total"]
    assert after["requests_total"] > before["requests_total"]
    # The server read only inner chunks (by range), not shards; the client got a fraction of that.
    assert 0 < returned < 0.1 * fetched, (returned, fetched)
    shard = stored_size(s3_client, s3_config.bucket, f"{dataset_file['name']}/sharded_f4/c/0/0")
    assert fetched < 4 * shard
    print(f"\nsharded push-down: inner chunks {fetched:.0f} bytes at the server, "
          f"{returned:.0f} bytes to the client ({returned / fetched:.2%})")


def test_dense_reads_are_not_pushed(s3_config, active, dataset_file):
    before = active.counters()
    run(h5py_env(s3_config, f"nimbus active_storage={active.url}"), f'''
with h5py.File({dataset_file["name"]!r}, "r") as f:
    a = f["gzip_f4"][:200, :]
    assert a.shape == (200, 300)
''')
    assert active.counters()["requests_total"] == before["requests_total"]


def test_server_down_reads_stay_correct(s3_config, dataset_file, tmp_path):
    # Nothing listens there: every chunk falls back, the values are the same, one warning.
    env = h5py_env(s3_config, "nimbus active_storage=http://127.0.0.1:9")
    read_all(h5py_env(s3_config, "nimbus"), dataset_file, ["zstd_i4", "sharded_f4"], tmp_path, "-plain")
    read_all(env, dataset_file, ["zstd_i4", "sharded_f4"], tmp_path, "-down")
    for key in ("zstd_i4", "sharded_f4"):
        for tag in range(len(SELECTIONS)):
            assert (np.load(tmp_path / f"{key}-{tag}-down.npy").tobytes() ==
                    np.load(tmp_path / f"{key}-{tag}-plain.npy").tobytes())


# ------------------------------------------------------------------------------------------------
# nimbus.reduce
# ------------------------------------------------------------------------------------------------
REDUCE_CASES = [
    (None, None),
    (np.s_[...], 0),
    (np.s_[10:390:3, 5:290], 1),
    (np.s_[::-7, 50], None),
    (np.s_[123, 40:260:11], None),
    (np.s_[0:400:50, 0:300:50], (0, 1)),
    (np.s_[200:201, :], 0),
    (np.s_[-150:, ::2], -1),
]


def numpy_expected(a: np.ndarray, op: str, sel, axis):
    view = a if sel is None else a[sel]
    if op == "sum":
        return np.sum(view, axis=axis, dtype=a.dtype)
    if op == "count":
        return np.sum(np.ones(view.shape, dtype="int64"), axis=axis)
    return getattr(np, op)(view, axis=axis)


def check(got, expected, dtype):
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape
    if np.dtype(dtype).kind == "f":
        tol = dict(rtol=1e-2, atol=2.0) if np.dtype(dtype).itemsize == 2 else dict(rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(got.astype("f8"), expected.astype("f8"), **tol)
    else:
        assert np.array_equal(got, expected)


@pytest.fixture(scope="module")
def reduce_arrays(s3_config):
    """nimbus.zarr arrays (unsharded gzip, sharded zstd, transposed, raw, some chunks missing)."""
    import uuid

    import nimbus.zarr as nz

    url = f"s3://{s3_config.bucket}/pytest/reduce-{uuid.uuid4().hex[:10]}"
    settings = dict(endpoint=s3_config.endpoint, region=s3_config.region,
                    access_key_id=s3_config.access_key, secret_access_key=s3_config.secret_key,
                    addressing="path")
    rng = np.random.default_rng(11)
    out = {}
    specs = [
        ("i2_gzip", "int16", dict(chunks=(64, 64), codecs=[{"name": "gzip", "configuration": {"level": 1}}])),
        ("u1_raw", "uint8", dict(chunks=(100, 100), codecs=[])),
        ("i8_sharded", "int64", dict(chunks=(50, 60), shards=(100, 300),
                                     codecs=[{"name": "zstd", "configuration": {"level": 1, "checksum": False}}])),
        ("f4_zstd", "float32", dict(chunks=(128, 75))),
        ("f8_transposed", "float64", dict(chunks=(80, 100), codecs=[
            {"name": "gzip", "configuration": {"level": 1}}], order="F")),
        ("f2_gzip", "float16", dict(chunks=(100, 100), codecs=[{"name": "gzip", "configuration": {"level": 1}}])),
        ("u4_missing", "uint32", dict(chunks=(100, 100), fill_value=7,
                                      codecs=[{"name": "zstd", "configuration": {"level": 1, "checksum": False}}])),
    ]
    for name, dtype, kw in specs:
        order = kw.pop("order", None)
        codecs = kw.pop("codecs", None)
        if order == "F":
            codecs_full = [{"name": "transpose", "configuration": {"order": [1, 0]}},
                           {"name": "bytes", "configuration": {"endian": "little"}}] + codecs
            a = nz.create_array(url, name, shape=SHAPE, dtype=dtype, codecs=codecs_full, **kw, **settings)
        elif codecs is not None:
            a = nz.create_array(url, name, shape=SHAPE, dtype=dtype, compressors=codecs, **kw, **settings)
        else:
            a = nz.create_array(url, name, shape=SHAPE, dtype=dtype, **kw, **settings)
        if np.dtype(dtype).kind == "f":
            scale = 1 if dtype == "float16" else 100  # float16 sums must stay far from 65504
            data = (rng.normal(size=SHAPE) * scale).astype(dtype)
        else:
            info = np.iinfo(dtype)
            data = rng.integers(max(info.min, -30000), min(info.max, 30000), size=SHAPE, dtype=dtype)
        if name == "u4_missing":
            data[:, :] = 7
            data[:100, :200] = rng.integers(0, 1000, size=(100, 200))
            a[:100, :200] = data[:100, :200]  # the other chunks are never stored
        else:
            a[...] = data
        out[name] = (url, name, data)
    return out, settings


def open_array(url, name, settings, active_url=""):
    import nimbus.zarr as nz

    return nz.open_array(url, name, active_storage=active_url, **settings)


@pytest.mark.parametrize("op", ["sum", "min", "max", "count"])
def test_reduce_matches_numpy_with_and_without_the_server(op, reduce_arrays, active):
    import nimbus

    arrays, settings = reduce_arrays
    for name, (url, path, data) in arrays.items():
        local = open_array(url, path, settings)
        remote = open_array(url, path, settings, active.url)
        for sel, axis in REDUCE_CASES:
            expected = numpy_expected(data, op, sel, axis)
            got_local = nimbus.reduce(local, op, selection=sel, axis=axis, active_storage="")
            got_remote, info = nimbus.reduce(remote, op, selection=sel, axis=axis, details=True)
            check(got_local, expected, data.dtype if op != "count" else "int64")
            check(got_remote, expected, data.dtype if op != "count" else "int64")
            assert np.asarray(got_remote).dtype == (np.dtype("int64") if op == "count" else data.dtype)
            # Every chunk was reduced by the server (or was not stored: fill, computed here).
            assert info["active_storage"] and info["local_chunks"] == 0, (name, sel, axis, info)
            assert info["remote_chunks"] + info["fill_chunks"] > 0
            if np.dtype(data.dtype).kind != "f":
                assert np.array_equal(got_local, got_remote)


def test_reduce_mean_by_sum_and_count(reduce_arrays, active):
    import nimbus

    arrays, settings = reduce_arrays
    url, path, data = arrays["f8_transposed"]
    a = open_array(url, path, settings, active.url)
    for sel, axis in REDUCE_CASES:
        s, n = nimbus.reduce(a, "sum", selection=sel, axis=axis, return_count=True)
        view = data if sel is None else data[sel]
        np.testing.assert_allclose(s / n, np.mean(view, axis=axis), rtol=1e-9)
        assert np.array_equal(n, nimbus.reduce(a, "count", selection=sel, axis=axis))


def test_reduce_missing_chunks_contribute_fill(reduce_arrays, active):
    import nimbus

    arrays, settings = reduce_arrays
    url, path, data = arrays["u4_missing"]
    a = open_array(url, path, settings, active.url)
    total, info = nimbus.reduce(a, "sum", details=True)
    assert total == np.sum(data, dtype="uint32")
    assert info["fill_chunks"] == 12 - 2 and info["remote_chunks"] == 2


def test_reduce_empty_min_raises_like_numpy(reduce_arrays, active):
    import nimbus

    arrays, settings = reduce_arrays
    url, path, _ = arrays["i2_gzip"]
    a = open_array(url, path, settings, active.url)
    with pytest.raises(ValueError):
        nimbus.reduce(a, "min", selection=np.s_[5:5, :])
    assert nimbus.reduce(a, "sum", selection=np.s_[5:5, :]) == 0
    assert nimbus.reduce(a, "count", selection=np.s_[5:5, :], axis=0).shape == (300,)


def test_reduce_on_h5py_datasets_uses_the_connector_settings(s3_config, active, dataset_file):
    out = run(h5py_env(s3_config, f"nimbus active_storage={active.url}"), GENERATE + f'''
import nimbus
res = {{}}
with h5py.File({dataset_file["name"]!r}, "r") as f:
    for key, dtype in [("gzip_f4", "<f4"), ("zstd_i4", "<i4"), ("shuffle_gzip_f8", ">f8")]:
        data = values(key, dtype)
        d = f[key]
        for op in ("sum", "min", "max", "count"):
            for sel, axis in [(np.s_[...], None), (np.s_[10:300, ::3], 0), (np.s_[7, :], None)]:
                got, info = nimbus.reduce(d, op, selection=sel, axis=axis, details=True)
                v = data[sel]
                exp = (np.sum(v, axis=axis, dtype=v.dtype.type) if op == "sum" else
                       np.sum(np.ones(v.shape, "int64"), axis=axis) if op == "count" else
                       getattr(np, op)(v, axis=axis))
                if v.dtype.kind == "f" and op == "sum":
                    np.testing.assert_allclose(got, exp, rtol=1e-4, atol=1e-2)
                else:
                    assert np.array_equal(got, exp), (key, op, sel)
                assert info["remote_chunks"] > 0, info
print("REDUCED")
''')
    assert "REDUCED" in out


def test_reduce_server_down_computes_locally(reduce_arrays):
    import nimbus

    arrays, settings = reduce_arrays
    url, path, data = arrays["i8_sharded"]
    a = open_array(url, path, settings, "http://127.0.0.1:9")
    got, info = nimbus.reduce(a, "max", selection=np.s_[3:397, 1::4], axis=1, details=True)
    assert np.array_equal(got, np.max(data[3:397, 1::4], axis=1))
    assert info["remote_chunks"] == 0 and info["local_chunks"] > 0
    # And with no server at all, the same.
    b = open_array(url, path, settings)
    assert np.array_equal(nimbus.reduce(b, "max", selection=np.s_[3:397, 1::4], axis=1), got)
