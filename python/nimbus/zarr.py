"""Zarr v3 arrays and groups on object storage through the nimbus engine.

    import nimbus.zarr as nz
    a = nz.create_array("s3://bucket/data", "temperature", shape=(1000, 1000), dtype="float32",
                        chunks=(100, 100), endpoint="http://127.0.0.1:9000")
    a[:10, ::2] = 1.5
    nz.open_array("s3://bucket/data", "temperature")[0:2]

Arrays support numpy basic indexing (integers, slices with positive steps, Ellipsis) for reading
and writing, plus get_orthogonal(), get_points() / set_points(), resize(), attrs and metadata.
Store URLs: s3://bucket/prefix, az://container/prefix, file:///abs/dir, memory://name or a plain
directory path. Keyword settings (endpoint, region, access_key_id, secret_access_key, ...) go to
the store driver; anything not given comes from the environment (AWS_*, AZURE_*).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from nimbus import _load_native

_native = _load_native()

Array = _native.Array
Store = _native.Store

# What zarr-python 3 writes by default after the serializer: zstd at its default level.
DEFAULT_COMPRESSORS = ({"name": "zstd", "configuration": {"level": 0, "checksum": False}},)

_CHUNK_TARGET_BYTES = 1 << 20


def open_store(url: str, **settings: Any) -> Store:
    """Opens a store URL; settings are the driver's keys (see the module docstring)."""
    return _native.open_store(url, settings)


def _store(url_or_store: Union[str, Store], settings: dict) -> Store:
    if isinstance(url_or_store, Store):
        if settings:
            raise TypeError("store settings are only accepted with a URL, not an open Store")
        return url_or_store
    return _native.open_store(str(url_or_store), settings)


def open_array(url_or_store: Union[str, Store], path: str = "", *,
               active_storage: Optional[str] = None, active_storage_min_saving: float = 0.5,
               **settings: Any) -> Array:
    """Opens an existing array; FileNotFoundError when there is none at path. active_storage
    (http://host:port of nimbus-active; default NIMBUS_ACTIVE_STORAGE_URL) makes sparse reads of
    compressed chunks select on the server and nimbus.reduce() reduce there (S3 stores only)."""
    import os

    if active_storage is None:
        active_storage = os.environ.get("NIMBUS_ACTIVE_STORAGE_URL", "")
    return Array.open(_store(url_or_store, settings), path.strip("/"), active_storage or "",
                      float(active_storage_min_saving))


def _serializer(dtype: np.dtype) -> dict:
    if dtype.kind in "OT" or (dtype.kind == "U" and dtype.itemsize == 0):
        return {"name": "vlen-utf8"}
    if dtype.kind == "S" and dtype.itemsize == 0:
        return {"name": "vlen-bytes"}
    return {"name": "bytes"}  # the extension adds the machine's endian where the type needs one


def _auto_chunks(shape: Sequence[int], itemsize: int) -> tuple:
    """Halves the longest chunk side until a chunk is at most ~1 MiB (zarr-python guesses alike)."""
    chunks = [max(int(n), 1) for n in shape]
    item = itemsize if itemsize > 0 else 16  # variable-length: a rough size per value
    while chunks and int(np.prod(chunks)) * item > _CHUNK_TARGET_BYTES:
        longest = int(np.argmax(chunks))
        if chunks[longest] == 1:
            break
        chunks[longest] = (chunks[longest] + 1) // 2
    return tuple(chunks)


def create_array(
    url_or_store: Union[str, Store],
    path: str = "",
    *,
    shape: Union[int, Sequence[int]],
    dtype: Any,
    chunks: Optional[Union[int, Sequence[int]]] = None,
    shards: Optional[Union[int, Sequence[int]]] = None,
    fill_value: Any = None,
    codecs: Optional[Sequence[dict]] = None,
    compressors: Union[str, None, Sequence[dict]] = "auto",
    dimension_names: Optional[Sequence[Optional[str]]] = None,
    attributes: Optional[dict] = None,
    mode: str = "w-",
    **settings: Any,
) -> Array:
    """Creates an array the way zarr.create_array would.

    codecs is the whole Zarr codec list; without it the chain is the serializer (bytes, or
    vlen-utf8 / vlen-bytes for variable-length types) followed by `compressors` ("auto": zstd
    level 0, as zarr-python; None or []: uncompressed). With shards, chunks are the inner chunks
    of a sharding_indexed codec. mode "w-" fails with FileExistsError if a node exists, "w"
    replaces it.
    """
    store = _store(url_or_store, settings)
    dt = np.dtype(dtype)
    shape_tuple = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    if chunks is None:
        chunks = _auto_chunks(shape_tuple, dt.itemsize)
    elif np.ndim(chunks) == 0:
        chunks = (int(chunks),) * len(shape_tuple)
    if shards is not None and np.ndim(shards) == 0:
        shards = (int(shards),) * len(shape_tuple)
    if codecs is None:
        if isinstance(compressors, str):
            if compressors != "auto":
                raise ValueError(
                    f"compressors must be 'auto', None or a list of codecs, got {compressors!r}")
            compressors = DEFAULT_COMPRESSORS
        codecs = [_serializer(dt), *(compressors or ())]
    elif compressors not in ("auto", None):
        raise ValueError("pass either codecs (the whole chain) or compressors, not both")
    return Array.create(store, path.strip("/"), shape_tuple, tuple(chunks), dt, fill_value,
                        list(codecs), shards, dimension_names, attributes, mode)


def create_group(url_or_store: Union[str, Store], path: str = "",
                 attributes: Optional[dict] = None, **settings: Any) -> None:
    """Writes a group's zarr.json (parent groups are not created)."""
    _native.create_group(_store(url_or_store, settings), path.strip("/"), attributes)


def list_children(url_or_store: Union[str, Store], path: str = "", **settings: Any) -> list:
    """Names of the arrays and groups directly under path, sorted."""
    return _native.list_children(_store(url_or_store, settings), path.strip("/"))


def read_node(url_or_store: Union[str, Store], path: str = "", **settings: Any) -> dict:
    """A node's zarr.json as a dict."""
    return _native.read_node(_store(url_or_store, settings), path.strip("/"))
