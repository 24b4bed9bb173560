"""The Python half of the pyvol bridge (src/pyvol): what the C++ core calls.

The core turns each VOL callback into one call on a Node: a handle on one object of a connector
(file, group, dataset or attribute). Nodes walk HDF5 paths ("a/b", "/x", ".") one link at a time,
follow soft links and create intermediate groups, so connectors only ever see single link names.
Two adapters produce Nodes: ModernAdapter for nimbus.pyvol connectors and LegacyAdapter for the
seed's h5pyvol interface (H5VL_python_* methods, integer IDs).

Ownership: every Node the core receives from here is closed by the core exactly once. A Node shared
with another owner (the same object reached through ".") is retained first, and the connector's
close() runs when the last owner closes it.

Not a public API: names and signatures follow the core (src/pyvol/core/*.cc).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from nimbus import pyvol

# H5I_type_t values the core understands.
FILE, GROUP, DATASET, ATTR = 1, 2, 5, 7
# H5F_ACC_* flags.
ACC_RDWR, ACC_TRUNC, ACC_EXCL = 0x1, 0x2, 0x4
# H5_iter_order_t
ITER_DEC = 1
# Soft links followed in one lookup before giving up (HDF5's default nlinks limit is 16).
MAX_SOFT_LINKS = 16
SEED_FLAVOUR = 1

_adapters: Dict[Tuple, Any] = {}
_adapters_lock = threading.Lock()
_core_live_handles: Optional[Callable[[], int]] = None  # set by the core


def live_handles() -> int:
    return _core_live_handles() if _core_live_handles is not None else 0


def load(flavour: int, module: str, class_name: str, path: str) -> Any:
    """The adapter over the connector `module.class_name` (one instance per process)."""
    key = (flavour, module, class_name, path)
    with _adapters_lock:
        adapter = _adapters.get(key)
        if adapter is not None:
            return adapter
        if path and path not in sys.path:
            sys.path.insert(0, path)
        if flavour == SEED_FLAVOUR:
            # The seed imports the connector package from the directory the application runs in.
            # Appended, so it cannot shadow installed modules.
            cwd = os.getcwd()
            if cwd not in sys.path and "" not in sys.path and "." not in sys.path:
                sys.path.append(cwd)
        mod = importlib.import_module(module)
        try:
            cls = getattr(mod, class_name)
        except AttributeError:
            raise ImportError(f"module {module!r} has no class {class_name!r}") from None
        instance = cls()
        if hasattr(instance, "H5VL_python_file_create") or _is_seed_vol(instance):
            adapter = LegacyAdapter(instance)
        else:
            adapter = ModernAdapter(instance)
        _adapters[key] = adapter
    route_h5py()
    return adapter


def _is_seed_vol(instance: Any) -> bool:
    mod = sys.modules.get("h5pyvol")
    return mod is not None and isinstance(instance, getattr(mod, "H5VOL", ()))


def route_h5py() -> None:
    """Sends h5py's group iteration for pyvol files through the VOL-safe HDF5 API (the nimbus
    h5py shim; HDF5 refuses h5py's 1.10-era calls on every non-native connector)."""
    if "h5py" not in sys.modules:
        return
    try:
        from nimbus import h5py_compat
    except Exception:
        return
    current = h5py_compat.is_nimbus
    if getattr(current, "_pyvol_aware", False):
        return

    def is_served(obj: Any, _nimbus=current) -> bool:
        return _nimbus(obj) or is_pyvol(obj)

    is_served._pyvol_aware = True  # type: ignore[attr-defined]
    h5py_compat.is_nimbus = is_served
    h5py_compat.patch()


def is_pyvol(obj: Any) -> bool:
    """True when an h5py object lives in a file served by a pyvol connector."""
    import ctypes
    from nimbus import h5py_compat

    oid = getattr(obj, "id", obj)
    try:
        if not oid.valid:
            return False
        buf = ctypes.create_string_buffer(64)
        return (h5py_compat.hdf5().H5VLget_connector_name(oid.id, buf, len(buf)) >= 0
                and buf.value in (b"pyvol", b"H5PyVOL"))
    except Exception:
        return False


