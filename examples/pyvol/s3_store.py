"""An object-store HDF5 connector in pure Python: boto3 to any S3 service (MinIO, AWS, ...).

Layout under s3://$PYVOL_S3_BUCKET/$PYVOL_S3_PREFIX<file name>/:
    <path>/.pyvol.json           one per group or dataset: kind, attributes, soft links; for datasets
                                 dtype, shape, maxshape, chunk shape, fill value
    <path>/.chunks/<i>.<j>...    dataset chunks: raw bytes in the dataset's dtype (C order), or a
                                 JSON list for variable-length strings; missing chunks read as fill
Groups are the key prefixes that hold a .pyvol.json; their children are listed with a delimiter.
Nothing is cached: every open, read and write goes to the store, so another process sees the data.

Configuration (environment): PYVOL_S3_BUCKET (required), PYVOL_S3_PREFIX (default ""), and
boto3's usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, with the endpoint from
PYVOL_S3_ENDPOINT or AWS_ENDPOINT_URL_S3 (path-style addressing).

    HDF5_VOL_CONNECTOR="pyvol module=s3_store;class=S3Connector;path=<nimbus>/examples/pyvol"
"""

from __future__ import annotations

import itertools
import json
import math
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from nimbus import pyvol

META = ".pyvol.json"
CHUNKS = ".chunks/"
CHUNK_TARGET_BYTES = 1 << 20


# ------------------------------------------------------------------------------------------------
# dtype <-> JSON (numpy's descr plus the h5py metadata pyvol uses)


def dtype_to_json(dtype: np.dtype) -> Dict[str, Any]:
    md = dict(dtype.metadata or {})
    out: Dict[str, Any] = {"descr": np.lib.format.dtype_to_descr(dtype)}
    if "vlen" in md:
        out["vlen"] = "str" if md["vlen"] is str else "bytes"
    if "enum" in md:
        out["enum"] = {k: int(v) for k, v in md["enum"].items()}
    if "h5py_encoding" in md:
        out["h5py_encoding"] = md["h5py_encoding"]
    return out


def _descr(value: Any) -> Any:
    # JSON turned the descr's tuples into lists.
    if isinstance(value, list):
        return [tuple(_descr(v) for v in item) if isinstance(item, list) else item for item in value]
    return value


def dtype_from_json(j: Dict[str, Any]) -> np.dtype:
    if "vlen" in j:
        return pyvol.string_dtype("utf-8" if j["vlen"] == "str" else "ascii")
    base = np.lib.format.descr_to_dtype(_descr(j["descr"]))
    if "enum" in j:
        return np.dtype(base, metadata={"enum": j["enum"]})
    if "h5py_encoding" in j:
        return np.dtype(base, metadata={"h5py_encoding": j["h5py_encoding"]})
    return base


def _is_text(dtype: np.dtype) -> bool:
    return dtype.kind == "O"


def _empty_value(dtype: np.dtype) -> Any:
    return "" if (dtype.metadata or {}).get("vlen") is str else b""


def _blank(dtype: np.dtype, shape: Tuple[int, ...], fill: Any) -> np.ndarray:
    if _is_text(dtype):
        a = np.empty(shape, dtype=dtype)
        a.fill(_empty_value(dtype) if fill is None else fill)
        return a
    a = np.zeros(shape, dtype=dtype)
    if fill is not None:
        a[...] = fill
    return a


def _encode(array: np.ndarray) -> bytes:
    if _is_text(array.dtype):
        return json.dumps([v if isinstance(v, str) else v.decode("latin-1")
                           for v in array.ravel().tolist()]).encode()
    return np.ascontiguousarray(array).tobytes()


def _decode(body: bytes, dtype: np.dtype, shape: Tuple[int, ...]) -> np.ndarray:
    if _is_text(dtype):
        values = json.loads(body)
        if (dtype.metadata or {}).get("vlen") is bytes:
            values = [v.encode("latin-1") for v in values]
        a = np.empty(len(values), dtype=dtype)
        a[:] = values
        return a.reshape(shape)
    return np.frombuffer(body, dtype=dtype).reshape(shape).copy()


