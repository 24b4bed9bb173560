"""nimbus-active (issue #5) against MinIO: results compared with numpy.ma over dtype x operation x
order x selection x axis x compression x filter x missing x byte order, for both API versions;
error paths; service endpoints; memory limit; TLS; graceful shutdown; a 64-client load test.

The server is started per module on a free loopback port (--listen 127.0.0.1:0; the first stdout
line names the port) and stopped with SIGTERM. Data is generated once per module. Requests of a
group run concurrently over one keep-alive pool so the whole module stays well under a minute.
"""

from __future__ import annotations

import base64
import concurrent.futures
import gzip
import http.client
import http.server
import json
import os
import signal
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest

pytestmark = pytest.mark.s3

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
          "float32", "float64"]
REDUCTIONIST_DTYPES = {"int32", "int64", "uint32", "uint64", "float32", "float64"}
OPS = ["count", "min", "max", "sum", "select"]


# ------------------------------------------------------------------------------------------------
# A CBOR decoder for exactly what the v2 response may contain (written independently of the
# server's encoder, so the encoding is checked too).
# ------------------------------------------------------------------------------------------------
def cbor_decode(data: bytes) -> Any:
    def item(pos: int) -> Tuple[Any, int]:
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        if info < 24:
            value = info
        elif info in (24, 25, 26, 27):
            n = 1 << (info - 24)
            value = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        else:
            raise ValueError(f"unsupported CBOR additional info {info}")
        if major == 0:
            return value, pos
        if major == 1:
            return -1 - value, pos
        if major == 2:
            return bytes(data[pos:pos + value]), pos + value
        if major == 3:
            return data[pos:pos + value].decode(), pos + value
        if major == 4:
            out = []
            for _ in range(value):
                v, pos = item(pos)
                out.append(v)
            return out, pos
        if major == 5:
            out = {}
            keys = []
            for _ in range(value):
                k, pos = item(pos)
                v, pos = item(pos)
                out[k] = v
                keys.append(k)
            out["__keys__"] = keys
            return out, pos
        raise ValueError(f"unsupported CBOR major type {major}")

    value, end = item(0)
    assert end == len(data), "trailing bytes after the CBOR item"
    return value


# ------------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------------
class ActiveServer:
    def __init__(self, binary: Path, *args: str, tls: Optional[Tuple[str, str]] = None):
        cmd = [str(binary), "--listen", "127.0.0.1:0", "--log-level", "warn", *args]
        if tls:
            cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"nimbus-active did not start: {line!r} {self.proc.stderr.read()}")
        self.scheme = "https" if tls else "http"
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            if self.scheme == "https":
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60,
                                                   context=ssl._create_unverified_context())
            else:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.conn = conn
        return conn

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        for attempt in range(2):  # a keep-alive connection the server closed is reopened once
            conn = self.connection()
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, payload: Dict[str, Any], auth: Optional[Tuple[str, str]] = None,
             content_type: str = "application/json"):
        headers = {"Content-Type": content_type}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return self.request("POST", path, json.dumps(payload).encode(), headers)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def rss_peak_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


@pytest.fixture(scope="module")
def active_binary(built_binary):
    return built_binary("nimbus-active")


@pytest.fixture(scope="module")
def server(active_binary):
    srv = ActiveServer(active_binary, "--memory-limit", "512M")
    yield srv
    assert srv.stop() == 0


@pytest.fixture(scope="module")
def auth(s3_config):
    return (s3_config.access_key, s3_config.secret_key)


@pytest.fixture(scope="module")
def prefix():
    return f"pytest/active-{uuid.uuid4().hex[:10]}/"


# ------------------------------------------------------------------------------------------------
# Data and expectations
# ------------------------------------------------------------------------------------------------
def make_data(dtype: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 10, size=n)
    if np.dtype(dtype).kind in "if" and dtype not in ("uint8",):
        values = values - (3 if np.dtype(dtype).kind == "i" or np.dtype(dtype).kind == "f" else 0)
    data = values.astype(dtype)
    if np.dtype(dtype).kind == "f":
        data = (values + rng.random(n).round(2)).astype(dtype)
    return data


def slices(selection):
    return tuple(slice(s[0], s[1], s[2]) for s in selection)


def missing_mask(a: np.ndarray, missing: Optional[Dict[str, Any]]) -> np.ndarray:
    if not missing:
        return np.zeros(a.shape, dtype=bool)
    (kind, value), = missing.items()
    cast = lambda v: np.array(v).astype(a.dtype)  # noqa: E731 (the server converts to the dtype)
    if kind == "missing_value":
        return a == cast(value)
    if kind == "missing_values":
        return np.isin(a, np.array(value).astype(a.dtype))
    if kind == "valid_min":
        return a < cast(value)
    if kind == "valid_max":
        return a > cast(value)
    lo, hi = value
    return (a < cast(lo)) | (a > cast(hi))


def expected_result(logical: np.ndarray, op: str, selection, axis, missing):
    a = logical[slices(selection)] if selection else logical
    masked = np.ma.masked_array(a, mask=missing_mask(a, missing))
    np_axis = None if axis is None else (tuple(axis) if isinstance(axis, list) else axis)
    if op == "select":
        return a, [int(masked.count())]
    counts = np.ma.count(masked, axis=np_axis)
    counts_list = np.asarray(counts).flatten().tolist()
    if op == "count":
        return np.asarray(counts, dtype="int64"), counts_list
    if op == "sum":
        if a.dtype == np.float16:
            value = np.ma.sum(masked.astype("float32"), axis=np_axis).astype("float16")
        else:
            value = np.ma.sum(masked, axis=np_axis, dtype=a.dtype)
    elif a.size == 0:
        value = np.ma.masked_array(np.zeros(np.shape(counts), a.dtype), mask=True)  # count 0
    elif op == "min":
        value = np.ma.min(masked, axis=np_axis)
    else:
        value = np.ma.max(masked, axis=np_axis)
    return value, counts_list