def _split(name: str) -> List[str]:
    return [c for c in name.split("/") if c not in ("", ".")]


def _join(base: str, name: str) -> str:
    return "/" + name if base == "/" else base + "/" + name


def _path_token(path: str) -> bytes:
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=16).digest()


# ------------------------------------------------------------------------------------------------
# Nodes


class Node:
    """One open object. `path` is its HDF5 name; `file` the FileNode of its file."""

    __slots__ = ("kind", "obj", "path", "file", "_opens", "__weakref__")
    legacy = False

    def __init__(self, kind: int, obj: Any, path: str, file: Optional["FileNode"]):
        self.kind = kind
        self.obj = obj
        self.path = path
        self.file = file if file is not None else self
        self._opens = 1

    # -- lifetime --

    def retain(self) -> "Node":
        self._opens += 1
        return self

    def close(self) -> None:
        self._opens -= 1
        if self._opens == 0:
            self._close_object()

    def _close_object(self) -> None:
        close = getattr(self.obj, "close", None)
        if close is not None:
            close()

    # -- identity --

    def token(self) -> bytes:
        token = getattr(self.obj, "token", None)
        if token is None:
            token = _path_token(self.path)
        token = bytes(token)
        if len(token) > 16:
            raise ValueError(f"token of {self.path!r} is {len(token)} bytes; at most 16 allowed")
        token = token.ljust(16, b"\0")
        self.file.tokens[token] = self.path
        return token

    def num_attrs(self) -> int:
        return len(list(self.obj.attribute_names()))

    # -- walking --

    def _wrap(self, obj: Any, path: str) -> "Node":
        if isinstance(obj, pyvol.Dataset) or (not isinstance(obj, pyvol.Group)
                                              and hasattr(obj, "read")):
            kind = DATASET
        elif isinstance(obj, pyvol.Group) or hasattr(obj, "open"):
            kind = GROUP
        else:
            raise TypeError(f"{path}: the connector returned {type(obj).__name__}, neither a "
                            "nimbus.pyvol Group nor a Dataset")
        return Node(kind, obj, path, self.file)

    def _require_group(self) -> None:
        if self.kind not in (FILE, GROUP):
            raise KeyError(f"{self.path!r} is not a group")

    def _raw_child(self, name: str) -> Any:
        self._require_group()
        return self.obj.open(name)

    def _child(self, name: str, create: bool = False, depth: int = 0) -> "Node":
        """The object linked as `name` here (a new Node), soft links followed."""
        try:
            target = self._raw_child(name)
        except KeyError:
            if not create:
                raise KeyError(f"{_join(self.path, name)!r} not found") from None
            return self._create_group_here(name)
        if isinstance(target, pyvol.SoftLink):
            if depth >= MAX_SOFT_LINKS:
                raise KeyError(f"too many soft links resolving {_join(self.path, name)!r}")
            return self._resolve(target.path, depth + 1)
        if target is None:
            raise KeyError(f"{_join(self.path, name)!r} not found")
        return self._wrap(target, _join(self.path, name))

    def _create_group_here(self, name: str) -> "Node":
        self._require_group()
        return self._wrap(self.obj.create_group(name), _join(self.path, name))

    def _resolve(self, name: str, depth: int = 0, create: bool = False) -> "Node":
        start = self.file if name.startswith("/") else self
        node = start.retain()
        try:
            for c in _split(name):
                nxt = node._child(c, create, depth)
                node.close()
                node = nxt
        except BaseException:
            node.close()
            raise
        return node

    def _parent(self, name: str, create: bool = False) -> Tuple["Node", str]:
        parts = _split(name)
        if not parts:
            raise ValueError(f"name {name!r} designates the location itself, not a link")
        prefix = ("/" if name.startswith("/") else "") + "/".join(parts[:-1])
        return self._resolve(prefix or ".", create=create), parts[-1]

    # -- called by the core --

    def open(self, name: str) -> "Node":
        return self._resolve(name)

    def exists(self, name: str) -> bool:
        """H5Oexists_by_name: the path resolves to an object (dangling soft links: False)."""
        try:
            node = self._resolve(name)
        except KeyError:
            return False
        node.close()
        return True

    def _names(self, order: int) -> List[str]:
        self._require_group()
        names = [str(n) for n in self.obj.links()]
        return names[::-1] if order == ITER_DEC else names

    def open_by_index(self, name: str, order: int, n: int) -> "Node":
        group = self._resolve(name)
        try:
            names = group._names(order)
            if n >= len(names):
                raise KeyError(f"index {n} out of range: {group.path!r} has {len(names)} links")
            return group._child(names[n])
        finally:
            group.close()

    def link_name_by_index(self, name: str, order: int, n: int) -> str:
        group = self._resolve(name)
        try:
            names = group._names(order)
            if n >= len(names):
                raise KeyError(f"index {n} out of range: {group.path!r} has {len(names)} links")
            return names[n]
        finally:
            group.close()

    def open_token(self, token: bytes) -> "Node":
        path = self.file.tokens.get(bytes(token))
        if path is None:
            raise KeyError("unknown object token")
        return self.file._resolve(path)

    def link_names(self) -> List[str]:
        return self._names(0)

    def num_links(self) -> int:
        self._require_group()
        return len(list(self.obj.links()))

    def _link_entry(self, name: str) -> Tuple[bool, Any]:
        target = self._raw_child(name)
        if isinstance(target, pyvol.SoftLink):
            return True, target.path
        node = self._wrap(target, _join(self.path, name))
        try:
            return False, node.token()
        finally:
            node.close()

    def link_info(self, name: str) -> Tuple[bool, Any]:
        """(False, token) for a hard link, (True, target path) for a soft link."""
        parent, last = self._parent(name)
        try:
            return parent._link_entry(last)
        finally:
            parent.close()

    def link_exists(self, name: str) -> bool:
        try:
            parent, last = self._parent(name)
        except KeyError:
            return False
        try:
            parent._require_group()
            return bool(parent.obj.has_link(last))
        except KeyError:
            return False
        finally:
            parent.close()

    def link_entries(self, recursive: bool, order: int) -> List[Tuple[str, bool, Any]]:
        """(relative name, is_soft, token or target) for H5Literate2/H5Lvisit2."""
        out: List[Tuple[str, bool, Any]] = []
        seen = {self.token()}

        def walk(node: "Node", prefix: str) -> None:
            for name in node._names(order):
                is_soft, value = node._link_entry(name)
                out.append((prefix + name, is_soft, value))
                if recursive and not is_soft and value not in seen:
                    seen.add(value)
                    child = node._child(name)
                    try:
                        if child.kind in (FILE, GROUP):
                            walk(child, prefix + name + "/")
                    finally:
                        child.close()

        walk(self, "")
        return out

    def object_entries(self, order: int, want_attrs: bool) -> List[Tuple[str, int, bytes, int]]:
        """(relative name, kind, token, number of attributes) for H5Ovisit3, "." first; every
        object once, soft links not followed."""
        out = [(".", self.kind, self.token(), self.num_attrs() if want_attrs else 0)]
        seen = {out[0][2]}

        def walk(node: "Node", prefix: str) -> None:
            for name in node._names(order):
                if isinstance(node._raw_child(name), pyvol.SoftLink):
                    continue
                child = node._child(name)
                try:
                    token = child.token()
                    if token in seen:
                        continue
                    seen.add(token)
                    out.append((prefix + name, child.kind, token,
                                child.num_attrs() if want_attrs else 0))
                    if child.kind in (FILE, GROUP):
                        walk(child, prefix + name + "/")
                finally:
                    child.close()

        if self.kind in (FILE, GROUP):
            walk(self, "")
        return out

    def _check_new(self, name: str) -> None:
        self._require_group()
        if self.obj.has_link(name):
            raise ValueError(f"name already exists: {_join(self.path, name)!r}")

    def create_group(self, name: str, intermediate: bool, ids: tuple) -> "Node":
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            return parent._create_group_here(last)
        finally:
            parent.close()

    def create_dataset(self, name: str, intermediate: bool, dtype: np.dtype, shape: tuple,
                       maxshape: tuple, chunks: Optional[tuple], fillvalue: Any,
                       ids: tuple) -> "Node":
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            obj = parent.obj.create_dataset(last, dtype=dtype, shape=shape, maxshape=maxshape,
                                            chunks=chunks, fillvalue=fillvalue)
            if obj is None:
                raise RuntimeError(f"{type(parent.obj).__name__}.create_dataset returned None")
            return Node(DATASET, obj, _join(parent.path, last), self.file)
        finally:
            parent.close()

    def create_anonymous_dataset(self, dtype: np.dtype, shape: tuple, maxshape: tuple,
                                 chunks: Optional[tuple], fillvalue: Any) -> "Node":
        """H5Dcreate_anon (h5py's group[name] = data): the bridge holds the data until H5Olink
        gives the dataset a name, then creates it in the connector and writes it there."""
        return Node(DATASET, AnonymousDataset(dtype=dtype, shape=shape, maxshape=maxshape,
                                              chunks=chunks, fillvalue=fillvalue), "", self.file)

    def dataset_meta(self) -> Tuple[Any, Any, Any, Any, Any]:
        o = self.obj
        dtype = getattr(o, "dtype", None)
        return (None if dtype is None else np.dtype(dtype), getattr(o, "shape", None),
                getattr(o, "maxshape", None), getattr(o, "chunks", None),
                getattr(o, "fillvalue", None))

    def set_extent(self, shape: tuple) -> None:
        self.obj.set_extent(shape)

    def delete_link(self, name: str) -> None:
        parent, last = self._parent(name)
        try:
            parent._require_group()
            if not parent.obj.has_link(last):
                raise KeyError(f"{_join(parent.path, last)!r} not found")
            parent.obj.delete_link(last)
        finally:
            parent.close()

    def create_hard_link(self, name: str, target: "Node", intermediate: bool) -> None:
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            anonymous = target.obj
            if isinstance(anonymous, AnonymousDataset):
                real = parent.obj.create_dataset(
                    last, dtype=anonymous.dtype, shape=anonymous.shape, maxshape=anonymous.maxshape,
                    chunks=anonymous.chunks, fillvalue=anonymous.fillvalue)
                if real is None:
                    raise RuntimeError(f"{type(parent.obj).__name__}.create_dataset returned None")
                if anonymous.written:
                    real.write(tuple(slice(0, n) for n in anonymous.shape), anonymous.array)
                target.obj = real
                target.path = _join(parent.path, last)
                return
            parent.obj.create_hard_link(last, target=target.obj)
        finally:
            parent.close()

    def create_soft_link(self, name: str, target: str, intermediate: bool) -> None:
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            parent.obj.create_soft_link(last, target=target)
        finally:
            parent.close()

    def move_link(self, name: str, dst: "Node", dst_name: str, intermediate: bool) -> None:
        src_parent, src_last = self._parent(name)
        try:
            dst_parent, dst_last = dst._parent(dst_name, create=intermediate)
            try:
                src_parent._require_group()
                if not src_parent.obj.has_link(src_last):
                    raise KeyError(f"{_join(src_parent.path, src_last)!r} not found")
                dst_parent._check_new(dst_last)
                src_parent.obj.move_link(src_last, dst_group=dst_parent.obj, dst_name=dst_last)
            finally:
                dst_parent.close()
        finally:
            src_parent.close()

    def flush(self) -> None:
        flush = getattr(self.obj, "flush", None)
        if flush is not None:
            flush()

    # -- attributes --

    def attr_names(self, order: int = 0) -> List[str]:
        names = [str(n) for n in self.obj.attribute_names()]
        return names[::-1] if order == ITER_DEC else names

    def attr_create(self, name: str, dtype: np.dtype, shape: tuple) -> "AttrNode":
        if name in self.attr_names():
            raise ValueError(f"attribute {name!r} already exists on {self.path!r}")
        attr = self.obj.create_attribute(name, dtype=dtype, shape=shape)
        if attr is None:
            raise RuntimeError(f"{type(self.obj).__name__}.create_attribute returned None")
        return AttrNode(attr, self, name)

    def attr_open(self, name: str) -> "AttrNode":
        return AttrNode(self.obj.open_attribute(name), self, name)

    def attr_open_by_index(self, order: int, n: int) -> "AttrNode":
        names = self.attr_names(order)
        if n >= len(names):
            raise KeyError(f"attribute index {n} out of range ({len(names)} attributes)")
        return self.attr_open(names[n])

    def attr_exists(self, name: str) -> bool:
        return name in self.attr_names()

    def attr_delete(self, name: str) -> None:
        if name not in self.attr_names():
            raise KeyError(f"attribute {name!r} not found on {self.path!r}")
        self.obj.delete_attribute(name)

    def attr_rename(self, old: str, new: str) -> None:
        self.obj.rename_attribute(old, new)


