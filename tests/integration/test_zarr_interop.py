"""Interop between nimbus (nimbus.zarr over the C++ engine) and zarr-python 3, in both directions.

The matrix: data type x codec chain x unsharded/sharded x direction. Every case writes two regions
of a (10, 9) array with (4, 3) chunks, one from a C-ordered and one from an F-ordered array, and
leaves other chunks unwritten so that they read as the fill value. The other library then reads the
array whole and as a strided slice (nimbus in C and in F order) and the values must equal numpy's
(NaN-aware). Arrays nimbus creates must have exactly the zarr.json zarr-python writes for the same
parameters, and open in zarr-python without warnings.

The file store runs the full cross product; MinIO a diagonal. zarr-python reaches MinIO through
obstore when it is installed, otherwise through a local copy of the objects made with boto3.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import zarr
import zarr.storage
from zarr.errors import UnstableSpecificationWarning

try:  # optional: lets zarr-python talk to MinIO directly
    import obstore.store as obstore_store
except ImportError:
    obstore_store = None

SHAPE = (10, 9)
CHUNKS = (4, 3)  # a 3 x 3 chunk grid
SHARDS = (8, 6)  # a 2 x 2 shard grid of 2 x 2 inner chunks
C_REGION = (slice(1, 6), slice(1, 5))  # written from a C-ordered array
F_REGION = (slice(8, 10), slice(6, 9))  # written from an F-ordered array
STRIDED = (slice(1, 10, 2), slice(0, 9, 3))
# The objects the two writes create; every other chunk or shard must stay absent.
WRITTEN_CHUNKS = ["c/0/0", "c/0/1", "c/1/0", "c/1/1", "c/2/2"]
WRITTEN_SHARDS = ["c/0/0", "c/1/1"]

# Every supported data type, with a fill value that is not the type's zero.
FILL_VALUES = {
    "bool": True,
    "int8": -7,
    "int16": -300,
    "int32": -70000,
    "int64": -(2**40),
    "uint8": 7,
    "uint16": 300,
    "uint32": 70000,
    "uint64": 2**64 - 2,
    "float16": np.nan,
    "float32": np.inf,
    "float64": np.nan,
    "complex64": complex(1.5, -2),
    "complex128": complex(np.inf, -1),
    "S7": b"fill",
    "U5": "f\u00efll",
    "V3": b"\x01\x02\x03",
    "datetime64[s]": np.datetime64("2001-02-03T04:05:06", "s"),
    "str": "\u2205",
}

CODECS = {
    "none": [],
    "gzip": [{"name": "gzip", "configuration": {"level": 1}}],
    "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
    "blosc": [{"name": "blosc",
               "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}],
    "crc32c": [{"name": "crc32c"}],
}

# zarr-python 3.1.6 itself fails partial reads and writes of sharded raw-bytes arrays (it hashes
# the fill value, a numpy void scalar); strict, so a fixed zarr-python shows up here. Only a
# TypeError counts: nimbus's own checks in these cases run first and must pass.
ZARR_PYTHON_VOID_SHARD_BUG = pytest.mark.xfail(
    raises=TypeError, strict=True,
    reason="zarr-python 3.1.6: partial reads/writes of sharded V<n> arrays raise "
           "'unhashable type: writeable void-scalar'")


def dtype_arg(name: str):
    """What both libraries take as the dtype (str: variable-length UTF-8)."""
    return str if name == "str" else np.dtype(name)


def numpy_dtype(name: str) -> np.dtype:
    return np.dtype(object) if name == "str" else np.dtype(name)


def sample_values(name: str) -> np.ndarray:
    """SHAPE values of the type, none equal to the fill value; NaN, inf, NaT, non-ASCII mixed in."""
    rng = np.random.default_rng(sum(map(ord, name)))
    n = SHAPE[0] * SHAPE[1]
    special = [10, 11, 20, 30, 40]  # flat positions inside C_REGION
    if name == "bool":
        rows, cols = np.indices(SHAPE)
        return (rows + cols) % 2 == 1  # every written chunk gets a False (the fill is True)
    if name == "str":
        pool = ["", "a", "\u00fcn\u00efc\u00f6d\u00e9", "x" * 100, "\U0001f600", "a\x00b", "t\tn\n"]
        picks = rng.integers(0, len(pool), n)
        return np.array([pool[i] for i in picks], dtype=object).reshape(SHAPE)
    if name == "S7":
        words = [bytes(rng.integers(1, 256, rng.integers(1, 8)).astype(np.uint8)) for _ in range(n)]
        return np.array(words, dtype="S7").reshape(SHAPE)
    if name == "U5":
        pool = ["", "a", "h\u00e9llo", "\u00fc\U0001f600z", "\u03c9\u03bc\u03ad\u03b3", "12345"]
        return np.array([pool[i] for i in rng.integers(0, len(pool), n)], dtype="U5").reshape(SHAPE)
    if name == "V3":
        return rng.integers(0, 256, (n, 3), dtype=np.uint8).view("V3").reshape(SHAPE)
    dt = np.dtype(name)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        values = rng.integers(info.min, info.max, SHAPE, dtype=dt, endpoint=True)
        values[values == FILL_VALUES[name]] += 1
        return values
    if dt.kind == "f":
        values = (rng.standard_normal(SHAPE) * 1000).astype(dt)
        values.flat[special[:4]] = [np.nan, np.inf, -np.inf, -0.0]
        return values
    if dt.kind == "c":
        values = (rng.standard_normal(SHAPE) + 1j * rng.standard_normal(SHAPE)).astype(dt)
        values.flat[special[:2]] = [complex(np.nan, 1), complex(-np.inf, 0)]
        return values
    if dt.kind == "M":
        values = rng.integers(-(2**40), 2**40, SHAPE).astype(dt)
        values.flat[special[0]] = np.datetime64("NaT")
        return values
    raise AssertionError(f"no sample values for {name}")


def expected_after_writes(name: str, src: np.ndarray) -> np.ndarray:
    ref = np.full(SHAPE, FILL_VALUES[name], dtype=numpy_dtype(name))
    ref[C_REGION] = src[C_REGION]
    ref[F_REGION] = src[F_REGION]
    return ref


def assert_same(actual, expected: np.ndarray) -> None:
    """Equal shape, dtype and values; NaN and NaT equal themselves; strings compare as str."""
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    if expected.dtype == object:
        assert actual.dtype.kind in "OT", actual.dtype
        assert actual.astype(object).tolist() == expected.tolist()
        return
    assert actual.dtype == expected.dtype
    if expected.dtype.kind == "V":
        assert np.ascontiguousarray(actual).tobytes() == np.ascontiguousarray(expected).tobytes()
    else:
        np.testing.assert_array_equal(actual, expected)


def zarr_read(store, path: str):
    """zarr-python opens and reads the array; any warning but its own note on unstable data types
    (which it attaches to S/U/V arrays it wrote itself) fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = zarr.open_array(store, path=path, mode="r")
        whole = z[...]
        strided = z[STRIDED]
    unexpected = [f"{w.category.__name__}: {w.message}" for w in caught
                  if not issubclass(w.category, (UnstableSpecificationWarning, ResourceWarning))]
    assert not unexpected
    return z, whole, strided


