"""h5pyvol: the H5PyVOL interface (pierlauro/H5PyVOL, see shared/seeds/001_9dce0c7cf58476f4.txt)
served by nimbus's pyvol bridge.

A connector written for H5PyVOL subclasses these classes and is selected exactly as the seed
describes, with the `H5PyVOL` plugin (libh5pyvol.so, built with nimbus) on HDF5_PLUGIN_PATH:

    HDF5_VOL_CONNECTOR=H5PyVOL  H5PyVOLModule=<package in the current directory>  H5PyVOLClass=<class>

Only the four methods the seed's in-memory example implements are abstract (file create, dataset
create, read and write); everything else has a default, so classes written against the seed
instantiate. A method a connector does not define makes that one HDF5 operation fail with an HDF5
error; it never stops the process. Datatypes, dataspaces and property lists of each object are kept
by the bridge, which answers HDF5's and h5py's queries (H5Dget_type, H5Dget_space, ...) itself.

Calling convention (as in the seed): IDs (hid_t) and the loc_params/req pointers arrive as ints
(req is 0: calls are synchronous). H5VL_python_dataset_write receives a numpy array that owns a copy
of the data (shape: the selection; dtype: the dataset's type), so keeping it is safe.
H5VL_python_dataset_read returns the selected elements or the whole dataset as anything numpy
accepts (an ndarray, bytes, a list); the bridge checks its size and converts it.

New connectors should use nimbus.pyvol, which passes numpy views and selections instead of IDs.
"""

from abc import ABC, abstractmethod

__all__ = ["H5Object", "H5Dataset", "H5Group", "H5File", "H5VOL"]


class H5Object(ABC):
    def __init__(self, name):
        self.name = name

    def H5VL_python_object_close(self, dxpl_id, req):
        """Called when HDF5 closes the object; default: nothing to release."""


class H5Dataset(H5Object):
    @abstractmethod
    def __init__(self, name):
        super().__init__(name)

    @abstractmethod
    def H5VL_python_dataset_read(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, req):
        """Returns the data (selected elements, or the whole dataset)."""

    @abstractmethod
    def H5VL_python_dataset_write(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id,
                                  buffer, req):
        """Stores `buffer` (a numpy array the connector may keep)."""

    def H5VL_python_dataset_get(self, get_type, dxpl_id, req, arguments):
        raise NotImplementedError("H5VL_python_dataset_get is answered by the bridge")

    def H5VL_python_dataset_specific(self, specific_type, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_dataset_specific")

    def H5VL_python_dataset_optional(self, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_dataset_optional")


class H5Group(H5Object):
    """A location holding datasets (and, in the repository examples, groups)."""

    def H5VL_python_dataset_create(self, loc_params, name, dcpl_id, dapl_id, dxpl_id, req):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_dataset_create")

    def H5VL_python_dataset_open(self, loc_params, name, dapl_id, dxpl_id, req):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_dataset_open")

    def H5VL_python_group_create(self, loc_params, name, gcpl_id, gapl_id, dxpl_id, req):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_group_create")

    def H5VL_python_group_open(self, loc_params, name, gapl_id, dxpl_id, req):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_group_open")

    def H5VL_python_group_get(self, get_type, dxpl_id, req, arguments):
        raise NotImplementedError("H5VL_python_group_get is answered by the bridge")

    def H5VL_python_group_specific(self, specific_type, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_group_specific")

    def H5VL_python_group_optional(self, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_group_optional")


class H5File(H5Group):
    """A file; as in the seed, datasets may be created on it directly."""

    @abstractmethod
    def __init__(self, name):
        super().__init__(name)

    @abstractmethod
    def H5VL_python_dataset_create(self, loc_params, name, dcpl_id, dapl_id, dxpl_id, req):
        """Returns the new H5Dataset."""

    def H5VL_python_file_get(self, get_type, dxpl_id, req, arguments):
        raise NotImplementedError("H5VL_python_file_get is answered by the bridge")

    def H5VL_python_file_specific(self, specific_type, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_file_specific")

    def H5VL_python_file_optional(self, dxpl_id, req, arguments):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_file_optional")


class H5VOL(ABC):
    """The connector: the class H5PyVOLClass names, instantiated once without arguments."""

    @abstractmethod
    def H5VL_python_file_create(self, name, flags, fcpl_id, fapl_id, dxpl_id, req):
        """Returns the new H5File."""

    def H5VL_python_file_open(self, name, flags, fapl_id, dxpl_id, req):
        raise NotImplementedError(f"{type(self).__name__} defines no H5VL_python_file_open")