def check(result: Tuple[np.ndarray, List[int], str, List[int]], expected, dtype: str, op: str,
          what: str):
    values, counts, got_dtype, shape = result
    exp_value, exp_counts = expected
    assert got_dtype == ("int64" if op == "count" else dtype), what
    assert counts == exp_counts, f"{what}: counts {counts} != {exp_counts}"
    exp = np.ma.asarray(exp_value)
    assert list(shape) == list(exp.shape), f"{what}: shape {shape} != {list(exp.shape)}"
    got = values.reshape(exp.shape) if exp.shape else values.reshape(())
    mask = np.ma.getmaskarray(exp)
    if mask.all():
        return
    exp_data = np.ma.getdata(exp)
    if np.dtype(got_dtype).kind == "f":
        rtol = 1e-2 if got_dtype == "float16" else 1e-5
        assert np.allclose(got[~mask].astype("float64"), exp_data[~mask].astype("float64"),
                           rtol=rtol, equal_nan=True), f"{what}: {got} != {exp}"
    else:
        assert np.array_equal(got[~mask], exp_data[~mask]), f"{what}: {got} != {exp}"


def parse_response(api: str, status: int, headers: Dict[str, str], body: bytes, order: str, what: str):
    assert status == 200, f"{what}: HTTP {status}: {body[:500]!r}"
    if api == "v1":
        dtype = headers["x-activestorage-dtype"]
        shape = json.loads(headers["x-activestorage-shape"])
        counts = json.loads(headers["x-activestorage-count"])
        assert headers["x-activestorage-byte-order"] == "little"
        assert int(headers["content-length"]) == len(body)
        raw = body
    else:
        assert headers["content-type"] == "application/cbor"
        doc = cbor_decode(body)
        assert doc["__keys__"] == ["bytes", "dtype", "shape", "shape_as_bytes", "count",
                                   "count_as_bytes", "byte_order"], what
        assert doc["byte_order"] == "little"
        dtype, raw = doc["dtype"], doc["bytes"]
        shape = doc["shape"] if not doc["shape_as_bytes"] else list(
            np.frombuffer(doc["shape_as_bytes"], "<u8"))
        counts = doc["count"] if not doc["count_as_bytes"] else list(
            np.frombuffer(doc["count_as_bytes"], "<i8"))
    values = np.frombuffer(raw, dtype=dtype)
    if len(shape) >= 2:
        values = values.reshape(shape, order=order)
    return values, [int(c) for c in counts], dtype, [int(s) for s in shape]


class Uploader:
    """Uploads objects (with random prefix/suffix bytes around the stored data)."""

    def __init__(self, s3_client, bucket: str, prefix: str):
        self.s3, self.bucket, self.prefix = s3_client, bucket, prefix
        self.rng = np.random.default_rng(7)

    def put(self, name: str, stored: bytes, offset: int = 0, trailing: int = 0) -> str:
        key = self.prefix + name
        body = self.rng.bytes(offset) + stored + self.rng.bytes(trailing)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return key


def encode(data: np.ndarray, order: str, byte_order: str, shuffle: bool, compression: Optional[str]) -> bytes:
    import numcodecs

    if byte_order == "big":
        data = data.astype(data.dtype.newbyteorder(">"))
    raw = data.tobytes(order=order)
    if shuffle:
        raw = bytes(numcodecs.Shuffle(elementsize=data.dtype.itemsize).encode(raw))
    if compression == "gzip":
        raw = gzip.compress(raw)
    elif compression == "zlib":
        raw = zlib.compress(raw)
    elif compression == "zstd":
        raw = bytes(numcodecs.Zstd(level=3).encode(raw))
    elif compression == "blosc":
        raw = bytes(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.NOSHUFFLE).encode(raw))
    return raw


def build_payload(api: str, s3_config, key: str, dtype: str, **fields) -> Dict[str, Any]:
    if api == "v1":
        payload = {"source": s3_config.endpoint, "bucket": s3_config.bucket, "object": key}
    else:
        payload = {"interface_type": "s3", "url": f"{s3_config.endpoint}/{s3_config.bucket}/{key}"}
    payload["dtype"] = dtype
    payload.update({k: v for k, v in fields.items()})
    return payload


def run_cases(server, cases, auth):
    """cases: list of (api, op, payload, order, expected, dtype, what); checked concurrently."""

    def one(case):
        api, op, payload, order, expected, dtype, what = case
        status, headers, body = server.post(f"/{api}/{op}/", payload, auth)
        check(parse_response(api, status, headers, body, order, what), expected, dtype, op, what)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(one, c) for c in cases]:
            f.result()