class AnonymousDataset(pyvol.Dataset):
    """A dataset not linked into a file yet: its data lives here (see create_anonymous_dataset)."""

    def __init__(self, **meta: Any):
        super().__init__(**meta)
        if self.dtype.kind == "O":
            self.array = np.empty(self.shape, dtype=self.dtype)
            self.array.fill("" if (self.dtype.metadata or {}).get("vlen") is str else b"")
        else:
            self.array = np.zeros(self.shape, dtype=self.dtype)
            if self.fillvalue is not None:
                self.array[...] = self.fillvalue
        self.written = False

    def read(self, selection: tuple, out: np.ndarray) -> None:
        out[...] = self.array[selection]

    def write(self, selection: tuple, data: np.ndarray) -> None:
        self.array[selection] = data
        self.written = True

    def set_extent(self, shape: tuple) -> None:
        grown = np.zeros(shape, dtype=self.dtype)
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(self.shape, shape))
        grown[overlap] = self.array[overlap]
        self.array, self.shape = grown, tuple(shape)


class FileNode(Node):
    __slots__ = ("name", "tokens")

    def __init__(self, obj: Any, name: str):
        super().__init__(FILE, obj, "/", None)
        self.name = name
        self.tokens: Dict[bytes, str] = {}


class AttrNode(Node):
    """An attribute of the object `owner`; `path` is the owner's."""

    __slots__ = ("name",)

    def __init__(self, obj: Any, owner: Node, name: str):
        super().__init__(ATTR, obj, owner.path, owner.file)
        self.name = name

    def meta(self) -> Tuple[np.dtype, tuple]:
        return np.dtype(self.obj.dtype), tuple(int(n) for n in self.obj.shape)


