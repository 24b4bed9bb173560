"""nimbus: HDF5 on object storage, stored as Zarr v3 (readable by zarr-python and TensorStore).

Submodules:
    nimbus.zarr   Zarr v3 arrays and groups on S3, Azure Blob, a directory or memory.

The C++ extension (nimbus._native) is loaded on first use, not on `import nimbus`, so the package
imports even where the extension is not built.
"""

__version__ = "0.1.0"


def _load_native():
    """The nimbus._native extension module, with a clear error when it is missing."""
    try:
        from nimbus import _native
    except ImportError as e:
        raise ImportError(
            "nimbus._native (the C++ extension) is not built for this Python: build it with "
            "`make build` (it needs Debian's pybind11-dev) and put <repo>/python on PYTHONPATH"
        ) from e
    return _native