# (shape, selection, axis) like the compliance suite's basic combinations, plus 3-D F/C partials.
COMBOS = [
    (None, None, None),
    ([5, 5, 4], None, None),
    ([100], [[-10, -50, -4]], None),
    ([100], [[-10, -50, -4]], 0),
    ([20, 5], [[0, 19, 2], [1, 3, 1]], None),
    ([20, 5], [[0, 19, 2], [1, 3, 1]], 1),
    ([20, 5], [[0, 19, 2], [1, 3, 1]], []),
    ([20, 5], [[0, 19, 2], [1, 3, 1]], [0, 1]),
    ([20, 5, 1], [[0, 19, 2], [1, 3, 1], [0, 2, 1]], [0, 1]),
    ([4, 5, 5], [[3, 0, -1], [0, 5, 2], [1, 5, 1]], [1]),
    ([20, 5], [[7, 3, 1], [0, 5, 1]], None),  # empty selection
    ([20, 5], [[3, 4, 1], [2, 3, 1]], None),  # one element, as PyActiveStorage sends an index
    ([20, 5], [[3, 4, 1], [0, 5, 1]], []),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_basic_matrix(server, s3_client, s3_config, auth, prefix, dtype):
    """dtype x op x order x (shape, selection, axis) x API version."""
    up = Uploader(s3_client, s3_config.bucket, prefix + f"basic-{dtype}/")
    data = make_data(dtype, 100, seed=DTYPES.index(dtype))
    cases = []
    for order in ("C", "F"):
        for i, (shape, selection, axis) in enumerate(COMBOS):
            logical = data.reshape(shape or [100], order="C")
            key = up.put(f"{order}-{i}.bin", logical.tobytes(order=order))
            for op in OPS:
                for api in ("v1", "v2"):
                    expected = expected_result(logical, op, selection, axis, None)
                    payload = build_payload(api, s3_config, key, dtype, shape=shape, order=order,
                                            selection=selection, axis=axis, offset=None)
                    what = f"{api} {op} {dtype} order={order} shape={shape} sel={selection} axis={axis}"
                    cases.append((api, op, payload, order, expected, dtype, what))
    run_cases(server, cases, auth)


@pytest.mark.parametrize("dtype", DTYPES)
def test_codec_matrix(server, s3_client, s3_config, auth, prefix, dtype):
    """dtype x compression x shuffle x byte order x op, with offset/trailing bytes, both orders."""
    up = Uploader(s3_client, s3_config.bucket, prefix + f"codec-{dtype}/")
    shape, selection = [10, 5, 2], [[0, 10, 3], [4, 0, -2], [0, 2, 1]]
    data = make_data(dtype, 100, seed=100 + DTYPES.index(dtype)).reshape(shape)
    cases = []
    n = 0
    for compression in (None, "gzip", "zlib", "zstd", "blosc"):
        for shuffle in (False, True):
            for byte_order in ("little", "big"):
                n += 1
                order = "CF"[n % 2]
                offset, trailing = (n * 7) % 64, (n * 13) % 32
                stored = encode(data, order, byte_order, shuffle, compression)
                key = up.put(f"{compression}-{shuffle}-{byte_order}.bin", stored, offset, trailing)
                filters = [{"id": "shuffle", "element_size": data.dtype.itemsize}] if shuffle else None
                for op in OPS:
                    api = "v1" if (n + OPS.index(op)) % 3 == 0 else "v2"
                    axis = [2] if op in ("sum", "count") and n % 2 else None
                    payload = build_payload(
                        api, s3_config, key, dtype, shape=shape, order=order, selection=selection,
                        offset=offset, size=len(stored), byte_order=byte_order, axis=axis,
                        compression={"id": compression} if compression else None, filters=filters)
                    if api == "v2" and n % 2:
                        payload.update(option_shape_as_bytes=True, option_count_as_bytes=True)
                    expected = expected_result(data, op, selection, axis, None)
                    what = f"{api} {op} {dtype} {compression} shuffle={shuffle} {byte_order} {order}"
                    cases.append((api, op, payload, order, expected, dtype, what))
    run_cases(server, cases, auth)


def missing_descriptors(dtype: str) -> List[Dict[str, Any]]:
    if np.dtype(dtype).kind == "f":
        return [{"missing_value": 999.0}, {"missing_values": [999.0, -1000.0]}, {"valid_min": 0.5},
                {"valid_max": 6.25}, {"valid_range": [0.5, 6.25]}]
    if np.dtype(dtype).kind == "u":
        return [{"missing_value": 99}, {"missing_values": [99, 0]}, {"valid_min": 2},
                {"valid_max": 7}, {"valid_range": [2, 7]}]
    return [{"missing_value": -99}, {"missing_values": [-99, 1]}, {"valid_min": -1},
            {"valid_max": 5}, {"valid_range": [-1, 5]}]


@pytest.mark.parametrize("dtype", DTYPES)
def test_missing_matrix(server, s3_client, s3_config, auth, prefix, dtype):
    """dtype x missing kind x op x selection (20% holes set to the missing value)."""
    up = Uploader(s3_client, s3_config.bucket, prefix + f"missing-{dtype}/")
    shape = [10, 5, 2]
    data = make_data(dtype, 100, seed=200 + DTYPES.index(dtype)).reshape(shape)
    holes = np.random.default_rng(10).random(shape) < 0.2
    cases = []
    for k, missing in enumerate(missing_descriptors(dtype)):
        (kind, value), = missing.items()
        filled = data.copy()
        hole_value = value[0] if isinstance(value, list) else value
        if kind in ("missing_value", "missing_values"):
            filled[holes] = np.array(hole_value).astype(dtype)
        key = up.put(f"{kind}.bin", filled.tobytes())
        assert missing_mask(filled, missing).any(), "the missing data must change the result"
        for selection in (None, [[1, 9, 2], [0, 5, 1], [1, 2, 1]]):
            for op in OPS:
                api = "v1" if (k + OPS.index(op)) % 4 == 0 else "v2"
                axis = 0 if op == "sum" and selection else None
                payload = build_payload(api, s3_config, key, dtype, shape=shape,
                                        selection=selection, missing=missing, axis=axis)
                expected = expected_result(filled, op, selection, axis, missing)
                what = f"{api} {op} {dtype} missing={missing} sel={selection}"
                cases.append((api, op, payload, "C", expected, dtype, what))
    run_cases(server, cases, auth)


# ------------------------------------------------------------------------------------------------
# Semantics beyond the suite
# ------------------------------------------------------------------------------------------------
def v2_payload(s3_config, key, dtype="int64", **fields):
    return build_payload("v2", s3_config, key, dtype, **fields)


def v2_values(server, op, payload, auth):
    status, headers, body = server.post(f"/v2/{op}", payload, auth)
    assert status == 200, body
    doc = cbor_decode(body)
    return np.frombuffer(doc["bytes"], doc["dtype"]), doc


def test_nan_never_crashes_and_propagates(server, s3_client, s3_config, auth, prefix):
    data = np.arange(10, dtype="float64")
    data[3] = np.nan
    key = Uploader(s3_client, s3_config.bucket, prefix).put("nan.bin", data.tobytes())
    for op in ("min", "max", "sum"):
        values, doc = v2_values(server, op, v2_payload(s3_config, key, "float64"), auth)
        assert np.isnan(values[0]), op
        assert doc["count"] == [10]
    values, _ = v2_values(server, "count", v2_payload(s3_config, key, "float64"), auth)
    assert values[0] == 10


def test_empty_and_all_missing(server, s3_client, s3_config, auth, prefix):
    data = np.full(8, 5, dtype="int32")
    key = Uploader(s3_client, s3_config.bucket, prefix).put("fives.bin", data.tobytes())
    values, doc = v2_values(server, "max", v2_payload(s3_config, key, "int32",
                                                      missing={"missing_value": 5}), auth)
    assert doc["count"] == [0]
    assert values[0] == np.iinfo("int32").min  # the fold's start value, as Reductionist
    values, doc = v2_values(server, "sum", v2_payload(s3_config, key, "int32", shape=[8],
                                                      selection=[[5, 2, 1]]), auth)
    assert values[0] == 0 and doc["count"] == [0]
    values, doc = v2_values(server, "select", v2_payload(s3_config, key, "int32", shape=[8],
                                                         selection=[[5, 2, 1]]), auth)
    assert len(values) == 0 and doc["shape"] == [0] and doc["count"] == [0]


def test_integer_sum_wraps_like_numpy(server, s3_client, s3_config, auth, prefix):
    data = np.full(1000, 100, dtype="int8")
    key = Uploader(s3_client, s3_config.bucket, prefix).put("int8.bin", data.tobytes())
    values, _ = v2_values(server, "sum", v2_payload(s3_config, key, "int8"), auth)
    assert values[0] == np.sum(data, dtype="int8")


@pytest.mark.parametrize("name", ["plain.bin", "with space.bin", "data-shape-[20, 5]-sel-[[0, 19, 2]].bin",
                                  "missing-MissingValue(value=1e+20)-x.bin", "a+b=c,d.bin",
                                  "ünïcødé/日本.bin", "100%25.bin"])
def test_object_names_reach_s3_intact(server, s3_client, s3_config, auth, prefix, name):
    data = np.arange(12, dtype="int32")
    key = prefix + "names/" + name
    s3_client.put_object(Bucket=s3_config.bucket, Key=key, Body=data.tobytes())
    # v1 names the object raw.
    status, headers, body = server.post("/v1/sum", build_payload("v1", s3_config, key, "int32"), auth)
    assert status == 200, body
    assert np.frombuffer(body, "int32")[0] == 66
    # v2 with the key unescaped in the URL (as the compliance suite sends it): '%' in the name
    # must be escaped there, since the URL is percent-decoded.
    url_key = key.replace("%", "%25")
    payload = {"interface_type": "s3", "url": f"{s3_config.endpoint}/{s3_config.bucket}/{url_key}",
               "dtype": "int32"}
    values, _ = v2_values(server, "sum", payload, auth)
    assert values[0] == 66


# ------------------------------------------------------------------------------------------------
# Anonymous access and the HTTP backend
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def public_bucket(s3_client):
    name = f"active-public-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(Bucket=name)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{name}/*"]}]}
    s3_client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return name


