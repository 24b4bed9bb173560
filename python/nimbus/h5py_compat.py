"""h5py group iteration on nimbus files (notes/hdf5-vol.md §10.3, h5py issue #2316).

h5py is compiled with H5_USE_110_API, so Group iteration, visit and multi-component `in` call
HDF5's 1.10-era functions (H5Literate1, H5Ovisit1, H5Lget_info1, H5Oget_info1, ...), which HDF5
>= 1.14.3 refuses for every non-native connector. patch() replaces those h5py Group methods with
versions that call the VOL-safe API (H5Literate2, H5Ovisit3, H5Lvisit2, H5Lexists,
H5Oexists_by_name, H5Lget_info2) through ctypes on the very libhdf5 h5py loaded. Only objects
whose file is served by the nimbus connector take the new path; everything else (native files,
other connectors) keeps h5py's own code. h5py.is_hdf5, which only asks HDF5 about regular local
files, answers through H5Fis_accessible when nimbus is the default connector.

    import nimbus.h5py_compat
    nimbus.h5py_compat.patch()      # `import nimbus` does this itself when nimbus is selected
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from typing import Any, Callable, List, Optional

CONNECTOR_NAME = b"nimbus"

# HDF5 constants (H5public.h, H5Lpublic.h, H5Opublic.h, H5Ppublic.h of 1.14).
H5_INDEX_NAME = 0
H5_INDEX_CRT_ORDER = 1
H5_ITER_INC = 0
H5_ITER_DEC = 1
H5O_INFO_BASIC = 0x0001
H5P_CRT_ORDER_TRACKED = 0x0001
H5L_TYPE_HARD = 0
H5L_TYPE_SOFT = 1
H5L_TYPE_EXTERNAL = 64

hid_t = ctypes.c_int64
herr_t = ctypes.c_int
htri_t = ctypes.c_int

# herr_t (*)(hid_t group, const char *name, const H5L_info2_t *info, void *op_data);
# H5O_iterate2_t has the same C shape (the info pointer is an H5O_info2_t).
ITERATE_OP = ctypes.CFUNCTYPE(herr_t, hid_t, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p)


class H5O_token_t(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint8 * 16)]


class _H5L_info2_u(ctypes.Union):
    _fields_ = [("token", H5O_token_t), ("val_size", ctypes.c_size_t)]


class H5L_info2_t(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("corder_valid", ctypes.c_bool), ("corder", ctypes.c_int64),
                ("cset", ctypes.c_int), ("u", _H5L_info2_u)]


_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()
_patched = False
_originals: dict = {}


def loaded_libhdf5() -> str:
    """Path of the libhdf5 mapped into this process (the one h5py uses); imports h5py."""
    import h5py  # noqa: F401  (maps h5py's libhdf5)

    return _mapped_libhdf5(required=True)


def _mapped_libhdf5(required: bool = False) -> Optional[str]:
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        if required:
            raise RuntimeError("nimbus.h5py_compat needs /proc/self/maps (Linux) to find h5py's "
                               "libhdf5") from None
        return None
    # libhdf5.so.310 (system / source build) or libhdf5-<hash>.so.* (wheels); not libhdf5_hl.
    paths = sorted(set(re.findall(r"(/\S*/libhdf5(?:-[0-9a-f]+)?\.so[.0-9]*)\s*$", maps, re.M)))
    if not paths:
        if required:
            raise RuntimeError("no libhdf5 is loaded in this process although h5py is imported")
        return None
    if len(paths) > 1 and required:
        raise RuntimeError("several libhdf5 copies are loaded (" + ", ".join(paths) +
                           "); nimbus needs exactly one (notes: build h5py against nimbus' HDF5)")
    return paths[0]


def hdf5() -> ctypes.CDLL:
    """ctypes handle on h5py's libhdf5 with the prototypes this module uses."""
    global _lib
    with _lib_lock:
        if _lib is None:
            lib = ctypes.CDLL(loaded_libhdf5(), mode=ctypes.RTLD_GLOBAL)
            _declare(lib)
            _lib = lib
        return _lib