def _value_to_json(value: np.ndarray) -> Any:
    if _is_text(value.dtype):
        return [v if isinstance(v, str) else v.decode("latin-1") for v in value.ravel().tolist()]
    return np.ascontiguousarray(value).tobytes().hex()


def _value_from_json(data: Any, dtype: np.dtype, shape: Tuple[int, ...]) -> np.ndarray:
    if _is_text(dtype):
        return _decode(json.dumps(data).encode(), dtype, shape)
    return np.frombuffer(bytes.fromhex(data), dtype=dtype).reshape(shape).copy()


# ------------------------------------------------------------------------------------------------
# Store access


class Store:
    def __init__(self) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = os.environ["PYVOL_S3_BUCKET"]
        self.prefix = os.environ.get("PYVOL_S3_PREFIX", "")
        endpoint = os.environ.get("PYVOL_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL_S3")
        self.client = boto3.client("s3", endpoint_url=endpoint,
                                   config=Config(s3={"addressing_style": "path"}))

    def get(self, key: str) -> Optional[bytes]:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def keys(self, prefix: str) -> List[str]:
        out: List[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return out

    def children(self, prefix: str) -> List[str]:
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for p in page.get("CommonPrefixes", []):
                name = p["Prefix"][len(prefix):-1]
                if name + "/" != CHUNKS:
                    names.append(name)
        return names

    def delete_prefix(self, prefix: str) -> None:
        keys = self.keys(prefix)
        for i in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})

    def move_prefix(self, src: str, dst: str) -> None:
        for key in self.keys(src):
            self.client.copy_object(Bucket=self.bucket, Key=dst + key[len(src):],
                                    CopySource={"Bucket": self.bucket, "Key": key})
        self.delete_prefix(src)


# ------------------------------------------------------------------------------------------------
# Objects


class Node:
    """A group or dataset at key prefix `base` ('.../name/'); its metadata is re-read on demand."""

    def __init__(self, store: Store, base: str, writable: bool):
        self.store = store
        self.base = base
        self.writable = writable

    def meta(self) -> Dict[str, Any]:
        body = self.store.get(self.base + META)
        if body is None:
            raise KeyError(f"{self.base} was deleted")
        return json.loads(body)

    def save_meta(self, meta: Dict[str, Any]) -> None:
        self._check_writable()
        self.store.put(self.base + META, json.dumps(meta).encode())

    def _check_writable(self) -> None:
        if not self.writable:
            raise PermissionError("the file is open read-only")

    # attributes: stored in the node's metadata
    def create_attribute(self, name, *, dtype, shape):
        meta = self.meta()
        meta.setdefault("attrs", {})[name] = {"dtype": dtype_to_json(dtype), "shape": list(shape),
                                              "data": _value_to_json(_blank(dtype, shape, None))}
        self.save_meta(meta)
        return S3Attribute(self, name)

    def open_attribute(self, name):
        if name not in self.meta().get("attrs", {}):
            raise KeyError(f"attribute {name!r} not found")
        return S3Attribute(self, name)

    def attribute_names(self):
        return sorted(self.meta().get("attrs", {}))

    def delete_attribute(self, name):
        meta = self.meta()
        del meta["attrs"][name]
        self.save_meta(meta)

    def rename_attribute(self, old, new):
        meta = self.meta()
        meta["attrs"][new] = meta["attrs"].pop(old)
        self.save_meta(meta)


class S3Attribute(pyvol.Attribute):
    def __init__(self, owner: Node, name: str):
        j = owner.meta()["attrs"][name]
        super().__init__(dtype=dtype_from_json(j["dtype"]), shape=tuple(j["shape"]))
        self.owner = owner
        self.name = name

    def read(self, out):
        j = self.owner.meta()["attrs"][self.name]
        out[...] = _value_from_json(j["data"], self.dtype, self.shape)

    def write(self, data):
        meta = self.owner.meta()
        meta["attrs"][self.name]["data"] = _value_to_json(np.asarray(data))
        self.owner.save_meta(meta)


