// The handle table: what the core gives HDF5 as `void*` objects.
//
// A Handle owns one reference to a Python Node (nimbus/pyvol_bridge.py) and the HDF5 metadata the
// bridge keeps for it (datatype, dataspace, property lists), so HDF5's and h5py's queries are
// answered without Python and the seed's connectors, which know nothing of types, still work. The
// Node is closed (the connector's close()) exactly once, when its handle closes.
//
// Files: children hold the FileState, so H5Fclose may come before the children's closes; the
// connector's file close runs when the last of them goes. The file Handle HDF5 knows is remembered
// in the FileState, because H5Iget_file_id must get back that very pointer (notes §9.6).
//
// Every live handle is in a registry, so IDs found by H5Iiterate are only dereferenced when they
// are ours, and leak tests can count them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pyvol/core/python_support.h"
#include "vol/hid.h"

namespace nimbus::pyvol {

using nimbus::vol::Hid;

struct Adapter;

struct FileState {
  Ref node;                 // the file's Node (its root group)
  std::string name;         // as given to H5Fcreate/H5Fopen
  unsigned intent = 0;      // H5F_ACC_RDONLY / RDWR
  unsigned long fileno = 0;
  bool legacy = false;
  Hid fapl, fcpl;
  struct Handle* file_handle = nullptr;  // the file Handle HDF5 holds an ID for, if any
  PyObject* adapter = nullptr;           // borrowed: adapters live for the process
  ~FileState();
};

struct Handle {
  H5I_type_t kind = H5I_BADID;  // H5I_FILE, H5I_GROUP, H5I_DATASET, H5I_ATTR
  Ref node;
  std::shared_ptr<FileState> file;
  std::string path;       // HDF5 name (attributes: the owner's)
  std::string attr_name;  // attributes only
  bool legacy = false;

  // Datasets and attributes.
  Hid type;        // the stored type (what H5Dget_type/H5Aget_type return)
  Hid space;       // the current extent
  Hid plist;       // DCPL / ACPL / GCPL
  Ref dtype;       // numpy dtype of the stored type
  size_t type_size = 0;
  bool vlen_string = false;
  bool vlen_utf8 = false;
  Ref read_fn, write_fn;  // bound methods of the connector's object (hot path)

  Handle();
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  std::vector<hsize_t> Dims() const;
};

// Whether `p` is a live handle of this core.
bool IsLiveHandle(const void* p);
std::vector<Handle*> LiveHandles();
long LiveHandleCount();

inline Handle& AsHandle(void* obj) { return *static_cast<Handle*>(obj); }

// Closes `h`'s Node (running the connector's close()), releases its file reference (closing the file
// Node when it was the last) and deletes `h`. Errors from close() are thrown after cleanup.
void CloseHandle(Handle* h);

unsigned long NextFileno();

}  // namespace nimbus::pyvol
