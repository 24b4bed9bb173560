// HDF5 datatypes <-> numpy dtypes, with h5py's conventions so that what a Python connector sees is
// what h5py users know: booleans are numpy bool (h5py's FALSE/TRUE enum), other enums are their base
// integer dtype with metadata {'enum': {name: value}}, fixed strings 'S<n>' (metadata
// {'h5py_encoding': 'utf-8'} for UTF-8), variable strings the object dtype with metadata
// {'vlen': str} (UTF-8) or {'vlen': bytes} (ASCII), compounds structured dtypes (same offsets),
// arrays sub-array dtypes, opaque 'V<n>'. Byte order is kept ('>i4' stays big-endian).
//
// Variable-length strings may appear only at the top level (not inside compounds or arrays).
#pragma once

#include <hdf5.h>

#include "pyvol/core/python_support.h"
#include "vol/hid.h"

namespace nimbus::pyvol {

// A new numpy dtype for `type` (GIL held). Throws BridgeError for unsupported classes.
Ref DtypeOf(hid_t type);
// A new HDF5 datatype for a numpy dtype (GIL held). Throws BridgeError.
nimbus::vol::Hid TypeOfDtype(PyObject* dtype);

}  // namespace nimbus::pyvol