def test_anonymous_public_bucket_and_private_401(server, s3_client, s3_config, prefix, public_bucket):
    data = np.arange(10, dtype="int64")
    s3_client.put_object(Bucket=public_bucket, Key="pub.bin", Body=data.tobytes())
    payload = {"interface_type": "s3", "url": f"{s3_config.endpoint}/{public_bucket}/pub.bin",
               "dtype": "int64"}
    values, _ = v2_values(server, "sum", payload, None)
    assert values[0] == 45
    key = Uploader(s3_client, s3_config.bucket, prefix).put("private.bin", data.tobytes())
    status, headers, body = server.post("/v2/sum/", v2_payload(s3_config, key), None)
    assert status == 401
    assert headers["content-type"] == "application/json"
    assert "Access Denied" in body.decode()
    status, _, body = server.post("/v2/sum/", v2_payload(s3_config, key), ("nobody", "wrong-secret"))
    assert status == 401, body


class RangelessHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without Range support (200 with the whole body) and checks Basic auth."""

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/private/") and self.headers.get("Authorization") != \
                "Basic " + base64.b64encode(b"admin:admin").decode():
            self.send_response(401)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_origin(tmp_path_factory):
    root = tmp_path_factory.mktemp("origin")
    (root / "private").mkdir()
    handler = lambda *a, **k: RangelessHandler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_http_backend_matches_s3(server, s3_client, s3_config, auth, prefix, http_origin, public_bucket):
    root, origin = http_origin
    data = np.arange(60, dtype="float32").reshape(20, 3)
    stored = zlib.compress(data.tobytes())
    blob = b"x" * 42 + stored + b"y" * 10
    (root / "private" / "a b.bin").write_bytes(blob)
    key = Uploader(s3_client, s3_config.bucket, prefix).put("http.bin", stored, 42, 10)
    fields = dict(dtype="float32", offset=42, size=len(stored), shape=[20, 3],
                  selection=[[1, 20, 3], [0, 3, 2]], axis=0, compression={"id": "zlib"})
    s3 = server.post("/v2/sum/", {"interface_type": "s3",
                                  "url": f"{s3_config.endpoint}/{s3_config.bucket}/{key}", **fields}, auth)
    over_http = server.post("/v2/sum/", {"interface_type": "http",
                                         "url": f"{origin}/private/a b.bin", **fields}, ("admin", "admin"))
    assert s3[0] == 200 and over_http[0] == 200, (s3, over_http)
    assert s3[2] == over_http[2]
    values = np.frombuffer(cbor_decode(s3[2])["bytes"], "float32")
    assert np.allclose(values, data[1:20:3, 0:3:2].sum(axis=0))
    denied = server.post("/v2/sum/", {"interface_type": "http", "url": f"{origin}/private/a b.bin",
                                      **fields}, None)
    assert denied[0] == 401
    # A ranged read from an origin that honours Range (MinIO, anonymous public object).
    s3_client.put_object(Bucket=public_bucket, Key="ranged.bin", Body=blob)
    ranged = server.post("/v2/sum/", {"interface_type": "http",
                                      "url": f"{s3_config.endpoint}/{public_bucket}/ranged.bin", **fields})
    assert ranged[0] == 200 and ranged[2] == s3[2]


class NginxLikeHandler(http.server.BaseHTTPRequestHandler):
    """The compliance suite's nginx, in-process: `PUT /upload/<name>` stores `/<name>`; GET maps the
    percent-decoded path to an object and honours Range; every request needs admin:admin."""

    protocol_version = "HTTP/1.1"
    objects: Dict[str, bytes] = {}
    seen_paths: List[str] = []

    def log_message(self, *args):
        pass

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == "Basic " + base64.b64encode(b"admin:admin").decode():
            return True
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_PUT(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self._authorised():
            return
        name = urllib.parse.unquote(self.path)
        assert name.startswith("/upload/")
        self.objects[name[len("/upload"):]] = body
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # noqa: N802
        self.seen_paths.append(self.path)
        if not self._authorised():
            return
        data = self.objects.get(urllib.parse.unquote(self.path))
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end, status = 0, len(data), 200
        rng = self.headers.get("Range")
        if rng:
            first, last = rng.removeprefix("bytes=").split("-")
            start, end, status = int(first), (int(last) + 1 if last else len(data)), 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        self.wfile.write(data[start:end])


@pytest.fixture(scope="module")
def nginx_like():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NginxLikeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# Object names exactly as the compliance suite builds them (str() of Python lists and dataclasses).
SUITE_NAMES = [
    "test--operation-sum-dtype-float64--shape-[10, 5, 2]-selection-[[0, 10, 2], [0, 2, 1], [0, 3, 1]]"
    "-order-C-offset-None-size-None-trailing-None-compression-None-filters-None-missing-None"
    "-byte-order-big.bin",
    "test--operation-max-dtype-float32--shape-[10, 5, 2]-selection-None-order-C-offset-None-size-None"
    "-trailing-None-compression-None-filters-None-missing-MissingValues(values=[-1e+20, 1e+20])"
    "-byte-order-None.bin",
    "a+b=c (d), [e].bin",
]


@pytest.mark.parametrize("dtype", ["int32", "uint64", "float32", "float64"])
def test_suite_names_big_endian_http_equals_s3(server, s3_client, s3_config, auth, prefix, nginx_like, dtype):
    """Regression (compliance run, test_byte_order[big-*]): the suite uploads each object to S3 and
    to nginx and asks for both; the two answers must be byte-identical. nimbus-active re-encodes
    the unescaped name once (`,` becomes %2C, which requests leaves raw on upload), and the origin
    must find the object the client uploaded, for big-endian data too."""
    shape, selection = [10, 5, 2], [[0, 10, 2], [0, 2, 1], [0, 3, 1]]
    data = (10 * np.random.default_rng(10).random(100)).astype(dtype).reshape(shape)
    stored = data.astype(data.dtype.newbyteorder(">")).tobytes()
    creds = ("admin", "admin")
    for name in SUITE_NAMES:
        key = f"{prefix}suite-{dtype}/{name}"
        s3_client.put_object(Bucket=s3_config.bucket, Key=key, Body=stored)
        put = urllib.request.Request(f"{nginx_like}/upload/{urllib.parse.quote(name)}", data=stored,
                                     method="PUT", headers={"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()})
        urllib.request.urlopen(put, timeout=10).read()
        for op in OPS:
            fields = dict(dtype=dtype, byte_order="big", shape=shape, selection=selection, offset=None,
                          axis=None, order="C", option_shape_as_bytes=True, option_count_as_bytes=True)
            s3 = server.post(f"/v2/{op}/", {"interface_type": "s3",
                                            "url": f"{s3_config.endpoint}/{s3_config.bucket}/{key}", **fields}, auth)
            over_http = server.post(f"/v2/{op}/", {"interface_type": "http", "url": f"{nginx_like}/{name}",
                                                   **fields}, creds)
            assert s3[0] == 200, s3[2][:300]
            assert over_http[0] == 200, over_http[2][:300]
            assert s3[2] == over_http[2], f"{op} {name}: S3 and HTTP answers differ"
            check(parse_response("v2", *s3, "C", f"{op} {dtype} big"),
                  expected_result(data, op, selection, None, None), dtype, op, f"{op} {dtype} big {name}")
    # What reached the origin: one encoding of the name (no raw space, no double %25 escaping).
    for path in NginxLikeHandler.seen_paths:
        assert " " not in path and "%25" not in path, path


def test_v1_and_v2_anonymous_public_bucket(server, s3_client, s3_config, public_bucket):
    """Regression (compliance test_public_bucket, both API versions): no Authorization header means
    an unsigned request, which a bucket with an anonymous GetObject policy serves."""
    shape = [10, 5, 2]
    data = (10 * np.random.default_rng(10).random(100)).astype("int64").reshape(shape)
    name = "test--operation-sum-dtype-int64--shape-[10, 5, 2]-selection-None-public.bin"
    s3_client.put_object(Bucket=public_bucket, Key=name, Body=data.tobytes())
    v1 = server.post("/v1/sum/", {"source": s3_config.endpoint, "bucket": public_bucket, "object": name,
                                  "dtype": "int64", "shape": shape, "offset": None, "axis": None,
                                  "selection": None, "order": "C", "size": data.nbytes}, None)
    check(parse_response("v1", *v1, "C", "v1 public"), expected_result(data, "sum", None, None, None),
          "int64", "sum", "v1 public")
    v2 = server.post("/v2/sum/", {"interface_type": "s3", "url": f"{s3_config.endpoint}/{public_bucket}/{name}",
                                  "dtype": "int64", "shape": shape, "size": data.nbytes,
                                  "option_shape_as_bytes": True, "option_count_as_bytes": True}, None)
    check(parse_response("v2", *v2, "C", "v2 public"), expected_result(data, "sum", None, None, None),
          "int64", "sum", "v2 public")


def test_v1_count_header_scalar_switch(server, active_binary, s3_client, s3_config, auth, prefix):
    """--v1-count-header scalar: the 0.2-0.10 form ("42") for v1 clients of that era; results with
    several counts (axis reductions, which those versions lacked) keep the list; v2 is unaffected."""
    data = np.arange(20, dtype="int32")
    key = Uploader(s3_client, s3_config.bucket, prefix).put("count-header.bin", data.tobytes())
    srv = ActiveServer(active_binary, "--v1-count-header", "scalar")
    try:
        payload = build_payload("v1", s3_config, key, "int32", missing={"valid_max": 14})
        for op in OPS:
            status, headers, body = srv.post(f"/v1/{op}/", payload, auth)
            assert status == 200, body
            assert headers["x-activestorage-count"] == "15", op
        status, headers, _ = srv.post("/v1/sum/", build_payload("v1", s3_config, key, "int32", shape=[4, 5],
                                                                 axis=1), auth)
        assert status == 200 and headers["x-activestorage-count"] == "[5,5,5,5]"
        _, doc = v2_values(srv, "sum", v2_payload(s3_config, key, "int32"), auth)
        assert doc["count"] == [20]
    finally:
        assert srv.stop() == 0
    # The default is 0.11's list form.
    status, headers, body = server.post("/v1/count/", payload, auth)
    assert status == 200 and headers["x-activestorage-count"] == "[15]", body


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_float32_missing_values_are_converted_to_float32(server, s3_client, s3_config, auth, prefix, api):
    """Regression (compliance test_missing_data[MissingValues-*-float32]): holes hold float32(1e20)
    (1.00000002e20), the request says missing_values [-1e20, 1e20] in JSON (float64); the server
    converts each value to float32 before comparing, so every hole is missing. (NumPy 1.26, which the
    suite pins, masks them too; NumPy 2 compares in float64 and would not.)"""
    shape = [10, 5, 2]
    data = (10 * np.random.default_rng(10).random(100)).astype("float32").reshape(shape)
    holes = np.random.default_rng(11).random(shape) < 0.2
    data[holes & (np.arange(100).reshape(shape) % 2 == 0)] = np.float32(1e20)
    data[holes & (np.arange(100).reshape(shape) % 2 == 1)] = np.float32(-1e20)
    assert holes.sum() > 5
    key = Uploader(s3_client, s3_config.bucket, prefix).put(f"f32-1e20-{api}.bin", data.tobytes())
    missing = {"missing_values": [-1e20, 1e20]}
    for op in OPS:
        payload = build_payload(api, s3_config, key, "float32", shape=shape, missing=missing)
        values, counts, _, _ = parse_response(api, *server.post(f"/{api}/{op}/", payload, auth), "C", op)
        assert counts == [100 - int(holes.sum())], op
        valid = data[~holes]
        if op == "sum":
            assert np.isclose(values[0], valid.sum(dtype="float64"), rtol=1e-6)
        elif op in ("min", "max"):
            assert values[0] == getattr(valid, op)()
    # ... and a float64 JSON value that overflows float32 is refused, naming `missing`.
    for bad in (np.finfo("float32").max.astype("float64") * 2, -np.finfo("float32").max.astype("float64") * 2):
        expect_error(server.post(f"/{api}/sum/", build_payload(api, s3_config, key, "float32",
                                                               missing={"valid_max": float(bad)}), auth),
                     {400}, "missing")


# ------------------------------------------------------------------------------------------------
# Errors (the compliance suite's error tests and more)
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def error_key(s3_client, s3_config, prefix):
    # Deliberately not [10] int64: validation must come before the download.
    return Uploader(s3_client, s3_config.bucket, prefix).put("error-base.bin", b"\x01" * 13)


def expect_error(resp, statuses, *words):
    status, headers, body = resp
    assert status in statuses, (status, body)
    assert headers["content-type"] == "application/json"
    doc = json.loads(body)
    text = body.decode()
    assert "message" in doc["error"]
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    return doc


INVALID_MISSING = [
    ("int64", "string"), ("int64", {"invalid_missing": 42}),
    ("int32", {"missing_value": -2**31 - 1}), ("int32", {"missing_value": 2**31}),
    ("int32", {"missing_value": -1.0}),
    ("int64", {"missing_value": -2**63 - 1}), ("int64", {"missing_value": 2**63}),
    ("int64", {"missing_value": -1.0}),
    ("uint32", {"missing_values": [-1]}), ("uint32", {"missing_values": [2**32]}),
    ("uint32", {"valid_min": 1.0}), ("uint64", {"valid_min": [2**64]}),
    ("uint64", {"valid_min": 1.0}),
    ("float32", {"valid_max": 2 * 3.4028235e38}), ("float32", {"valid_max": -2 * 3.4028235e38}),
    ("float32", {"valid_range": [1.0, 0.0]}), ("float64", {"valid_range": [1.0, 1.0]}),
]


def test_errors(server, s3_config, auth, error_key):
    base = dict(interface_type="s3", url=f"{s3_config.endpoint}/{s3_config.bucket}/{error_key}",
                dtype="int64", offset=0, shape=[10], selection=[[0, 5, 2]])

    def post(op="sum", creds=auth, **changes):
        payload = {**base, **changes}
        payload = {k: v for k, v in payload.items() if v is not None}
        return server.post(f"/v2/{op}/", payload, creds)

    doc = expect_error(post(url=f"{s3_config.endpoint}/{s3_config.bucket}/{uuid.uuid4()}"), {400}, "NoSuchKey")
    assert doc["error"]["message"] == "error retrieving object from S3 storage"
    expect_error(post(op="this-op-is-not-implemented"), {404}, "operation")
    expect_error(post(dtype="fake-dtype-64"), {400}, "dtype")
    expect_error(post(offset=-1), {400}, "offset")
    expect_error(post(size=-123), {400}, "size")
    expect_error(post(shape=[0]), {400}, "shape")
    expect_error(post(shape=[10], selection=[[10, 100, 1000], [2, 3, 4]]), {400}, "selection")
    expect_error(post(shape=None, selection=[[10, 1, 0]]), {400}, "shape", "selection")
    expect_error(post(order="nonexistent-ordering"), {400}, "order")
    expect_error(post(byte_order="middle"), {400}, "byte_order")
    for dtype, missing in INVALID_MISSING:
        expect_error(post(dtype=dtype, missing=missing), {400}, "missing")
    expect_error(post(creds=None), {401}, "Access Denied")
    expect_error(post(surprise=1), {400}, "surprise")
    expect_error(post(axis=1), {400}, "axis")
    expect_error(post(compression={"id": "lzma"}), {400}, "compression")
    expect_error(post(interface_type="ftp"), {400}, "interface")
    expect_error(post(url="no-scheme/bucket/key"), {400}, "url")
    expect_error(post(url=f"{s3_config.endpoint}/only-bucket"), {400}, "bucket/object")
    # Undecodable data: the object is not zlib.
    expect_error(post(shape=None, selection=None, compression={"id": "zlib"}), {400}, "decompress")
    # blosc2 is valid API but has no decompressor on Debian 12 (docs/active.md): a clear 400.
    doc = expect_error(post(shape=None, selection=None, compression={"id": "blosc2"}), {400},
                       "failed to decompress data", "blosc2", "libblosc2")
    assert doc["error"]["message"] == "failed to decompress data"
    # Decoded size does not match the shape (13 bytes are not [10] int64).
    expect_error(post(selection=None), {400}, "shape")
    # Nulls are accepted for every optional field (no error from validation; the data mismatch is
    # the only problem left).
    expect_error(post(offset=None, size=None, axis=None, order=None, missing=None, selection=None,
                      shape=None, byte_order=None, compression=None, filters=None), {400}, "failed to create array")
    # Content type and JSON syntax.
    expect_error(server.post("/v2/sum/", base, auth, content_type="text/plain"), {400}, "Content-Type")
    expect_error(server.request("POST", "/v2/sum", b"{not json", {"Content-Type": "application/json"}),
                 {400}, "JSON")
    # Unreachable upstream: 5xx with a message.
    expect_error(post(url="http://127.0.0.1:9/b/k"), {500}, "error")
    # v1 errors use the same format.
    expect_error(server.post("/v1/sum/", {"source": "http://x", "bucket": "", "object": "o",
                                          "dtype": "int32"}, auth), {400}, "bucket")
    expect_error(server.post("/v1/mean/", {}, auth), {404}, "operation")
    status, _, _ = server.request("GET", "/v2/sum")
    assert status == 405
    status, _, body = server.request("GET", "/nonexistent")
    assert status == 404


# ------------------------------------------------------------------------------------------------
# Service endpoints
# ------------------------------------------------------------------------------------------------
def test_service_endpoints(server):
    status, headers, body = server.request("GET", "/healthz")
    assert status == 200 and body == b"ok\n"
    status, headers, body = server.request("GET", "/.well-known/reductionist-schema")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    status, headers, body = server.request("GET", "/openapi.json")
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.")
    for version in ("v1", "v2"):
        for op in OPS:
            assert "post" in doc["paths"][f"/{version}/{op}"]
    assert "source" in doc["components"]["schemas"]["RequestV1"]["properties"]
    assert "interface_type" in doc["components"]["schemas"]["RequestV2"]["properties"]
    for path in ("/redoc/", "/redoc"):
        status, headers, body = server.request("GET", path)
        assert status == 200 and headers["content-type"].startswith("text/html")
        html = body.decode()
        assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
        for version in ("v1", "v2"):
            for op in OPS:
                assert f'id="operation-{version}_{op}"' in html
                assert f"/{version}/{op}" in html
    status, headers, body = server.request("GET", "/metrics")
    text = body.decode()
    assert status == 200
    for name in ("nimbus_active_requests_total", "nimbus_active_responses_total",
                 "nimbus_active_request_duration_seconds_bucket", "nimbus_active_bytes_fetched_total",
                 "nimbus_active_bytes_returned_total", "nimbus_active_requests_in_flight"):
        assert name in text, name


def metric(server, name: str) -> float:
    _, _, body = server.request("GET", "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_and_bytes(server, s3_client, s3_config, auth, prefix):
    data = np.arange(1000, dtype="int64")
    key = Uploader(s3_client, s3_config.bucket, prefix).put("metrics.bin", data.tobytes())
    before_fetched = metric(server, "nimbus_active_bytes_fetched_total")
    before_returned = metric(server, "nimbus_active_bytes_returned_total")
    before_requests = metric(server, "nimbus_active_requests_total")
    v2_values(server, "select", v2_payload(s3_config, key, shape=[1000], selection=[[0, 100, 1]]), auth)
    assert metric(server, "nimbus_active_bytes_fetched_total") - before_fetched == 8000
    assert metric(server, "nimbus_active_bytes_returned_total") - before_returned == 800
    assert metric(server, "nimbus_active_requests_total") - before_requests == 1


# ------------------------------------------------------------------------------------------------
# Limits, TLS, shutdown, load
# ------------------------------------------------------------------------------------------------
def test_memory_limit(active_binary, s3_client, s3_config, auth, prefix):
    data = np.arange(512 * 1024, dtype="int64")  # 4 MiB
    key = Uploader(s3_client, s3_config.bucket, prefix).put("4mib.bin", data.tobytes())
    srv = ActiveServer(active_binary, "--memory-limit", "6M", "--memory-wait-ms", "0", "--workers", "1")
    try:
        # Never fits: refused before the download.
        expect_error(srv.post("/v2/select/", v2_payload(s3_config, key, shape=[len(data)]), auth),
                     {400}, "Insufficient memory")
        # Fits alone; concurrent ones beyond the budget get 503 (or wait their turn).
        statuses = []

        def one(_):
            status, headers, body = srv.post("/v2/sum/", v2_payload(s3_config, key, shape=[len(data)]), auth)
            if status == 200:
                assert np.frombuffer(cbor_decode(body)["bytes"], "int64")[0] == data.sum()
            else:
                assert status == 503 and "memory" in body.decode(), body
                assert headers.get("retry-after")
            return status

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(32)))
        assert 200 in statuses
        assert set(statuses) <= {200, 503}
    finally:
        assert srv.stop() == 0


def test_tls(active_binary, tmp_path, s3_client, s3_config, auth, prefix):
    cert, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key_file), "-out", str(cert)],
                   check=True, capture_output=True)
    key = Uploader(s3_client, s3_config.bucket, prefix).put("tls.bin", np.arange(5, dtype="int64").tobytes())
    srv = ActiveServer(active_binary, tls=(str(cert), str(key_file)))
    try:
        status, _, body = srv.post("/v2/sum", v2_payload(s3_config, key), auth)
        assert status == 200
        assert np.frombuffer(cbor_decode(body)["bytes"], "int64")[0] == 10
        status, _, _ = srv.request("GET", "/healthz")
        assert status == 200
    finally:
        assert srv.stop() == 0


def test_graceful_shutdown_finishes_in_flight(active_binary, s3_client, s3_config, auth, prefix):
    data = np.arange(4 * 1024 * 1024, dtype="float64")  # 32 MiB, gzip: decompression takes a while
    stored = gzip.compress(data.tobytes(), compresslevel=1)
    key = Uploader(s3_client, s3_config.bucket, prefix).put("big.gz", stored)
    srv = ActiveServer(active_binary, "--workers", "1")
    payload = v2_payload(s3_config, key, "float64", compression={"id": "gzip"}, shape=[len(data)])
    results = []

    def one(_):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        conn.request("POST", "/v2/sum", json.dumps(payload), {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()})
        resp = conn.getresponse()
        results.append((resp.status, resp.read()))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 10
    while metric(srv, "nimbus_active_requests_in_flight") < 1 and time.time() < deadline:
        time.sleep(0.005)
    srv.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(60)
    assert srv.proc.wait(timeout=60) == 0
    assert len(results) == 4
    for status, body in results:
        assert status == 200, body
        assert np.frombuffer(cbor_decode(body)["bytes"], "float64")[0] == data.sum()


def test_load_64_clients(active_binary, s3_client, s3_config, auth, prefix):
    """64 concurrent keep-alive clients, no errors, peak RSS bounded by the memory limit."""
    data = np.random.default_rng(3).random(128 * 1024).astype("float32")  # 512 KiB objects
    up = Uploader(s3_client, s3_config.bucket, prefix + "load/")
    keys = [up.put(f"{i}.bin", zlib.compress(data.tobytes(), 1)) for i in range(8)]
    srv = ActiveServer(active_binary, "--memory-limit", "64M", "--max-downloads", "16")
    try:
        expected = float(data.astype("float64").sum())
        errors = []
        per_client = 12

        def client(c):
            for i in range(per_client):
                payload = v2_payload(s3_config, keys[(c + i) % len(keys)], "float32",
                                     compression={"id": "zlib"}, shape=[len(data)])
                status, _, body = srv.post("/v2/sum/", payload, auth)
                if status != 200:
                    errors.append((status, body[:200]))
                    continue
                got = float(np.frombuffer(cbor_decode(body)["bytes"], "float32")[0])
                if not np.isclose(got, expected, rtol=1e-4):
                    errors.append(("value", got, expected))

        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            list(pool.map(client, range(64)))
        elapsed = time.time() - start
        assert not errors, errors[:5]
        rss = srv.rss_peak_bytes()
        assert rss < 64 * 2**20 + 96 * 2**20, f"peak RSS {rss / 2**20:.0f} MiB"
        print(f"load: {64 * per_client} requests in {elapsed:.2f} s, peak RSS {rss / 2**20:.0f} MiB")
    finally:
        assert srv.stop() == 0