def _declare(lib: ctypes.CDLL) -> None:
    def proto(name: str, restype, *argtypes):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    size_t, c_char_p, c_void_p = ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p
    proto("H5VLget_connector_name", ctypes.c_ssize_t, hid_t, c_char_p, size_t)
    proto("H5Literate2", herr_t, hid_t, ctypes.c_int, ctypes.c_int,
          ctypes.POINTER(ctypes.c_uint64), ITERATE_OP, c_void_p)
    proto("H5Lvisit2", herr_t, hid_t, ctypes.c_int, ctypes.c_int, ITERATE_OP, c_void_p)
    proto("H5Ovisit3", herr_t, hid_t, ctypes.c_int, ctypes.c_int, ITERATE_OP, c_void_p,
          ctypes.c_uint)
    proto("H5Lexists", htri_t, hid_t, c_char_p, hid_t)
    proto("H5Oexists_by_name", htri_t, hid_t, c_char_p, hid_t)
    proto("H5Lget_info2", herr_t, hid_t, c_char_p, ctypes.POINTER(H5L_info2_t), hid_t)
    proto("H5Lget_val", herr_t, hid_t, c_char_p, c_void_p, size_t, hid_t)
    proto("H5Lunpack_elink_val", herr_t, c_void_p, size_t, ctypes.POINTER(ctypes.c_uint),
          ctypes.POINTER(c_char_p), ctypes.POINTER(c_char_p))
    proto("H5Pget_vol_id", herr_t, hid_t, ctypes.POINTER(hid_t))
    proto("H5VLclose", herr_t, hid_t)
    proto("H5VLget_connector_id_by_name", hid_t, c_char_p)
    proto("H5VLcmp_connector_cls", herr_t, ctypes.POINTER(ctypes.c_int), hid_t, hid_t)
    proto("H5Fis_accessible", htri_t, c_char_p, hid_t)


def connector_name(hid: int) -> str:
    """Name of the VOL connector serving an HDF5 ID (file, group, dataset or FAPL's VOL ID)."""
    lib = hdf5()
    buf = ctypes.create_string_buffer(64)
    n = lib.H5VLget_connector_name(hid, buf, len(buf))
    if n < 0:
        raise ValueError(f"H5VLget_connector_name failed for ID {hid}")
    return buf.value.decode()


def default_connector_name() -> str:
    """The VOL connector a new default file access property list selects (HDF5_VOL_CONNECTOR):
    "nimbus", "native" or "other"."""
    from h5py import h5p

    lib = hdf5()
    fapl = h5p.create(h5p.FILE_ACCESS)
    vol = hid_t(-1)
    if lib.H5Pget_vol_id(fapl.id, ctypes.byref(vol)) < 0:
        raise RuntimeError("H5Pget_vol_id failed")
    try:
        for name in ("nimbus", "native"):
            known = lib.H5VLget_connector_id_by_name(name.encode())  # < 0: not registered
            if known < 0:
                continue
            try:
                cmp = ctypes.c_int(1)
                if lib.H5VLcmp_connector_cls(ctypes.byref(cmp), vol.value, known) >= 0 and cmp.value == 0:
                    return name
            finally:
                lib.H5VLclose(known)
        return "other"
    finally:
        lib.H5VLclose(vol.value)


def is_nimbus(obj: Any) -> bool:
    """True when an h5py object (or ObjectID) lives in a file served by the nimbus connector."""
    oid = getattr(obj, "id", obj)
    try:
        if not oid.valid:
            return False
        buf = ctypes.create_string_buffer(64)
        return hdf5().H5VLget_connector_name(oid.id, buf, len(buf)) >= 0 and buf.value == CONNECTOR_NAME
    except Exception:
        return False


class _Operator:
    """A ctypes iteration callback that keeps Python exceptions and stop values."""

    def __init__(self, visit: Callable[[bytes], Any]):
        self.visit = visit
        self.error: Optional[BaseException] = None
        self.result: Any = None
        self.c = ITERATE_OP(self._call)

    def _call(self, _hid, name, _info, _data) -> int:
        try:
            r = self.visit(name)
        except BaseException as e:  # re-raised by finish(), never swallowed
            self.error = e
            return -1
        if r is not None:
            self.result = r
            return 1
        return 0

    def finish(self, status: int, what: str) -> Any:
        if self.error is not None:
            raise self.error
        if status < 0:
            raise RuntimeError(f"{what} failed (HDF5 returned {status})")
        return self.result