class S3Group(Node, pyvol.Group):
    def _child_base(self, name: str) -> str:
        return self.base + name + "/"

    def open(self, name):
        soft = self.meta().get("soft", {})
        if name in soft:
            return pyvol.SoftLink(soft[name])
        body = self.store.get(self._child_base(name) + META)
        if body is None:
            raise KeyError(name)
        kind = json.loads(body)["kind"]
        cls = S3Dataset if kind == "dataset" else S3Group
        return cls(self.store, self._child_base(name), self.writable)

    def links(self):
        return sorted(set(self.store.children(self.base)) | set(self.meta().get("soft", {})))

    def has_link(self, name):
        return name in self.meta().get("soft", {}) or self.store.get(self._child_base(name) + META) is not None

    def create_group(self, name):
        self._check_writable()
        self.store.put(self._child_base(name) + META, json.dumps({"kind": "group"}).encode())
        return S3Group(self.store, self._child_base(name), self.writable)

    def create_dataset(self, name, *, dtype, shape, maxshape, chunks=None, fillvalue=None):
        self._check_writable()
        if chunks is None:
            chunks = _default_chunks(shape, dtype.itemsize)
        meta = {"kind": "dataset", "dtype": dtype_to_json(dtype), "shape": list(shape),
                "maxshape": list(maxshape), "chunks": list(chunks),
                "fill": None if fillvalue is None else _value_to_json(np.asarray(fillvalue, dtype))}
        self.store.put(self._child_base(name) + META, json.dumps(meta).encode())
        return S3Dataset(self.store, self._child_base(name), self.writable)

    def delete_link(self, name):
        self._check_writable()
        meta = self.meta()
        if name in meta.get("soft", {}):
            del meta["soft"][name]
            self.save_meta(meta)
            return
        self.store.delete_prefix(self._child_base(name))

    def create_soft_link(self, name, *, target):
        meta = self.meta()
        meta.setdefault("soft", {})[name] = target
        self.save_meta(meta)

    def create_hard_link(self, name, *, target):
        raise NotImplementedError("the S3 example stores each object under one name (no hard links)")

    def move_link(self, name, *, dst_group, dst_name):
        self._check_writable()
        soft = self.meta().get("soft", {})
        if name in soft:
            dst_group.create_soft_link(dst_name, target=soft[name])
            self.delete_link(name)
            return
        self.store.move_prefix(self._child_base(name), dst_group._child_base(dst_name))


class S3File(S3Group, pyvol.File):
    pass


def _default_chunks(shape: Tuple[int, ...], itemsize: int) -> Tuple[int, ...]:
    chunks = [max(1, n) for n in shape]
    while chunks and math.prod(chunks) * max(itemsize, 8) > CHUNK_TARGET_BYTES:
        i = int(np.argmax(chunks))
        if chunks[i] == 1:
            break
        chunks[i] = (chunks[i] + 1) // 2
    return tuple(chunks)


