"""nimbus.reduce: sum / min / max / count of a selection, computed next to the data.

    import nimbus, numpy as np
    total = nimbus.reduce(h5file["temperature"], "sum", selection=np.s_[:, 10:20], axis=0)
    n = nimbus.reduce(zarr_array, "count")

With an active storage server (nimbus-active or Reductionist >= 0.12) — the connector's
`active_storage=http://host:port` setting, NIMBUS_ACTIVE_STORAGE_URL, or the active_storage
keyword — every chunk is reduced on the server, which reads it from S3 itself, and only the partial
results travel; they are combined here. Without one (or for stores it cannot read, or when it
fails) the same result is computed here, so code is portable.

Results follow numpy's `a[selection].<op>(axis=axis)` with the active storage API's policy
(docs/active.md): sums are in the array's type (integers wrap like numpy.sum(a, dtype=a.dtype),
floats accumulate in float64 and are rounded once), count is int64, min/max propagate NaN and
refuse an empty selection (ValueError, as numpy).
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

import numpy as np

from nimbus import _load_native

_OPS = ("sum", "min", "max", "count")


def _positive_key(selection: Any, shape: Tuple[int, ...]) -> Tuple[tuple, list]:
    """The selection as a tuple of integer indices and slices with positive steps (a reduction does
    not care about order, so a negative-step slice becomes the same indices ascending), plus which
    dimensions numpy drops (integer indices)."""
    if selection is None:
        selection = ()
    items = list(selection) if isinstance(selection, tuple) else [selection]
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = len(shape) - (len(items) - 1)
        items = items[:at] + [slice(None)] * fill + items[at + 1:]
    if len(items) > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {len(items)} were indexed")
    items += [slice(None)] * (len(shape) - len(items))
    key, dropped = [], []
    for d, (item, n) in enumerate(zip(items, shape)):
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            r = range(start, stop, step)
            if step < 0:
                r = r[::-1]
            if len(r) == 0:
                key.append(slice(0, 0, 1))
            else:
                key.append(slice(r.start, r.stop if r.step > 0 else r[-1] + 1, r.step))
            dropped.append(False)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            i = int(item)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {d} with size {n}")
            key.append(i % n)
            dropped.append(True)
        else:
            raise IndexError("nimbus.reduce takes integers, slices and Ellipsis (np.s_[...]), "
                             f"not {item!r}")
    return tuple(key), dropped


def _axes(axis: Any, dropped: list) -> Optional[list]:
    """numpy's axis (of a[selection], after integer indices dropped their dimensions) as array
    dimensions; None = all."""
    if axis is None:
        return None
    kept = [d for d, drop in enumerate(dropped) if not drop]
    items = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in items:
        a = int(a)
        if not -len(kept) <= a < len(kept):
            raise np.exceptions.AxisError(a, len(kept)) if hasattr(np, "exceptions") else \
                ValueError(f"axis {a} is out of bounds for array of dimension {len(kept)}")
        d = kept[a % len(kept)]
        if d in out:
            raise ValueError("duplicate value in 'axis'")
        out.append(d)
    return sorted(out)


def _connector_info() -> Optional[str]:
    """What follows 'nimbus' in HDF5_VOL_CONNECTOR (the connector's settings), or None."""
    value = os.environ.get("HDF5_VOL_CONNECTOR", "").strip()
    if value.startswith("nimbus") and (len(value) == 6 or value[6] in " \t"):
        rest = value[6:].strip()
        return rest or None
    return None


def _array(obj: Any):
    native = _load_native()
    if isinstance(obj, native.Array):
        return obj
    # An h5py Dataset (duck-typed: h5py is not imported here) of a nimbus file.
    if hasattr(obj, "file") and hasattr(obj, "name") and hasattr(obj, "id"):
        return native.Array.open_hdf5_dataset(obj.file.filename, obj.name, _connector_info())
    raise TypeError("nimbus.reduce takes an h5py Dataset of a nimbus file or a nimbus.zarr Array, "
                    f"not {type(obj).__name__}")


def reduce(obj: Any, op: str, selection: Any = None, axis: Any = None,
           active_storage: Optional[str] = None, active_storage_min_saving: float = 0.5,
           return_count: bool = False, details: bool = False) -> Union[np.ndarray, Any, tuple]:
    """op ('sum', 'min', 'max', 'count') of obj[selection] over axis, as numpy computes
    obj[selection].<op>(axis=axis) (see the module docstring for the numerical policy).

    obj: an h5py Dataset of a nimbus file (located as the connector locates it, with its
    settings) or a nimbus.zarr Array. selection: np.s_[...] of integers, slices (any step) and
    Ellipsis. active_storage: the server (default: the array's own, the connector's
    active_storage setting, or NIMBUS_ACTIVE_STORAGE_URL; "" or "none" computes here).
    return_count: also return how many elements went into each result. details: also return how
    the chunks were computed ({'remote_chunks', 'local_chunks', 'fill_chunks', ...})."""
    if op not in _OPS:
        raise ValueError(f"op must be one of {', '.join(_OPS)}, not {op!r}")
    native = _load_native()
    array = _array(obj)
    key, dropped = _positive_key(selection, tuple(array.shape))
    axes = _axes(axis, dropped)
    if active_storage is None:
        active_storage = os.environ.get("NIMBUS_ACTIVE_STORAGE_URL", "")
    values, counts, info = native.reduce(array, op, key, axes, active_storage or "",
                                         float(active_storage_min_saving))
    if values.ndim == 0:
        values = values[()]
        counts = counts[()]
    out = [values]
    if return_count:
        out.append(counts)
    if details:
        out.append(info)
    return out[0] if len(out) == 1 else tuple(out)