class ModernAdapter:
    """nimbus.pyvol connectors."""

    legacy = False

    def __init__(self, connector: Any):
        self.connector = connector

    def _file(self, obj: Any, name: str, what: str) -> FileNode:
        if obj is None:
            raise RuntimeError(f"{type(self.connector).__name__}.{what} returned None")
        return FileNode(obj, name)

    def file_create(self, name: str, flags: int, fcpl_id: int, fapl_id: int,
                    dxpl_id: int) -> FileNode:
        mode = "x" if flags & ACC_EXCL else "w"
        return self._file(self.connector.file_create(name, mode=mode), name, "file_create")

    def file_open(self, name: str, flags: int, fapl_id: int, dxpl_id: int) -> FileNode:
        mode = "r+" if flags & ACC_RDWR else "r"
        return self._file(self.connector.file_open(name, mode=mode), name, "file_open")

    def file_exists(self, name: str) -> bool:
        return bool(self.connector.file_exists(name))

    def file_delete(self, name: str) -> None:
        self.connector.file_delete(name)


# ------------------------------------------------------------------------------------------------
# The seed's interface (h5pyvol): H5VL_python_* methods with integer IDs


class LegacyNode(Node):
    """An object of an h5pyvol connector. The seed has no listing or generic open, so the bridge
    remembers what was created through it (`tree`: path -> (kind, object), per file)."""

    __slots__ = ("tree",)
    legacy = True

    def __init__(self, kind: int, obj: Any, path: str, file: Optional["LegacyNode"],
                 tree: Dict[str, Tuple[int, Any]]):
        super().__init__(kind, obj, path, file)  # type: ignore[arg-type]
        self.tree = tree

    def _close_object(self) -> None:
        close = getattr(self.obj, "H5VL_python_object_close", None)
        if close is not None:
            close(0, 0)

    def token(self) -> bytes:
        token = _path_token(self.path)
        self.file.tokens[token] = self.path  # type: ignore[attr-defined]
        return token

    def num_attrs(self) -> int:
        return 0

    def _names(self, order: int) -> List[str]:
        self._require_group()
        prefix = "" if self.path == "/" else self.path
        names = sorted(p[len(prefix) + 1:] for p in self.tree
                       if p.startswith(prefix + "/") and "/" not in p[len(prefix) + 1:] and p != "/")
        return names[::-1] if order == ITER_DEC else names

    def _raw_child(self, name: str) -> Any:
        self._require_group()
        path = _join(self.path, name)
        known = self.tree.get(path)
        if known is not None:
            return known[1]
        # Not created through this bridge: ask the connector (group, then dataset open).
        for method, kind in (("H5VL_python_group_open", GROUP), ("H5VL_python_dataset_open", DATASET)):
            fn = getattr(self.obj, method, None)
            if fn is None:
                continue
            try:
                obj = fn(0, name, 0, 0, 0) if kind == GROUP else fn(0, name, 0, 0, 0)
            except (KeyError, NotImplementedError):
                continue
            if obj is not None:
                self.tree[path] = (kind, obj)
                return obj
        raise KeyError(f"{path!r} not found")

    def _wrap(self, obj: Any, path: str) -> "LegacyNode":
        known = self.tree.get(path)
        kind = known[0] if known is not None and known[1] is obj else (
            DATASET if hasattr(obj, "H5VL_python_dataset_read") else GROUP)
        return LegacyNode(kind, obj, path, self.file, self.tree)  # type: ignore[arg-type]

    def _create_group_here(self, name: str) -> "LegacyNode":
        return self._legacy_group_create(name, (0, 0, 0, 0, 0))

    def _legacy_group_create(self, name: str, ids: tuple) -> "LegacyNode":
        self._require_group()
        fn = getattr(self.obj, "H5VL_python_group_create", None)
        if fn is None:
            raise NotImplementedError(f"{type(self.obj).__name__} defines no "
                                      "H5VL_python_group_create")
        loc, _lcpl, gcpl, gapl, dxpl = ids
        obj = fn(loc, name, gcpl, gapl, dxpl, 0)
        if obj is None:
            raise RuntimeError(f"{type(self.obj).__name__}.H5VL_python_group_create returned None")
        path = _join(self.path, name)
        self.tree[path] = (GROUP, obj)
        return LegacyNode(GROUP, obj, path, self.file, self.tree)  # type: ignore[arg-type]

    def _check_new(self, name: str) -> None:
        self._require_group()
        if _join(self.path, name) in self.tree:
            raise ValueError(f"name already exists: {_join(self.path, name)!r}")

    def create_group(self, name: str, intermediate: bool, ids: tuple) -> "Node":
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            return parent._legacy_group_create(last, ids)  # type: ignore[attr-defined]
        finally:
            parent.close()

    def create_dataset(self, name: str, intermediate: bool, dtype: np.dtype, shape: tuple,
                       maxshape: tuple, chunks: Optional[tuple], fillvalue: Any,
                       ids: tuple) -> "Node":
        parent, last = self._parent(name, create=intermediate)
        try:
            parent._check_new(last)
            parent._require_group()
            fn = getattr(parent.obj, "H5VL_python_dataset_create", None)
            if fn is None:
                raise NotImplementedError(f"{type(parent.obj).__name__} defines no "
                                          "H5VL_python_dataset_create")
            loc, _lcpl, _type, _space, dcpl, dapl, dxpl = ids
            obj = fn(loc, last, dcpl, dapl, dxpl, 0)
            if obj is None:
                raise RuntimeError(f"{type(parent.obj).__name__}.H5VL_python_dataset_create "
                                   "returned None")
            path = _join(parent.path, last)
            self.tree[path] = (DATASET, obj)
            return LegacyNode(DATASET, obj, path, self.file, self.tree)  # type: ignore[arg-type]
        finally:
            parent.close()

    def dataset_meta(self) -> Tuple[Any, Any, Any, Any, Any]:
        # The seed's datasets know neither type nor shape; the core uses what it was given at
        # create. A dataset with an `array` (the repository examples) describes itself.
        array = getattr(self.obj, "array", None)
        if array is None:
            return (None, None, None, None, None)
        a = np.asarray(array)
        return (a.dtype, a.shape, a.shape, None, None)

    def num_links(self) -> int:
        return len(self._names(0))

    def delete_link(self, name: str) -> None:
        raise NotImplementedError("the H5PyVOL interface has no link deletion")

    def link_exists(self, name: str) -> bool:
        try:
            node = self._resolve(name)
        except KeyError:
            return False
        node.close()
        return True

    def attr_names(self, order: int = 0) -> List[str]:
        return []

    def attr_create(self, name: str, dtype: np.dtype, shape: tuple) -> "AttrNode":
        raise NotImplementedError("attributes are not part of the H5PyVOL interface")

    def attr_open(self, name: str) -> "AttrNode":
        raise KeyError(f"attribute {name!r} not found (the H5PyVOL interface has no attributes)")