class S3Dataset(Node, pyvol.Dataset):
    def __init__(self, store: Store, base: str, writable: bool):
        Node.__init__(self, store, base, writable)
        meta = self.meta()
        self.dtype = dtype_from_json(meta["dtype"])
        self.shape = tuple(meta["shape"])
        self.maxshape = tuple(meta["maxshape"])
        self.chunks = tuple(meta["chunks"])
        self.fillvalue = (None if meta.get("fill") is None
                          else _value_from_json(meta["fill"], self.dtype, ())[()])

    def _touched(self, selection: tuple) -> Tuple[List[range], Tuple[int, ...]]:
        """Chunk index ranges per dimension covering the selection, and the region's origin."""
        ranges = []
        for d, (sel, n, c) in enumerate(zip(selection, self.shape, self.chunks)):
            if isinstance(sel, slice):
                start, stop, _ = sel.indices(n)
                lo, hi = start, max(start, stop - 1)
            else:
                lo, hi = int(np.min(sel)), int(np.max(sel))
            ranges.append(range(lo // c, hi // c + 1))
        origin = tuple(r.start * c for r, c in zip(ranges, self.chunks))
        return ranges, origin

    def _region(self, ranges, origin, load: bool) -> np.ndarray:
        shape = tuple(min(r.stop * c, n) - o for r, c, n, o in zip(ranges, self.chunks, self.shape, origin))
        region = _blank(self.dtype, shape, self.fillvalue)
        if load:
            for idx in itertools.product(*ranges):
                body = self.store.get(self._chunk_key(idx))
                if body is None:
                    continue
                box = self._chunk_box(idx)
                chunk_shape = tuple(s.stop - s.start for s in box)
                region[tuple(slice(s.start - o, s.stop - o) for s, o in zip(box, origin))] = \
                    _decode(body, self.dtype, chunk_shape)
        return region

    def _chunk_key(self, idx) -> str:
        return self.base + CHUNKS + (".".join(str(i) for i in idx) if idx else "0")

    def _chunk_box(self, idx) -> Tuple[slice, ...]:
        return tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(idx, self.chunks, self.shape))

    @staticmethod
    def _shifted(selection: tuple, origin: Tuple[int, ...], shape: Tuple[int, ...]) -> tuple:
        out = []
        for sel, o, n in zip(selection, origin, shape):
            if isinstance(sel, slice):
                start, stop, step = sel.indices(n)
                out.append(slice(start - o, stop - o, step))
            else:
                out.append(np.asarray(sel) - o)
        return tuple(out)

    def read(self, selection, out):
        if not self.shape:  # scalar
            body = self.store.get(self._chunk_key(()))
            out[...] = _blank(self.dtype, (), self.fillvalue) if body is None else _decode(body, self.dtype, ())
            return
        ranges, origin = self._touched(selection)
        region = self._region(ranges, origin, load=True)
        out[...] = region[self._shifted(selection, origin, self.shape)]

    def write(self, selection, data):
        self._check_writable()
        if not self.shape:
            self.store.put(self._chunk_key(()), _encode(np.asarray(data).reshape(())))
            return
        ranges, origin = self._touched(selection)
        region = self._region(ranges, origin, load=True)
        region[self._shifted(selection, origin, self.shape)] = data
        for idx in itertools.product(*ranges):
            box = self._chunk_box(idx)
            part = region[tuple(slice(s.start - o, s.stop - o) for s, o in zip(box, origin))]
            self.store.put(self._chunk_key(idx), _encode(part))

    def set_extent(self, shape):
        self._check_writable()
        # Chunks keep their grid; elements outside the new shape are dropped from edge chunks
        # lazily (reads never look past the shape) and whole chunks beyond it are deleted.
        for key in self.store.keys(self.base + CHUNKS):
            idx = tuple(int(i) for i in key[len(self.base + CHUNKS):].split("."))
            if any(i * c >= n for i, c, n in zip(idx, self.chunks, shape)):
                self.store.client.delete_object(Bucket=self.store.bucket, Key=key)
        meta = self.meta()
        meta["shape"] = list(shape)
        self.save_meta(meta)
        self.shape = tuple(shape)


class S3Connector(pyvol.Connector):
    def __init__(self) -> None:
        self.store = Store()

    def _base(self, name: str) -> str:
        return f"{self.store.prefix}{name.strip('/')}/"

    def file_create(self, name, *, mode):
        base = self._base(name)
        if self.store.get(base + META) is not None:
            if mode == "x":
                raise FileExistsError(f"s3://{self.store.bucket}/{base} already exists")
            self.store.delete_prefix(base)
        self.store.put(base + META, json.dumps({"kind": "group"}).encode())
        return S3File(self.store, base, True)

    def file_open(self, name, *, mode):
        base = self._base(name)
        if self.store.get(base + META) is None:
            raise FileNotFoundError(f"s3://{self.store.bucket}/{base} does not exist")
        return S3File(self.store, base, mode == "r+")

    def file_exists(self, name):
        return self.store.get(self._base(name) + META) is not None

    def file_delete(self, name):
        if not self.file_exists(name):
            raise FileNotFoundError(name)
        self.store.delete_prefix(self._base(name))
