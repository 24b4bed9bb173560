"""nimbus.pyvol: HDF5 VOL connectors written in Python.

A connector is a Python class; the `pyvol` plugin (libnimbus_pyvol.so, built with nimbus) makes any
HDF5 program use it: h5py, C, C++ or Fortran. Select it like any VOL connector:

    HDF5_PLUGIN_PATH=<nimbus build>/plugins
    HDF5_VOL_CONNECTOR="pyvol module=my_package.my_module;class=MyConnector"

(`path=/some/dir` in that string puts a directory on sys.path; in a C program the bridge starts an
interpreter at the first file create/open: `python=/venv/bin/python` picks the interpreter whose
site-packages it uses, `libpython=` the library). From Python, `nimbus.pyvol.enable(module, cls)`
sets those variables; call it before h5py is imported.

Write the connector by subclassing the classes below. Every method has a default: an operation a
connector does not implement fails with NotImplementedError, which reaches the application as an
HDF5 error carrying the message. Method arguments are keywords where there is more than one.

    Connector.file_create(name, mode='w'|'x')            -> File
    Connector.file_open(name, mode='r'|'r+')             -> File     (FileNotFoundError if missing)
    Group.open(name)                                     -> Group | Dataset | SoftLink
    Group.create_group(name)                             -> Group
    Group.create_dataset(name, dtype=, shape=, maxshape=, chunks=, fillvalue=) -> Dataset
    Group.links()                                        -> names in iteration order
    Group.delete_link(name); create_hard_link(name, target=obj); create_soft_link(name, target=path)
    Group.move_link(name, dst_group=, dst_name=)
    Dataset.read(selection, out); Dataset.write(selection, data); Dataset.set_extent(shape)
    Object.create_attribute(name, dtype=, shape=) -> Attribute; open_attribute(name);
    Object.attribute_names(); delete_attribute(name); rename_attribute(old, new)
    Attribute.read(out); Attribute.write(data)
    Object.close()                                       called when HDF5 closes the object

Names given to these methods are always single link names: the bridge walks paths ("a/b/c", "/x",
".") and creates intermediate groups itself.

Datasets and attributes have a numpy dtype (any HDF5 type nimbus supports: integers, floats, h5py's
booleans, enums as integer dtypes with metadata {'enum': {...}}, fixed strings 'S<n>', variable
strings as object dtype with metadata {'vlen': str|bytes} (h5py's convention), compounds, arrays,
opaque 'V<n>'). HDF5 converts between that dtype and the application's memory type.

`selection` is always a valid numpy index of the dataset's shape: a tuple of slices for whole
datasets and regular hyperslabs, a tuple of integer arrays (one per dimension, the coordinates of
each selected point in HDF5's order) for point selections and irregular hyperslab unions, () for
scalars. So `out[...] = self.array[selection]` and `self.array[selection] = data` are complete
implementations. `out` and `data` are numpy arrays shaped like `self.array[selection]` that view
HDF5's buffers without a copy: they are valid only during the call (copy `data` to keep it); a
connector that keeps a reference makes the call fail.

Errors: raise any exception; its type and message become an HDF5 error (FileNotFoundError on open
is what makes h5py's mode 'a' create the file; FileExistsError, PermissionError and KeyError map to
the matching HDF5 errors).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Optional, Tuple

import numpy as np

__all__ = ["Connector", "Object", "Group", "File", "Dataset", "Attribute", "SoftLink", "enable",
           "connector_string", "plugin_path", "string_dtype", "enum_dtype", "live_handles"]

CONNECTOR_NAME = "pyvol"
PLUGIN_FILE = "libnimbus_pyvol.so"


class SoftLink:
    """What Group.open returns for a soft link: the bridge follows `path` (absolute, or relative
    to the group holding the link)."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def __repr__(self) -> str:
        return f"SoftLink({self.path!r})"


