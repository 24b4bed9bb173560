"""An in-memory HDF5 connector on the modern pyvol interface (nimbus.pyvol).

Files live in this process only (one dict per connector instance). Everything h5py's everyday API
needs is here: groups, datasets of any dtype with slicing and point selections, resize, attributes,
hard and soft links, moves and deletes.

    HDF5_PLUGIN_PATH=<nimbus build>/plugins \
    HDF5_VOL_CONNECTOR="pyvol module=in_memory;class=InMemoryConnector;path=<nimbus>/examples/pyvol" \
    python -c "import h5py; f = h5py.File('a.h5', 'w'); f['x'] = [1, 2, 3]; print(f['x'][:])"
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from nimbus import pyvol


def _blank(dtype: np.dtype, shape: Tuple[int, ...], fillvalue: Any = None) -> np.ndarray:
    """A new array of the dataset's dtype filled with its fill value (HDF5's default: zeros, or
    empty strings)."""
    if dtype.kind == "O":
        empty = "" if (dtype.metadata or {}).get("vlen") is str else b""
        array = np.empty(shape, dtype=dtype)
        array.fill(empty if fillvalue is None else fillvalue)
        return array
    array = np.zeros(shape, dtype=dtype)
    if fillvalue is not None:
        array[...] = fillvalue
    return array


class MemoryAttribute(pyvol.Attribute):
    def __init__(self, dtype: np.dtype, shape: Tuple[int, ...]):
        super().__init__(dtype=dtype, shape=shape)
        self.value = _blank(self.dtype, self.shape)

    def read(self, out: np.ndarray) -> None:
        out[...] = self.value

    def write(self, data: np.ndarray) -> None:
        self.value[...] = data  # a copy: `data` views HDF5's buffer only during the call


class WithAttributes:
    def __init__(self) -> None:
        self.attributes: Dict[str, MemoryAttribute] = {}

    def create_attribute(self, name: str, *, dtype: np.dtype, shape: Tuple[int, ...]) -> MemoryAttribute:
        attr = MemoryAttribute(dtype, shape)
        self.attributes[name] = attr
        return attr

    def open_attribute(self, name: str) -> MemoryAttribute:
        return self.attributes[name]

    def attribute_names(self):
        return sorted(self.attributes)

    def delete_attribute(self, name: str) -> None:
        del self.attributes[name]

    def rename_attribute(self, old: str, new: str) -> None:
        if new in self.attributes:
            raise ValueError(f"attribute {new!r} already exists")
        self.attributes[new] = self.attributes.pop(old)


class MemoryDataset(WithAttributes, pyvol.Dataset):
    def __init__(self, *, dtype, shape, maxshape, chunks=None, fillvalue=None):
        WithAttributes.__init__(self)
        pyvol.Dataset.__init__(self, dtype=dtype, shape=shape, maxshape=maxshape, chunks=chunks,
                               fillvalue=fillvalue)
        self.array = _blank(self.dtype, self.shape, fillvalue)

    def read(self, selection: tuple, out: np.ndarray) -> None:
        out[...] = self.array[selection]

    def write(self, selection: tuple, data: np.ndarray) -> None:
        self.array[selection] = data

    def set_extent(self, shape: Tuple[int, ...]) -> None:
        grown = _blank(self.dtype, tuple(shape), self.fillvalue)
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(self.array.shape, shape))
        grown[overlap] = self.array[overlap]
        self.array = grown
        self.shape = tuple(shape)


class MemoryGroup(WithAttributes, pyvol.Group):
    def __init__(self) -> None:
        WithAttributes.__init__(self)
        self.members: Dict[str, Any] = {}  # name -> object or pyvol.SoftLink

    def open(self, name: str):
        return self.members[name]

    def create_group(self, name: str) -> "MemoryGroup":
        group = MemoryGroup()
        self.members[name] = group
        return group

    def create_dataset(self, name: str, *, dtype, shape, maxshape, chunks=None,
                       fillvalue=None) -> MemoryDataset:
        dataset = MemoryDataset(dtype=dtype, shape=shape, maxshape=maxshape, chunks=chunks,
                                fillvalue=fillvalue)
        self.members[name] = dataset
        return dataset

    def links(self):
        return sorted(self.members)

    def has_link(self, name: str) -> bool:
        return name in self.members

    def delete_link(self, name: str) -> None:
        del self.members[name]

    def create_hard_link(self, name: str, *, target) -> None:
        self.members[name] = target

    def create_soft_link(self, name: str, *, target: str) -> None:
        self.members[name] = pyvol.SoftLink(target)

    def move_link(self, name: str, *, dst_group: "MemoryGroup", dst_name: str) -> None:
        dst_group.members[dst_name] = self.members.pop(name)


class MemoryFile(MemoryGroup, pyvol.File):
    pass


class InMemoryConnector(pyvol.Connector):
    def __init__(self) -> None:
        self.files: Dict[str, MemoryFile] = {}

    def file_create(self, name: str, *, mode: str) -> MemoryFile:
        if mode == "x" and name in self.files:
            raise FileExistsError(f"{name!r} already exists")
        self.files[name] = MemoryFile()
        return self.files[name]

    def file_open(self, name: str, *, mode: str) -> MemoryFile:
        try:
            return self.files[name]
        except KeyError:
            raise FileNotFoundError(f"no file {name!r} in memory") from None

    def file_exists(self, name: str) -> bool:
        return name in self.files

    def file_delete(self, name: str) -> None:
        if self.files.pop(name, None) is None:
            raise FileNotFoundError(f"no file {name!r} in memory")