def _index_type(group) -> int:
    """h5py's choice: creation order when the group tracks it, else names."""
    try:
        if group.id.get_create_plist().get_link_creation_order() & H5P_CRT_ORDER_TRACKED:
            return H5_INDEX_CRT_ORDER
    except Exception:
        pass
    return H5_INDEX_NAME


def link_names(group, reverse: bool = False) -> List[bytes]:
    """Names of the links in a group, in h5py's order, through H5Literate2."""
    names: List[bytes] = []
    op = _Operator(lambda n: names.append(bytes(n)))
    order = H5_ITER_DEC if reverse else H5_ITER_INC
    status = hdf5().H5Literate2(group.id.id, _index_type(group), order, None, op.c, None)
    op.finish(status, "H5Literate2")
    return names


def _visit(group, func: Callable[[bytes], Any], objects: bool) -> Any:
    """H5Ovisit3 (objects, '.' skipped, like h5py's h5o.visit) or H5Lvisit2 (links)."""
    lib = hdf5()

    def each(name: bytes):
        if objects and name == b".":
            return None
        return func(name)

    op = _Operator(each)
    if objects:
        status = lib.H5Ovisit3(group.id.id, H5_INDEX_NAME, H5_ITER_INC, op.c, None, H5O_INFO_BASIC)
        return op.finish(status, "H5Ovisit3")
    status = lib.H5Lvisit2(group.id.id, H5_INDEX_NAME, H5_ITER_INC, op.c, None)
    return op.finish(status, "H5Lvisit2")


def path_exists(group, name: bytes, lapl: int = 0) -> bool:
    """h5py's `name in group` (h5g._path_valid) with H5Lexists per component and
    H5Oexists_by_name for the target (False for a dangling soft link or a path through a
    dataset)."""
    from h5py import h5o, h5i

    lib = hdf5()
    if not name:
        return False
    parts = name.split(b"/")
    current = h5o.open(group.id, b"/") if parts[0] == b"" else group.id
    parts = [p for p in parts if p not in (b"", b".")]
    if not parts:
        return True
    for i, part in enumerate(parts):
        if h5i.get_type(current) not in (h5i.GROUP, h5i.FILE):
            return False
        exists = lib.H5Lexists(current.id, part, lapl)
        if exists <= 0:
            return False  # < 0: HDF5 could not answer for this component: not a valid path
        if i == len(parts) - 1:
            return lib.H5Oexists_by_name(current.id, part, lapl) > 0
        try:
            current = h5o.open(current, part)
        except KeyError:
            return False
    return True


def link_object(group, name: bytes):
    """h5py's get(name, getlink=True): HardLink, SoftLink(path) or ExternalLink(file, path)."""
    import h5py

    lib = hdf5()
    info = H5L_info2_t()
    if lib.H5Lget_info2(group.id.id, name, ctypes.byref(info), 0) < 0:
        raise KeyError(f"unable to get link info: '{name.decode(errors='replace')}' not found")
    if info.type == H5L_TYPE_HARD:
        return h5py.HardLink()
    size = info.u.val_size
    buf = ctypes.create_string_buffer(max(size, 1))
    if lib.H5Lget_val(group.id.id, name, buf, size, 0) < 0:
        raise RuntimeError("H5Lget_val failed")
    if info.type == H5L_TYPE_SOFT:
        return h5py.SoftLink(buf.raw[:size].rstrip(b"\0").decode())
    if info.type == H5L_TYPE_EXTERNAL:
        flags = ctypes.c_uint()
        filename, objpath = ctypes.c_char_p(), ctypes.c_char_p()
        if lib.H5Lunpack_elink_val(buf, size, ctypes.byref(flags), ctypes.byref(filename),
                                   ctypes.byref(objpath)) < 0:
            raise RuntimeError("H5Lunpack_elink_val failed")
        return h5py.ExternalLink(filename.value.decode(), objpath.value.decode())
    return h5py.UserDefinedLink()


# --------------------------------------------------------------------------------------------
# The patched Group methods


def _group_cls():
    from h5py._hl.group import Group

    return Group