class Object:
    """Common to files, groups and datasets: attributes, a token, close."""

    #: A stable object identifier of at most 16 bytes (HDF5 "token"); None lets the bridge derive
    #: one from the object's path.
    token: Optional[bytes] = None

    def create_attribute(self, name: str, *, dtype: np.dtype, shape: Tuple[int, ...]) -> "Attribute":
        raise NotImplementedError(f"{type(self).__name__} does not support attributes")

    def open_attribute(self, name: str) -> "Attribute":
        raise KeyError(f"attribute {name!r} not found")

    def attribute_names(self) -> Iterable[str]:
        return ()

    def delete_attribute(self, name: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot delete attributes")

    def rename_attribute(self, old: str, new: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot rename attributes")

    def close(self) -> None:
        """Called once when HDF5 closes the last handle on this object."""


class Group(Object):
    def open(self, name: str) -> "Object | SoftLink":
        """The object (or SoftLink) linked as `name` in this group; KeyError if there is none."""
        raise KeyError(f"{name!r} not found")

    def create_group(self, name: str) -> "Group":
        raise NotImplementedError(f"{type(self).__name__} cannot create groups")

    def create_dataset(self, name: str, *, dtype: np.dtype, shape: Tuple[int, ...],
                       maxshape: Tuple[Optional[int], ...], chunks: Optional[Tuple[int, ...]] = None,
                       fillvalue: Any = None) -> "Dataset":
        raise NotImplementedError(f"{type(self).__name__} cannot create datasets")

    def links(self) -> Iterable[str]:
        """Link names in iteration order (HDF5 iterates by name: return them sorted)."""
        return ()

    def has_link(self, name: str) -> bool:
        return name in set(self.links())

    def delete_link(self, name: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot delete links")

    def create_hard_link(self, name: str, *, target: Object) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot create hard links")

    def create_soft_link(self, name: str, *, target: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot create soft links")

    def move_link(self, name: str, *, dst_group: "Group", dst_name: str) -> None:
        """Default: hard link under the new name, then delete the old link."""
        target = self.open(name)
        if isinstance(target, SoftLink):
            dst_group.create_soft_link(dst_name, target=target.path)
        else:
            dst_group.create_hard_link(dst_name, target=target)
        self.delete_link(name)


class File(Group):
    def flush(self) -> None:
        """H5Fflush."""


class Dataset(Object):
    """A dataset. The bridge reads `dtype`, `shape`, `maxshape` (None = unlimited), `chunks` and
    `fillvalue` when the dataset is opened; __init__ sets them from keywords."""

    def __init__(self, *, dtype: Any, shape: Tuple[int, ...],
                 maxshape: Optional[Tuple[Optional[int], ...]] = None,
                 chunks: Optional[Tuple[int, ...]] = None, fillvalue: Any = None):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in shape)
        self.maxshape = tuple(self.shape if maxshape is None else maxshape)
        self.chunks = chunks
        self.fillvalue = fillvalue

    def read(self, selection: tuple, out: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be read")

    def write(self, selection: tuple, data: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be written")

    def set_extent(self, shape: Tuple[int, ...]) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be resized")


class Attribute:
    """An attribute: `dtype` and `shape` (read when it is opened), whole-value read and write."""

    def __init__(self, *, dtype: Any, shape: Tuple[int, ...]):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in shape)

    def read(self, out: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be read")

    def write(self, data: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be written")

    def close(self) -> None:
        pass


class Connector:
    """The class named in the connector string; instantiated once per process (no arguments)."""

    def file_create(self, name: str, *, mode: str) -> File:
        """mode 'w' replaces an existing file, 'x' fails with FileExistsError if it exists."""
        raise NotImplementedError(f"{type(self).__name__} cannot create files")

    def file_open(self, name: str, *, mode: str) -> File:
        """mode 'r' or 'r+'. Raise FileNotFoundError for a missing file."""
        raise NotImplementedError(f"{type(self).__name__} cannot open files")

    def file_exists(self, name: str) -> bool:
        """H5Fis_accessible / h5py.is_hdf5."""
        return False

    def file_delete(self, name: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot delete files")


# ------------------------------------------------------------------------------------------------
# dtype helpers (h5py's conventions, without importing h5py)


def string_dtype(encoding: str = "utf-8", length: Optional[int] = None) -> np.dtype:
    """Variable-length (length=None) or fixed-length string dtype, as h5py spells them."""
    if length is None:
        return np.dtype("O", metadata={"vlen": str if encoding == "utf-8" else bytes})
    if encoding == "utf-8":
        return np.dtype(f"S{length}", metadata={"h5py_encoding": "utf-8"})
    return np.dtype(f"S{length}")


def enum_dtype(values: dict, basetype: Any = "i1") -> np.dtype:
    return np.dtype(basetype, metadata={"enum": dict(values)})


# ------------------------------------------------------------------------------------------------
# Selecting the connector


def plugin_path() -> str:
    """The directory holding libnimbus_pyvol.so (same search as nimbus.plugin_path())."""
    import nimbus

    saved = nimbus.PLUGIN_FILE
    try:
        nimbus.PLUGIN_FILE = PLUGIN_FILE
        return nimbus.plugin_path()
    finally:
        nimbus.PLUGIN_FILE = saved


def connector_string(module: str, cls: str, path: Optional[str] = None) -> str:
    for what, value in (("module", module), ("class", cls), ("path", path)):
        if value is not None and ";" in value:
            raise ValueError(f"pyvol {what} {value!r} cannot contain ';'")
    text = f"{CONNECTOR_NAME} module={module};class={cls}"
    if path:
        text += f";path={os.fspath(path)}"
    return text


def enable(module: str, cls: str, path: Optional[str] = None) -> None:
    """Selects the Python connector `module.cls` for every HDF5 file of this process. Must run
    before h5py (or anything else) initialises HDF5."""
    if "h5py" in sys.modules:
        raise RuntimeError("nimbus.pyvol.enable() must be called before h5py is imported (HDF5 "
                           "reads HDF5_VOL_CONNECTOR once, when it starts)")
    os.environ["HDF5_VOL_CONNECTOR"] = connector_string(module, cls, path)
    directory = plugin_path()
    paths = [p for p in os.environ.get("HDF5_PLUGIN_PATH", "").split(":") if p]
    if directory not in paths:
        os.environ["HDF5_PLUGIN_PATH"] = ":".join([directory] + paths)


def live_handles() -> int:
    """HDF5 objects the bridge holds open in this process (leak checks). 0 before first use."""
    from nimbus import pyvol_bridge

    return pyvol_bridge.live_handles()