class LegacyFileNode(LegacyNode):
    __slots__ = ("name", "tokens")

    def __init__(self, obj: Any, name: str, tree: Dict[str, Tuple[int, Any]]):
        super().__init__(FILE, obj, "/", None, tree)
        self.name = name
        self.tokens: Dict[bytes, str] = {}


class LegacyAdapter:
    """h5pyvol connectors (the seed's H5PyVOL interface)."""

    legacy = True

    def __init__(self, vol: Any):
        self.vol = vol
        # What was created through the bridge, per file object, so a reopened file lists it.
        self.trees: "weakref.WeakKeyDictionary[Any, Dict]" = weakref.WeakKeyDictionary()

    def _file(self, obj: Any, name: str, what: str) -> LegacyFileNode:
        if obj is None:
            raise RuntimeError(f"{type(self.vol).__name__}.{what} returned None")
        try:
            tree = self.trees.setdefault(obj, {})
        except TypeError:  # not weak-referenceable: this open's own tree
            tree = {}
        return LegacyFileNode(obj, name, tree)

    def file_create(self, name: str, flags: int, fcpl_id: int, fapl_id: int,
                    dxpl_id: int) -> LegacyFileNode:
        obj = self.vol.H5VL_python_file_create(name, flags, fcpl_id, fapl_id, dxpl_id, 0)
        return self._file(obj, name, "H5VL_python_file_create")

    def file_open(self, name: str, flags: int, fapl_id: int, dxpl_id: int) -> LegacyFileNode:
        fn = getattr(self.vol, "H5VL_python_file_open", None)
        if fn is None:
            raise NotImplementedError(f"{type(self.vol).__name__} defines no H5VL_python_file_open")
        return self._file(fn(name, flags, fapl_id, dxpl_id, 0), name, "H5VL_python_file_open")

    def file_exists(self, name: str) -> bool:
        return False

    def file_delete(self, name: str) -> None:
        raise NotImplementedError("the H5PyVOL interface has no file deletion")