def _make_methods():
    import h5py
    from h5py._hl.base import phil
    from h5py._hl.dataset import Dataset
    from h5py._hl.datatype import Datatype

    Group = _group_cls()
    orig = _originals

    def __iter__(self):
        if not is_nimbus(self):
            yield from orig["__iter__"](self)
            return
        with phil:
            names = link_names(self)
        for n in names:
            yield self._d(n)

    def __reversed__(self):
        if not is_nimbus(self):
            yield from orig["__reversed__"](self)
            return
        with phil:
            names = link_names(self, reverse=True)
        for n in names:
            yield self._d(n)

    def __contains__(self, name):
        with phil:
            if not self.id or not is_nimbus(self):
                return orig["__contains__"](self, name)
            return path_exists(self, self._e(name), self._lapl.id if self._lapl else 0)

    def visit(self, func):
        if not is_nimbus(self):
            return orig["visit"](self, func)
        with phil:
            return _visit(self, lambda n: func(self._d(n)), objects=True)

    def visititems(self, func):
        if not is_nimbus(self):
            return orig["visititems"](self, func)
        with phil:
            def proxy(n):
                name = self._d(n)
                return func(name, self[name])
            return _visit(self, proxy, objects=True)

    def visit_links(self, func):
        if not is_nimbus(self):
            return orig["visit_links"](self, func)
        with phil:
            return _visit(self, lambda n: func(self._d(n)), objects=False)

    def visititems_links(self, func):
        if not is_nimbus(self):
            return orig["visititems_links"](self, func)
        with phil:
            def proxy(n):
                name = self._d(n)
                return func(name, self.get(name, getlink=True))
            return _visit(self, proxy, objects=False)

    def get(self, name, default=None, getclass=False, getlink=False):
        if not (getclass or getlink) or not is_nimbus(self):
            return orig["get"](self, name, default, getclass, getlink)
        with phil:
            if not (name in self):
                return default
            if getlink:
                link = link_object(self, self._e(name))
                return type(link) if getclass else link
            obj = self[name]
            if not getclass:
                return obj
            for cls in (Group, Dataset, Datatype):
                if isinstance(obj, cls):
                    return cls
            raise TypeError("Unknown object type")

    return {"__iter__": __iter__, "__reversed__": __reversed__, "__contains__": __contains__,
            "visit": visit, "visititems": visititems, "visit_links": visit_links,
            "visititems_links": visititems_links, "get": get}


def _make_is_hdf5():
    """h5py.is_hdf5 for nimbus names: h5py only asks HDF5 about names that are regular local files
    (os.path.isfile), and a nimbus file is a directory or a key prefix in a bucket. When nimbus is
    the default connector, H5Fis_accessible (file specific IS_ACCESSIBLE) answers instead."""
    import h5py
    from h5py._hl.base import phil

    original = _originals["is_hdf5"]

    def is_hdf5(fname):
        if default_connector_name() != "nimbus":
            return original(fname)
        name = os.fsencode(fname)
        with phil:
            return hdf5().H5Fis_accessible(name, 0) > 0  # 0 = H5P_DEFAULT: the default FAPL

    is_hdf5.__doc__ = original.__doc__
    is_hdf5.__wrapped__ = original
    return is_hdf5


def patch() -> None:
    """Installs the nimbus-aware Group methods and h5py.is_hdf5 (idempotent). Imports h5py."""
    global _patched
    with _lib_lock:
        if _patched:
            return
        import h5py

        Group = _group_cls()
        for name in ("__iter__", "__reversed__", "__contains__", "visit", "visititems",
                     "visit_links", "visititems_links", "get"):
            _originals[name] = getattr(Group, name)
        for name, fn in _make_methods().items():
            fn.__doc__ = _originals[name].__doc__
            fn.__wrapped__ = _originals[name]
            fn.__qualname__ = "Group." + name
            setattr(Group, name, fn)
        _originals["is_hdf5"] = h5py.is_hdf5
        h5py.is_hdf5 = _make_is_hdf5()
        _patched = True


def unpatch() -> None:
    """Restores h5py's own Group methods."""
    global _patched
    with _lib_lock:
        if not _patched:
            return
        import h5py

        Group = _group_cls()
        for name, fn in _originals.items():
            if name == "is_hdf5":
                h5py.is_hdf5 = fn
            else:
                setattr(Group, name, fn)
        _patched = False


def is_patched() -> bool:
    return _patched