def zarr_create(store, name: str, dtype_name: str, codec: str, shards):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        return zarr.create_array(store, name=name, shape=SHAPE, chunks=CHUNKS, shards=shards,
                                 dtype=dtype_arg(dtype_name), fill_value=FILL_VALUES[dtype_name],
                                 compressors=CODECS[codec] or None)


# --------------------------------------------------------------------------------------------
# Where the arrays live
# --------------------------------------------------------------------------------------------
class FileBackend:
    """A directory: nimbus opens it by path, zarr-python as a LocalStore."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.url = str(root)
        self.settings: Dict[str, str] = {}

    def keys(self, path: str) -> List[str]:
        base = self.root / path
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def zarr_store(self):
        return zarr.storage.LocalStore(self.root)

    def after_zarr_write(self) -> None:
        pass

    def before_zarr_read(self) -> None:
        pass


class MinioBackend:
    """A prefix in the test bucket: nimbus opens s3://; zarr-python uses obstore when installed,
    otherwise a scratch directory mirrored to and from the bucket with boto3."""

    def __init__(self, client, config, prefix: str, scratch: Path):
        self.client = client
        self.config = config
        self.prefix = prefix.strip("/")
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.url = f"s3://{config.bucket}/{self.prefix}"
        self.settings = {"endpoint": config.endpoint, "region": config.region,
                         "access_key_id": config.access_key, "secret_access_key": config.secret_key}

    def _objects(self, prefix: str) -> List[str]:
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.config.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def keys(self, path: str) -> List[str]:
        base = f"{self.prefix}/{path}/"
        return sorted(k[len(base):] for k in self._objects(base))

    def read(self, key: str) -> bytes:
        got = self.client.get_object(Bucket=self.config.bucket, Key=f"{self.prefix}/{key}")
        return got["Body"].read()

    def zarr_store(self):
        if obstore_store is not None:
            s3 = obstore_store.S3Store(
                self.config.bucket, prefix=self.prefix, endpoint=self.config.endpoint,
                region=self.config.region, access_key_id=self.config.access_key,
                secret_access_key=self.config.secret_key, client_options={"allow_http": True})
            return zarr.storage.ObjectStore(s3)
        return zarr.storage.LocalStore(self.scratch)

    def after_zarr_write(self) -> None:
        if obstore_store is not None:
            return
        for path in self.scratch.rglob("*"):
            if path.is_file():
                key = f"{self.prefix}/{path.relative_to(self.scratch).as_posix()}"
                self.client.upload_file(str(path), self.config.bucket, key)

    def before_zarr_read(self) -> None:
        if obstore_store is not None:
            return
        shutil.rmtree(self.scratch)
        self.scratch.mkdir()
        for key in self._objects(self.prefix + "/"):
            target = self.scratch / key[len(self.prefix) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.config.bucket, key, str(target))


@pytest.fixture
def file_backend(tmp_path) -> FileBackend:
    return FileBackend(tmp_path / "store")


@pytest.fixture
def minio_backend(s3_client, s3_config, unique_prefix, tmp_path) -> MinioBackend:
    return MinioBackend(s3_client, s3_config, unique_prefix, tmp_path / "mirror")


# --------------------------------------------------------------------------------------------
# The two directions
# --------------------------------------------------------------------------------------------
def nimbus_writes_zarr_reads(nz, backend, tmp_path: Path, dtype_name: str, codec: str,
                             layout: str) -> None:
    shards = SHARDS if layout == "sharded" else None
    src = sample_values(dtype_name)
    ref = expected_after_writes(dtype_name, src)

    a = nz.create_array(backend.url, "arr", shape=SHAPE, chunks=CHUNKS, shards=shards,
                        dtype=dtype_arg(dtype_name), fill_value=FILL_VALUES[dtype_name],
                        compressors=CODECS[codec], **backend.settings)
    a[C_REGION] = np.ascontiguousarray(src[C_REGION])
    a[F_REGION] = np.asfortranarray(src[F_REGION])

    # Only the written chunks (or shards) exist; the rest are left to the fill value.
    written = WRITTEN_SHARDS if shards else WRITTEN_CHUNKS
    assert backend.keys("arr") == sorted(["zarr.json", *written])
    stored = sum(len(backend.read(f"arr/{k}")) for k in backend.keys("arr") if k != "zarr.json")
    assert a.stats()["bytes_written"] >= stored > 0

    # zarr.json is byte for byte what zarr-python writes for the same parameters.
    reference = FileBackend(tmp_path / "zarr-python-reference")
    zarr_create(reference.zarr_store(), "arr", dtype_name, codec, shards)
    assert backend.read("arr/zarr.json").decode() == reference.read("arr/zarr.json").decode()

    # nimbus reads its own writes back, in both orders.
    assert_same(a[...], ref)
    f_order = a.get_basic(STRIDED, order="F")
    assert f_order.flags.f_contiguous
    assert_same(f_order, ref[STRIDED])

    backend.before_zarr_read()
    z, whole, strided = zarr_read(backend.zarr_store(), "arr")
    assert z.shape == SHAPE and z.chunks == CHUNKS and z.shards == shards
    assert_same(whole, ref)
    assert_same(strided, ref[STRIDED])


def zarr_writes_nimbus_reads(nz, backend, dtype_name: str, codec: str, layout: str) -> None:
    shards = SHARDS if layout == "sharded" else None
    src = sample_values(dtype_name)
    ref = expected_after_writes(dtype_name, src)

    z = zarr_create(backend.zarr_store(), "arr", dtype_name, codec, shards)
    z[C_REGION] = src[C_REGION]
    z[F_REGION] = np.asfortranarray(src[F_REGION])
    backend.after_zarr_write()

    a = nz.open_array(backend.url, "arr", **backend.settings)
    assert a.shape == SHAPE and a.chunks == CHUNKS and a.shards == shards
    assert a.dtype == numpy_dtype(dtype_name)
    assert_same(a[...], ref)
    c_order = a.get_basic(STRIDED, order="C")
    f_order = a.get_basic(STRIDED, order="F")
    assert c_order.flags.c_contiguous and f_order.flags.f_contiguous
    assert_same(c_order, ref[STRIDED])
    assert_same(f_order, ref[STRIDED])
    rows = [7, 1, 1, 4]  # unsorted, repeated
    assert_same(a.get_orthogonal((rows, slice(None, None, 2))), ref[np.ix_(rows, range(0, 9, 2))])
    points = np.array([[1, 1], [9, 8], [0, 0], [5, 4], [-1, -2]])
    assert_same(a.get_points(points), ref[points[:, 0], points[:, 1]])

    # nimbus updates zarr-python's chunks (read-modify-write) and fills an unwritten one.
    a[0:3, 4:9] = src[0:3, 4:9]
    ref[0:3, 4:9] = src[0:3, 4:9]
    backend.before_zarr_read()
    _, whole, _ = zarr_read(backend.zarr_store(), "arr")
    assert_same(whole, ref)


def matrix(dtypes, codecs, layouts):
    def marks(d, layout):
        return [ZARR_PYTHON_VOID_SHARD_BUG] if (d, layout) == ("V3", "sharded") else []

    return [pytest.param(d, c, layout, id=f"{d}-{c}-{layout}", marks=marks(d, layout))
            for d in dtypes for c in codecs for layout in layouts]


FULL = (list(FILL_VALUES), list(CODECS), ["plain", "sharded"])


@pytest.mark.parametrize("dtype_name,codec,layout", matrix(*FULL))
def test_nimbus_to_zarr_file(nimbus_zarr, file_backend, tmp_path, dtype_name, codec, layout):
    nimbus_writes_zarr_reads(nimbus_zarr, file_backend, tmp_path, dtype_name, codec, layout)


@pytest.mark.parametrize("dtype_name,codec,layout", matrix(*FULL))
def test_zarr_to_nimbus_file(nimbus_zarr, file_backend, dtype_name, codec, layout):
    zarr_writes_nimbus_reads(nimbus_zarr, file_backend, dtype_name, codec, layout)


@pytest.mark.s3
@pytest.mark.parametrize("dtype_name,codec,layout", matrix(*FULL))
def test_nimbus_to_zarr_minio(nimbus_zarr, minio_backend, tmp_path, dtype_name, codec, layout):
    nimbus_writes_zarr_reads(nimbus_zarr, minio_backend, tmp_path, dtype_name, codec, layout)


@pytest.mark.s3
@pytest.mark.parametrize("dtype_name,codec,layout", matrix(*FULL))
def test_zarr_to_nimbus_minio(nimbus_zarr, minio_backend, dtype_name, codec, layout):
    zarr_writes_nimbus_reads(nimbus_zarr, minio_backend, dtype_name, codec, layout)


# --------------------------------------------------------------------------------------------
# TensorStore reads what nimbus writes (the numeric types its zarr3 driver supports)

TENSORSTORE_DTYPES = ["bool", "int8", "uint16", "int32", "uint64", "float16", "float32",
                      "float64", "complex64", "complex128"]


@pytest.mark.parametrize("layout", ["plain", "sharded"])
@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("dtype_name", TENSORSTORE_DTYPES)
def test_tensorstore_reads_nimbus(nimbus_zarr, tmp_path, dtype_name, codec, layout):
    ts = pytest.importorskip("tensorstore")
    root = tmp_path / "store"
    root.mkdir()
    nz = nimbus_zarr
    src = sample_values(dtype_name)
    shards = SHARDS if layout == "sharded" else None
    a = nz.create_array(str(root), "arr", shape=SHAPE, chunks=CHUNKS, shards=shards,
                        dtype=dtype_arg(dtype_name), fill_value=FILL_VALUES[dtype_name],
                        compressors=CODECS[codec])
    a[0:3, 4:9] = src[0:3, 4:9]  # a partial write: unwritten chunks must read as fill
    ref = np.full(SHAPE, FILL_VALUES[dtype_name], dtype=numpy_dtype(dtype_name))
    ref[0:3, 4:9] = src[0:3, 4:9]
    t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root / "arr")}},
                open=True).result()
    assert tuple(t.shape) == SHAPE
    assert_same(t.read().result(), ref)
    assert_same(t[1:5:2, ::3].read().result(), ref[1:5:2, ::3])


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
def test_missing_array_file(nimbus_zarr, file_backend):
    with pytest.raises(FileNotFoundError, match=r"no Zarr array at .*/store/no/such/array"):
        nimbus_zarr.open_array(file_backend.url, "no/such/array")


@pytest.mark.s3
def test_missing_array_minio(nimbus_zarr, minio_backend):
    with pytest.raises(FileNotFoundError) as info:
        nimbus_zarr.open_array(minio_backend.url, "no/such/array", **minio_backend.settings)
    assert f"{minio_backend.url}/no/such/array" in str(info.value)


@pytest.mark.s3
def test_wrong_secret_raises_permission_error(nimbus_zarr, minio_backend):
    settings = dict(minio_backend.settings, secret_access_key="not-the-secret")
    with pytest.raises(PermissionError, match="403"):
        nimbus_zarr.open_array(minio_backend.url, "arr", **settings)


def test_out_of_bounds_writes_raise_and_store_nothing(nimbus_zarr, file_backend):
    a = nimbus_zarr.create_array(file_backend.url, "arr", shape=SHAPE, chunks=CHUNKS, dtype="int32")
    with pytest.raises(IndexError, match="index 10 is out of bounds for axis 0 with size 10"):
        a[10, 0] = 1
    with pytest.raises(IndexError, match="index -10 is out of bounds for axis 1 with size 9"):
        a[0, -10] = 1
    with pytest.raises(ValueError, match="broadcast"):
        a[0:11] = np.ones((11, 9), dtype="int32")  # the slice clips to 10 rows, as in numpy
    with pytest.raises(IndexError, match="point 1: index 9 is out of bounds for axis 1 with size"):
        a.set_points([[0, 0], [2, 9]], [5, 6])
    with pytest.raises(IndexError, match="index 12 is out of bounds for axis 0"):
        a.get_orthogonal(([1, 12], slice(None)))
    with pytest.raises(IndexError, match="positive step"):
        a[::-1] = 0
    with pytest.raises(IndexError, match="too many indices"):
        a[0, 0, 0] = 0
    assert file_backend.keys("arr") == ["zarr.json"]
    assert (a[...] == 0).all()


@pytest.mark.parametrize("dtype", ["int32", str], ids=["int32", "str"])
def test_default_codecs_are_zarr_pythons(nimbus_zarr, file_backend, dtype):
    nimbus_zarr.create_array(file_backend.url, "nimbus", shape=(20, 30), chunks=(10, 10),
                             dtype=dtype)
    zarr.create_array(file_backend.zarr_store(), name="zarr", shape=(20, 30), chunks=(10, 10),
                      dtype=dtype)
    assert file_backend.read("nimbus/zarr.json") == file_backend.read("zarr/zarr.json")


def test_create_modes(nimbus_zarr, file_backend):
    nz = nimbus_zarr
    a = nz.create_array(file_backend.url, "arr", shape=(4,), chunks=(2,), dtype="uint8")
    a[...] = [1, 2, 3, 4]
    with pytest.raises(FileExistsError, match="already exists"):
        nz.create_array(file_backend.url, "arr", shape=(4,), chunks=(2,), dtype="uint8")
    b = nz.create_array(file_backend.url, "arr", shape=(3,), chunks=(3,), dtype="float32", mode="w")
    assert file_backend.keys("arr") == ["zarr.json"]  # the old chunks went with the old array
    assert b.shape == (3,)
    assert zarr.open_array(file_backend.zarr_store(), path="arr")[...].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="mode"):
        nz.create_array(file_backend.url, "arr", shape=(3,), chunks=(3,), dtype="float32", mode="a")


# --------------------------------------------------------------------------------------------
# Groups, attributes, resize, strided and point writes
# --------------------------------------------------------------------------------------------
def test_groups_attributes_and_dimension_names(nimbus_zarr, file_backend):
    nz = nimbus_zarr
    nz.create_group(file_backend.url, "", {"title": "root"})
    nz.create_group(file_backend.url, "grp", {"n": 1})
    a = nz.create_array(file_backend.url, "grp/temp", shape=(2, 3), dtype="float32",
                        dimension_names=["y", None], attributes={"units": "K", "scale": [1.5, 2]})
    a[...] = [[1, 2, 3], [4, 5, 6]]

    root = zarr.open_group(file_backend.zarr_store(), mode="r")
    assert dict(root.attrs) == {"title": "root"}
    assert [name for name, _ in root.members()] == ["grp"]
    z = root["grp/temp"]
    assert dict(z.attrs) == {"units": "K", "scale": [1.5, 2]}
    assert z.metadata.dimension_names == ("y", None)
    assert np.array_equal(z[...], [[1, 2, 3], [4, 5, 6]])

    # zarr-python adds an array and changes attributes; nimbus sees both.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zg = zarr.open_group(file_backend.zarr_store(), path="grp", mode="r+")
        zg.create_array("other", shape=(1,), dtype="int8")
        zg["temp"].attrs["units"] = "degC"
    assert nz.list_children(file_backend.url, "grp") == ["other", "temp"]
    assert nz.list_children(file_backend.url) == ["grp"]
    node = nz.read_node(file_backend.url, "grp")
    assert node["node_type"] == "group" and node["attributes"] == {"n": 1}
    assert nz.read_node(file_backend.url, "grp/other")["data_type"] == "int8"
    b = nz.open_array(file_backend.url, "grp/temp")
    assert b.attrs == {"units": "degC", "scale": [1.5, 2]}
    b.attrs = {"units": "mK"}
    z = zarr.open_array(file_backend.zarr_store(), path="grp/temp")
    assert dict(z.attrs) == {"units": "mK"}
    assert b.metadata["dimension_names"] == ["y", None]


def test_resize_shows_fill_where_it_regrows(nimbus_zarr, file_backend):
    a = nimbus_zarr.create_array(file_backend.url, "arr", shape=(6, 6), chunks=(4, 4),
                                 dtype="int16", fill_value=-1)
    a[...] = np.arange(36, dtype="int16").reshape(6, 6)
    a.resize((3, 6))
    assert file_backend.keys("arr") == ["c/0/0", "c/0/1", "zarr.json"]  # chunk row 1 left the array
    a.resize((6, 7))
    expected = np.full((6, 7), -1, dtype="int16")
    expected[:3, :6] = np.arange(18).reshape(3, 6)
    z = zarr.open_array(file_backend.zarr_store(), path="arr", mode="r")
    assert z.shape == (6, 7)
    assert np.array_equal(z[...], expected)
    assert np.array_equal(a[...], expected)


def test_strided_point_and_scalar_writes(nimbus_zarr, file_backend):
    nz = nimbus_zarr
    a = nz.create_array(file_backend.url, "arr", shape=SHAPE, chunks=CHUNKS, dtype="float64",
                        fill_value=0.5)
    expected = np.full(SHAPE, 0.5)
    values = np.arange(3 * 5, dtype="float64").reshape(3, 5)
    a[1:10:3, ::2] = np.asfortranarray(values)
    expected[1:10:3, ::2] = values
    a[..., 7] = 9.0  # a scalar broadcast over a column
    expected[..., 7] = 9.0
    a[2] = np.arange(9)  # an integer index drops the dimension; ints convert to float64
    expected[2] = np.arange(9)
    a.set_points([[0, 0], [9, 8], [-1, 0]], [-1.0, -2.0, -3.0])
    expected[[0, 9, -1], [0, 8, 0]] = [-1.0, -2.0, -3.0]
    z = zarr.open_array(file_backend.zarr_store(), path="arr", mode="r")
    assert np.array_equal(z[...], expected)
    assert a[9, 8] == -2.0 and np.ndim(a[9, 8]) == 0
    assert a[3:1].shape == (0, 9)
    mask = np.zeros(9, dtype=bool)
    mask[[1, 5]] = True
    assert np.array_equal(a.get_orthogonal((slice(None), mask)), expected[:, mask])
    assert np.array_equal(np.asarray(a), expected)

    t = nz.create_array(file_backend.url, "text", shape=(3, 2), chunks=(2, 2), dtype=str)
    t[1:, :] = "\u00e9t\u00e9"  # a str broadcast over a block
    t[0] = ["a", "b"]
    assert zarr.open_array(file_backend.zarr_store(), path="text", mode="r")[...].tolist() == [
        ["a", "b"], ["\u00e9t\u00e9"] * 2, ["\u00e9t\u00e9"] * 2]

    s = nz.create_array(file_backend.url, "scalar", shape=(), dtype="complex128")
    s[()] = 1 - 2j
    assert s[()] == 1 - 2j and s[...].shape == ()
    assert zarr.open_array(file_backend.zarr_store(), path="scalar", mode="r")[()] == 1 - 2j
