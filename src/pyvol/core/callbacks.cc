// The VOL callbacks of the pyvol bridge core. Each one takes the GIL (PyGILState_Ensure: works
// whether h5py holds the GIL or released it around H5Dread/H5Dwrite, and from threads Python never
// saw), makes one call on a Node of nimbus/pyvol_bridge.py, and converts any failure (Python
// exception or bridge error) into an entry on the HDF5 error stack. No C++ exception leaves a
// callback.
#include <hdf5.h>  // before the H5VL headers, which are not self-contained
#include <H5VLconnector.h>
#include <H5VLconnector_passthru.h>
#include <H5VLnative.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pyvol/core/dtypes.h"
#include "pyvol/core/handles.h"
#include "pyvol/core/io.h"
#include "pyvol/core/python_support.h"

namespace nimbus::pyvol {
namespace {

// ---------------------------------------------------------------------------------------------
// Errors and guards

hid_t ErrorClass() {
  static hid_t error_class = H5I_INVALID_HID;
  if (error_class < 0 || H5Iis_valid(error_class) <= 0) {
    error_class = H5Eregister_class("pyvol", "nimbus pyvol bridge", "1");
  }
  return error_class;
}

void PushError(const char* func, hid_t major, hid_t minor, const BridgeError& e) {
  std::string text = e.what();
  if (e.errno_value != 0) text += " (errno = " + std::to_string(e.errno_value) + ")";
  hid_t cls = ErrorClass();
  if (cls < 0) return;
  // "%s": '%' in names or Python messages is never read as a format.
  H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, cls, e.major >= 0 ? e.major : major,
           e.minor >= 0 ? e.minor : minor, "%s", text.c_str());
}

template <typename R>
R Failure() {
  if constexpr (std::is_pointer_v<R>) {
    return nullptr;
  } else {
    return -1;
  }
}

// Runs `body` with the GIL held; any exception becomes an HDF5 error and a failure return.
// `python_optional`: the body (a close) also runs when the interpreter is gone, without the GIL,
// releasing C++ state only.
template <typename R, typename Body>
R Guarded(const char* func, hid_t major, hid_t minor, Body&& body, bool python_optional = false) noexcept {
  try {
    if (!PythonUsable()) {
      if (python_optional) return body();
      throw BridgeError(major, minor, "the Python interpreter is not running (finalized)");
    }
    Gil gil;
    try {
      return body();
    } catch (const BridgeError& e) {
      PushError(func, major, minor, e);
    } catch (const std::exception& e) {
      PushError(func, major, minor, BridgeError(major, minor, std::string("internal error: ") + e.what()));
    } catch (...) {
      PushError(func, major, minor, BridgeError(major, minor, "internal error"));
    }
  } catch (const BridgeError& e) {
    PushError(func, major, minor, e);
  } catch (...) {
    PushError(func, major, minor, BridgeError(major, minor, "internal error"));
  }
  return Failure<R>();
}

void Check(herr_t status, const std::string& what) {
  if (status < 0) throw BridgeError(H5E_VOL, H5E_CANTGET, "HDF5 failed while " + what);
}

hid_t CheckId(hid_t id, const std::string& what) {
  if (id < 0) throw BridgeError(H5E_VOL, H5E_CANTGET, "HDF5 failed while " + what);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

Ref Str(const char* s) { return PyStr(s == nullptr ? "" : s); }

void CopyName(const std::string& name, char* buf, size_t buf_size, size_t* length) {
  if (length != nullptr) *length = name.size();
  if (buf != nullptr && buf_size > 0) {
    size_t n = std::min(name.size(), buf_size - 1);
    std::memcpy(buf, name.data(), n);
    buf[n] = '\0';
  }
}

H5O_token_t TokenOf(PyObject* bytes) {
  H5O_token_t token;
  std::memset(&token, 0, sizeof token);
  if (!PyBytes_Check(bytes)) throw BridgeError(H5E_VOL, H5E_BADTYPE, "object tokens must be bytes");
  size_t n = std::min<size_t>(static_cast<size_t>(PyBytes_GET_SIZE(bytes)), sizeof token.__data);
  std::memcpy(token.__data, PyBytes_AS_STRING(bytes), n);
  return token;
}

Ref TokenBytes(const H5O_token_t& token) {
  return Ref::Steal(PyBytes_FromStringAndSize(reinterpret_cast<const char*>(token.__data), sizeof token.__data));
}

bool Intermediate(hid_t lcpl) {
  unsigned v = 0;
  if (lcpl >= 0 && lcpl != H5P_DEFAULT) H5Pget_create_intermediate_group(lcpl, &v);
  return v != 0;
}

H5I_type_t KindOf(const Ref& node) {
  long long k = AsLong(node.Attr("kind").get(), "node kind");
  return static_cast<H5I_type_t>(k);
}

H5O_type_t ObjectTypeOf(H5I_type_t kind) {
  return kind == H5I_DATASET ? H5O_TYPE_DATASET : H5O_TYPE_GROUP;
}

Ref ShapeOf(hid_t space, Ref* maxshape) {
  H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls != H5S_SIMPLE) {
    if (maxshape != nullptr) *maxshape = Ref::Steal(PyTuple_New(0));
    return Ref::Steal(PyTuple_New(0));
  }
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(rank)), maxdims(static_cast<size_t>(rank));
  Check(H5Sget_simple_extent_dims(space, dims.data(), maxdims.data()), "reading a dataspace");
  Ref shape = Ref::Steal(PyTuple_New(rank));
  Ref max = Ref::Steal(PyTuple_New(rank));
  for (int i = 0; i < rank; ++i) {
    PyTuple_SET_ITEM(shape.get(), i, PyInt(static_cast<long long>(dims[i])).release());
    PyTuple_SET_ITEM(max.get(), i, maxdims[i] == H5S_UNLIMITED ? PyNone().release()
                                                               : PyInt(static_cast<long long>(maxdims[i])).release());
  }
  if (maxshape != nullptr) *maxshape = max;
  return shape;
}

// A dataspace from Python shape/maxshape (None entries in maxshape: unlimited; () is scalar).
Hid SpaceOf(PyObject* shape, PyObject* maxshape) {
  if (shape == Py_None) throw BridgeError(H5E_DATASPACE, H5E_BADVALUE, "the dataset has no shape");
  Ref seq = Ref::Steal(PySequence_Tuple(shape));
  Py_ssize_t rank = PyTuple_GET_SIZE(seq.get());
  if (rank == 0) return Hid(CheckId(H5Screate(H5S_SCALAR), "creating a dataspace"));
  std::vector<hsize_t> dims(static_cast<size_t>(rank)), maxdims(static_cast<size_t>(rank));
  Ref max;
  if (maxshape != nullptr && maxshape != Py_None) max = Ref::Steal(PySequence_Tuple(maxshape));
  for (Py_ssize_t i = 0; i < rank; ++i) {
    dims[i] = static_cast<hsize_t>(AsLong(PyTuple_GET_ITEM(seq.get(), i), "shape"));
    maxdims[i] = dims[i];
    if (max && i < PyTuple_GET_SIZE(max.get())) {
      PyObject* m = PyTuple_GET_ITEM(max.get(), i);
      maxdims[i] = m == Py_None ? H5S_UNLIMITED : static_cast<hsize_t>(AsLong(m, "maxshape"));
    }
  }
  return Hid(CheckId(H5Screate_simple(static_cast<int>(rank), dims.data(), maxdims.data()),
                     "creating a dataspace"));
}

// Types, spaces and DCPLs given at dataset create, per (file, path), so that a reopen in this
// process reports exactly them (the seed's datasets have no type of their own at all).
struct CreatedRecord {
  Hid type, space, dcpl;
};
std::mutex& CreatedMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, CreatedRecord>& Created() {
  static auto* m = new std::map<std::string, CreatedRecord>();
  return *m;
}
std::string CreatedKey(const Handle& h) { return h.file->name + '\n' + h.path; }

// ---------------------------------------------------------------------------------------------
// Handles

void FinishTypedHandle(Handle& h) {
  h.dtype = DtypeOf(h.type.get());
  h.type_size = H5Tget_size(h.type.get());
  htri_t variable = H5Tis_variable_str(h.type.get());
  h.vlen_string = variable > 0;
  h.vlen_utf8 = h.vlen_string && H5Tget_cset(h.type.get()) == H5T_CSET_UTF8;
  if (!h.legacy) {
    Ref obj = h.node.Attr("obj");
    PyObject* r = PyObject_GetAttrString(obj.get(), "read");
    if (r == nullptr) PyErr_Clear();
    h.read_fn = Ref::Steal(r != nullptr ? r : Py_NewRef(Py_None));
    PyObject* w = PyObject_GetAttrString(obj.get(), "write");
    if (w == nullptr) PyErr_Clear();
    h.write_fn = Ref::Steal(w != nullptr ? w : Py_NewRef(Py_None));
  }
}

void RequireIo(const Handle& h, const Ref& fn, const char* what) {
  if (!h.legacy && (!fn || fn.get() == Py_None)) {
    throw BridgeError(H5E_VOL, H5E_UNSUPPORTED,
                      "the connector's object for '" + h.path + "' has no " + what + "() method");
  }
}

// Takes ownership of `node` (a Node the bridge handed out): on failure it is closed again.
template <typename Setup>
Handle* MakeHandle(Ref node, const std::shared_ptr<FileState>& file, H5I_type_t kind, Setup&& setup) {
  auto h = std::make_unique<Handle>();
  h->kind = kind;
  h->node = node;
  h->file = file;
  h->legacy = file->legacy;
  try {
    h->path = AsString(node.Attr("path").get(), "node path");
    setup(*h);
  } catch (...) {
    h->node = Ref();
    PyObject* r = PyObject_CallMethod(node.get(), "close", nullptr);
    if (r == nullptr) PyErr_Clear();
    Py_XDECREF(r);
    throw;
  }
  return h.release();
}

void SetupDatasetFromOpen(Handle& h) {
  Ref meta = h.node.Call("dataset_meta", {});
  PyObject* dtype = PyTuple_GetItem(meta.get(), 0);
  PyObject* shape = PyTuple_GetItem(meta.get(), 1);
  PyObject* maxshape = PyTuple_GetItem(meta.get(), 2);
  PyObject* chunks = PyTuple_GetItem(meta.get(), 3);
  PyObject* fillvalue = PyTuple_GetItem(meta.get(), 4);
  if (dtype == nullptr || fillvalue == nullptr) ThrowPythonError(H5E_DATASET, H5E_CANTOPENOBJ);
  std::unique_lock<std::mutex> lock(CreatedMutex());
  auto it = Created().find(CreatedKey(h));
  const CreatedRecord* record = it != Created().end() ? &it->second : nullptr;
  if (record != nullptr && dtype != Py_None) {
    // Only trust the record if the connector still describes the same dtype.
    Ref recorded = DtypeOf(record->type.get());
    int same = PyObject_RichCompareBool(recorded.get(), dtype, Py_EQ);
    if (same <= 0) {
      PyErr_Clear();
      record = nullptr;
    }
  }
  if (record != nullptr) {
    h.type = Hid(CheckId(H5Tcopy(record->type.get()), "copying a datatype"));
    h.plist = Hid(CheckId(H5Pcopy(record->dcpl.get()), "copying a DCPL"));
    if (shape == Py_None) {
      h.space = Hid(CheckId(H5Scopy(record->space.get()), "copying a dataspace"));
    }
  } else if (dtype == Py_None) {
    throw BridgeError(H5E_DATASET, H5E_CANTOPENOBJ,
                      "dataset '" + h.path + "' has no dtype (set .dtype on the connector's dataset)");
  } else {
    h.type = TypeOfDtype(dtype);
  }
  lock.unlock();
  if (!h.space.valid()) h.space = SpaceOf(shape, maxshape);
  if (!h.plist.valid()) {
    h.plist = Hid(CheckId(H5Pcreate(H5P_DATASET_CREATE), "creating a DCPL"));
    if (chunks != Py_None && H5Sget_simple_extent_type(h.space.get()) == H5S_SIMPLE) {
      Ref c = Ref::Steal(PySequence_Tuple(chunks));
      std::vector<hsize_t> dims;
      for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(c.get()); ++i) {
        dims.push_back(static_cast<hsize_t>(AsLong(PyTuple_GET_ITEM(c.get(), i), "chunks")));
      }
      Check(H5Pset_chunk(h.plist.get(), static_cast<int>(dims.size()), dims.data()), "setting chunks");
    }
    if (fillvalue != Py_None && H5Tis_variable_str(h.type.get()) <= 0) {
      Ref dt = DtypeOf(h.type.get());
      Ref asarray = Ref::Steal(PyObject_GetAttrString(NumpyModule(), "asarray"));
      Ref value = asarray({fillvalue, dt.get()}).Call("tobytes", {});
      if (static_cast<size_t>(PyBytes_GET_SIZE(value.get())) == H5Tget_size(h.type.get())) {
        Check(H5Pset_fill_value(h.plist.get(), h.type.get(), PyBytes_AS_STRING(value.get())),
              "setting the fill value");
      }
    }
  }
  FinishTypedHandle(h);
}

// A handle for a Node the bridge opened (object open, group/dataset open, iteration).
Handle* OpenedHandle(Ref node, const std::shared_ptr<FileState>& file) {
  H5I_type_t kind = KindOf(node);
  if (kind == H5I_FILE) kind = H5I_GROUP;  // H5Oopen("/") opens the root group
  return MakeHandle(node, file, kind, [&](Handle& h) {
    if (kind == H5I_DATASET) {
      SetupDatasetFromOpen(h);
    } else {
      h.plist = Hid(CheckId(H5Pcreate(H5P_GROUP_CREATE), "creating a GCPL"));
    }
  });
}

// The Node a callback's location designates. Nodes opened here are closed when this goes away.
class Located {
 public:
  Located(Handle& h, const H5VL_loc_params_t* loc) {
    if (loc == nullptr || loc->type == H5VL_OBJECT_BY_SELF) {
      node_ = h.node;
      return;
    }
    temporary_ = true;
    switch (loc->type) {
      case H5VL_OBJECT_BY_NAME:
        node_ = h.node.Call("open", {Str(loc->loc_data.loc_by_name.name).get()});
        break;
      case H5VL_OBJECT_BY_IDX: {
        const auto& by = loc->loc_data.loc_by_idx;
        node_ = h.node.Call("open_by_index", {Str(by.name).get(), PyInt(by.order).get(),
                                              PyInt(static_cast<long long>(by.n)).get()});
        break;
      }
      case H5VL_OBJECT_BY_TOKEN:
        node_ = h.node.Call("open_token", {TokenBytes(*loc->loc_data.loc_by_token.token).get()});
        break;
      default:
        throw BridgeError(H5E_VOL, H5E_BADVALUE, "unknown location type");
    }
  }
  Located(const Located&) = delete;
  Located& operator=(const Located&) = delete;
  ~Located() {
    if (!temporary_ || !node_) return;
    PyObject* r = PyObject_CallMethod(node_.get(), "close", nullptr);
    if (r == nullptr) PyErr_Clear();
    Py_XDECREF(r);
  }
  const Ref& node() const { return node_; }
  // Hands the node to a new handle (which will close it): retained when it is not ours to give.
  Ref Take() {
    if (temporary_) {
      temporary_ = false;
      return std::move(node_);
    }
    return node_.Call("retain", {});
  }

 private:
  Ref node_;
  bool temporary_ = false;
};

// Registers an HDF5 ID on a new handle for `located` (iteration callbacks need a real ID).
hid_t RegisterIterationId(Handle& h, Located& located) {
  Handle* handle = OpenedHandle(located.Take(), h.file);
  hid_t id = H5VLwrap_register(handle, handle->kind);
  if (id < 0) {
    CloseHandle(handle);
    throw BridgeError(H5E_VOL, H5E_CANTREGISTER, "cannot register an ID for iteration");
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Files

// The bridge's adapter over the configured connector (imports and instantiates it on first use).
struct AdapterRef {
  explicit AdapterRef(const nimbus_pyvol_config_t* config)
      : adapter(Ref::Borrow(BridgeModule())
                    .Call("load", {PyInt(config->flavour).get(), Str(config->module).get(),
                                   Str(config->class_name).get(), Str(config->path).get()})) {}
  Ref adapter;
};

Handle* NewFile(Ref adapter, Ref node, const char* name, unsigned intent, hid_t fcpl, hid_t fapl) {
  auto state = std::make_shared<FileState>();
  state->node = node;
  state->name = name;
  state->intent = intent;
  state->fileno = NextFileno();
  state->legacy = AsBool(adapter.Attr("legacy").get(), "adapter.legacy");
  state->adapter = adapter.get();
  state->fapl = Hid(fapl >= 0 ? H5Pcopy(fapl) : H5Pcreate(H5P_FILE_ACCESS));
  state->fcpl = Hid(fcpl >= 0 && fcpl != H5P_DEFAULT ? H5Pcopy(fcpl) : H5Pcreate(H5P_FILE_CREATE));
  auto h = std::make_unique<Handle>();
  h->kind = H5I_FILE;
  h->node = node;
  h->file = state;
  h->legacy = state->legacy;
  h->path = "/";
  state->file_handle = h.get();
  return h.release();
}

void* CoreFileCreate(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                     hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id, void**) {
  return Guarded<void*>(__func__, H5E_FILE, H5E_CANTCREATE, [&]() -> void* {
    AdapterRef a(config);
    Ref node = a.adapter.Call("file_create", {Str(name).get(), PyInt(flags).get(), PyInt(fcpl_id).get(),
                                              PyInt(fapl_id).get(), PyInt(dxpl_id).get()});
    return NewFile(a.adapter, node, name, H5F_ACC_RDWR, fcpl_id, fapl_id);
  });
}

void* CoreFileOpen(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                   hid_t fapl_id, hid_t dxpl_id, void**) {
  return Guarded<void*>(__func__, H5E_FILE, H5E_CANTOPENFILE, [&]() -> void* {
    AdapterRef a(config);
    Ref node = a.adapter.Call("file_open", {Str(name).get(), PyInt(flags).get(), PyInt(fapl_id).get(),
                                            PyInt(dxpl_id).get()});
    return NewFile(a.adapter, node, name, (flags & H5F_ACC_RDWR) ? H5F_ACC_RDWR : H5F_ACC_RDONLY,
                   H5P_DEFAULT, fapl_id);
  });
}

// EnsureInterpreter runs before the GIL can be taken; its failure is reported like any other.
template <typename R, typename Fn>
R WithInterpreter(const nimbus_pyvol_config_t* config, const char* func, hid_t major, hid_t minor, Fn&& fn) {
  try {
    EnsureInterpreter(config);
  } catch (const BridgeError& e) {
    PushError(func, major, minor, e);
    return Failure<R>();
  } catch (...) {
    PushError(func, major, minor, BridgeError(major, minor, "cannot start Python"));
    return Failure<R>();
  }
  return fn();
}

void* FileCreateEntry(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                      hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id, void** req) {
  return WithInterpreter<void*>(config, __func__, H5E_FILE, H5E_CANTCREATE, [&] {
    return CoreFileCreate(config, name, flags, fcpl_id, fapl_id, dxpl_id, req);
  });
}

void* FileOpenEntry(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                    hid_t fapl_id, hid_t dxpl_id, void** req) {
  return WithInterpreter<void*>(config, __func__, H5E_FILE, H5E_CANTOPENFILE, [&] {
    return CoreFileOpen(config, name, flags, fapl_id, dxpl_id, req);
  });
}

herr_t FileSpecificUnbound(const nimbus_pyvol_config_t* config, H5VL_file_specific_args_t* args,
                           hid_t, void**) {
  return WithInterpreter<herr_t>(config, __func__, H5E_FILE, H5E_CANTGET, [&] {
    return Guarded<herr_t>(__func__, H5E_FILE, H5E_CANTGET, [&]() -> herr_t {
      AdapterRef a(config);
      if (args->op_type == H5VL_FILE_IS_ACCESSIBLE) {
        Ref r = a.adapter.Call("file_exists", {Str(args->args.is_accessible.filename).get()});
        *args->args.is_accessible.accessible = AsBool(r.get(), "file_exists()");
        return 0;
      }
      if (args->op_type == H5VL_FILE_DELETE) {
        a.adapter.Call("file_delete", {Str(args->args.del.filename).get()});
        return 0;
      }
      throw BridgeError(H5E_FILE, H5E_UNSUPPORTED, "file operation not supported");
    });
  });
}

// H5F_OBJ_* bits -> ID types.
std::vector<H5I_type_t> TypesOf(unsigned types) {
  std::vector<H5I_type_t> out;
  if (types & H5F_OBJ_FILE) out.push_back(H5I_FILE);
  if (types & H5F_OBJ_DATASET) out.push_back(H5I_DATASET);
  if (types & H5F_OBJ_GROUP) out.push_back(H5I_GROUP);
  if (types & H5F_OBJ_DATATYPE) out.push_back(H5I_DATATYPE);
  if (types & H5F_OBJ_ATTR) out.push_back(H5I_ATTR);
  return out;
}

struct IdScan {
  const FileState* file;
  std::vector<hid_t> ids;
};

herr_t CollectId(hid_t id, void* udata) {
  auto* scan = static_cast<IdScan*>(udata);
  void* obj = H5VLobject(id);
  // Other connectors' IDs carry their own pointers: only dereference our live handles.
  if (obj != nullptr && IsLiveHandle(obj) && AsHandle(obj).file.get() == scan->file) {
    scan->ids.push_back(id);
  }
  return 0;
}

std::vector<hid_t> OpenIds(const FileState* file, unsigned types) {
  IdScan scan{file, {}};
  for (H5I_type_t type : TypesOf(types)) {
    Check(H5Iiterate(type, CollectId, &scan), "listing open objects");
  }
  return scan.ids;
}

herr_t FileGet(void* obj, H5VL_file_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_FILE, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    FileState& f = *h.file;
    switch (args->op_type) {
      case H5VL_FILE_GET_CONT_INFO: {
        H5VL_file_cont_info_t* info = args->args.get_cont_info.info;
        info->feature_flags = 0;
        info->token_size = sizeof(H5O_token_t);
        info->blob_id_size = 0;
        return 0;
      }
      case H5VL_FILE_GET_FAPL:
        args->args.get_fapl.fapl_id = CheckId(H5Pcopy(f.fapl.get()), "copying the FAPL");
        return 0;
      case H5VL_FILE_GET_FCPL:
        args->args.get_fcpl.fcpl_id = CheckId(H5Pcopy(f.fcpl.get()), "copying the FCPL");
        return 0;
      case H5VL_FILE_GET_FILENO:
        *args->args.get_fileno.fileno = f.fileno;
        return 0;
      case H5VL_FILE_GET_INTENT:
        *args->args.get_intent.flags = f.intent;
        return 0;
      case H5VL_FILE_GET_NAME: {
        auto& a = args->args.get_name;
        CopyName(f.name, a.buf, a.buf_size, a.file_name_len);
        return 0;
      }
      case H5VL_FILE_GET_OBJ_COUNT:
        *args->args.get_obj_count.count = OpenIds(&f, args->args.get_obj_count.types).size();
        return 0;
      case H5VL_FILE_GET_OBJ_IDS: {
        auto& a = args->args.get_obj_ids;
        std::vector<hid_t> ids = OpenIds(&f, a.types);
        size_t n = std::min(ids.size(), a.max_objs);
        for (size_t i = 0; i < n; ++i) a.oid_list[i] = ids[i];
        *a.count = n;
        return 0;
      }
    }
    throw BridgeError(H5E_FILE, H5E_UNSUPPORTED, "file get operation not supported");
  });
}

herr_t FileSpecific(void* obj, H5VL_file_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_FILE, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_FILE_FLUSH:
        h.file->node.Call("flush", {});
        return 0;
      case H5VL_FILE_REOPEN: {
        Ref adapter = Ref::Borrow(h.file->adapter);
        Ref node = adapter.Call("file_open", {Str(h.file->name.c_str()).get(), PyInt(h.file->intent).get(),
                                              PyInt(h.file->fapl.get()).get(), PyInt(H5P_DEFAULT).get()});
        *args->args.reopen.file =
            NewFile(adapter, node, h.file->name.c_str(), h.file->intent, h.file->fcpl.get(), h.file->fapl.get());
        return 0;
      }
      case H5VL_FILE_IS_EQUAL: {
        void* other = args->args.is_equal.obj2;
        bool same = false;
        if (other != nullptr && IsLiveHandle(other)) {
          Ref a = h.file->node ? h.file->node.Attr("obj") : Ref();
          Handle& o = AsHandle(other);
          Ref b = o.file->node ? o.file->node.Attr("obj") : Ref();
          same = a && b && a.get() == b.get();
        }
        *args->args.is_equal.same_file = same;
        return 0;
      }
      default:
        throw BridgeError(H5E_FILE, H5E_UNSUPPORTED, "file operation not supported");
    }
  });
}

herr_t FileOptional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_FILE, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_FILE, H5E_UNSUPPORTED,
                      "native-only file operation " + std::to_string(args->op_type) +
                          " (e.g. H5Fget_filesize) is not supported by pyvol");
  });
}

herr_t CloseAny(const char* func, hid_t major, void* obj) {
  return Guarded<herr_t>(func, major, H5E_CLOSEERROR, [&]() -> herr_t {
    CloseHandle(&AsHandle(obj));
    return 0;
  }, /*python_optional=*/true);
}

herr_t FileClose(void* obj, hid_t, void**) { return CloseAny(__func__, H5E_FILE, obj); }

// ---------------------------------------------------------------------------------------------
// Groups

void* GroupCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                  hid_t gcpl_id, hid_t gapl_id, hid_t dxpl_id, void**) {
  return Guarded<void*>(__func__, H5E_SYM, H5E_CANTCREATE, [&]() -> void* {
    if (name == nullptr) throw BridgeError(H5E_SYM, H5E_UNSUPPORTED, "anonymous groups are not supported");
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    Ref ids = PyTupleOf({PyInt(static_cast<long long>(reinterpret_cast<uintptr_t>(loc))).get(),
                         PyInt(lcpl_id).get(), PyInt(gcpl_id).get(), PyInt(gapl_id).get(), PyInt(dxpl_id).get()});
    Ref node = at.node().Call("create_group", {Str(name).get(), PyBool(Intermediate(lcpl_id)).get(), ids.get()});
    return MakeHandle(node, h.file, H5I_GROUP, [&](Handle& g) {
      g.plist = Hid(CheckId(gcpl_id >= 0 && gcpl_id != H5P_DEFAULT ? H5Pcopy(gcpl_id) : H5Pcreate(H5P_GROUP_CREATE),
                            "copying the GCPL"));
    });
  });
}

void* GroupOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  return Guarded<void*>(__func__, H5E_SYM, H5E_CANTOPENOBJ, [&]() -> void* {
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    Ref node = at.node().Call("open", {Str(name).get()});
    H5I_type_t kind = KindOf(node);
    if (kind != H5I_GROUP && kind != H5I_FILE) {
      node.Call("close", {});
      throw BridgeError(H5E_SYM, H5E_BADTYPE, std::string("'") + name + "' is not a group");
    }
    return OpenedHandle(node, h.file);
  });
}

herr_t GroupGet(void* obj, H5VL_group_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_SYM, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_GROUP_GET_GCPL:
        args->args.get_gcpl.gcpl_id = CheckId(
            h.plist.valid() ? H5Pcopy(h.plist.get()) : H5Pcreate(H5P_GROUP_CREATE), "copying the GCPL");
        return 0;
      case H5VL_GROUP_GET_INFO: {
        auto& a = args->args.get_info;
        Located at(h, &a.loc_params);
        H5G_info_t* info = a.ginfo;
        std::memset(info, 0, sizeof *info);
        info->storage_type = H5G_STORAGE_TYPE_COMPACT;
        info->nlinks = static_cast<hsize_t>(AsLong(at.node().Call("num_links", {}).get(), "num_links"));
        info->max_corder = 0;
        info->mounted = false;
        return 0;
      }
    }
    throw BridgeError(H5E_SYM, H5E_UNSUPPORTED, "group get operation not supported");
  });
}

herr_t GroupSpecific(void*, H5VL_group_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_SYM, H5E_UNSUPPORTED, [&]() -> herr_t {
    if (args->op_type == H5VL_GROUP_FLUSH || args->op_type == H5VL_GROUP_REFRESH) return 0;
    throw BridgeError(H5E_SYM, H5E_UNSUPPORTED, "mounting files is not supported by pyvol");
  });
}

herr_t GroupOptional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_SYM, H5E_UNSUPPORTED, [&]() -> herr_t {
#ifndef H5_NO_DEPRECATED_SYMBOLS
    if (args->op_type == H5VL_NATIVE_GROUP_GET_OBJINFO) {
      // H5Gget_objinfo (h5py's hash() and ==): file number and the token as object number.
      auto* a = static_cast<H5VL_native_group_get_objinfo_t*>(args->args);
      Handle& h = AsHandle(obj);
      Located at(h, &a->loc_params);
      if (a->statbuf != nullptr) {
        H5G_stat_t* st = a->statbuf;
        std::memset(st, 0, sizeof *st);
        st->fileno[0] = h.file->fileno;
        H5O_token_t token = TokenOf(at.node().Call("token", {}).get());
        static_assert(sizeof(st->objno) <= sizeof(token.__data));
        std::memcpy(st->objno, token.__data, sizeof(st->objno));
        st->nlink = 1;
        st->type = KindOf(at.node()) == H5I_DATASET ? H5G_DATASET : H5G_GROUP;
      }
      return 0;
    }
#endif
    throw BridgeError(H5E_SYM, H5E_UNSUPPORTED,
                      "native-only group operation " + std::to_string(args->op_type) + " is not supported by pyvol");
  });
}

herr_t GroupClose(void* obj, hid_t, void**) { return CloseAny(__func__, H5E_SYM, obj); }

// ---------------------------------------------------------------------------------------------
// Datasets

void* DatasetCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                    hid_t type_id, hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t dxpl_id, void**) {
  return Guarded<void*>(__func__, H5E_DATASET, H5E_CANTCREATE, [&]() -> void* {
    const bool anonymous = name == nullptr;  // H5Dcreate_anon (h5py: group[name] = data)
    Handle& h = AsHandle(obj);
    if (anonymous && h.legacy) {
      throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED, "anonymous datasets are not part of the H5PyVOL interface");
    }
    Located at(h, loc);
    hid_t dcpl = dcpl_id >= 0 && dcpl_id != H5P_DEFAULT ? dcpl_id : H5P_DATASET_CREATE_DEFAULT;
    Ref dtype = DtypeOf(type_id);
    Ref maxshape;
    Ref shape = ShapeOf(space_id, &maxshape);
    Ref chunks = PyNone();
    if (H5Pget_layout(dcpl) == H5D_CHUNKED && PyTuple_GET_SIZE(shape.get()) > 0) {
      int rank = static_cast<int>(PyTuple_GET_SIZE(shape.get()));
      std::vector<hsize_t> dims(static_cast<size_t>(rank));
      if (H5Pget_chunk(dcpl, rank, dims.data()) == rank) {
        chunks = Ref::Steal(PyTuple_New(rank));
        for (int i = 0; i < rank; ++i) PyTuple_SET_ITEM(chunks.get(), i, PyInt(static_cast<long long>(dims[i])).release());
      }
    }
    Ref fillvalue = PyNone();
    H5D_fill_value_t fill_status = H5D_FILL_VALUE_DEFAULT;
    if (H5Pfill_value_defined(dcpl, &fill_status) >= 0 && fill_status == H5D_FILL_VALUE_USER_DEFINED &&
        H5Tis_variable_str(type_id) <= 0) {
      std::vector<char> value(H5Tget_size(type_id));
      Check(H5Pget_fill_value(dcpl, type_id, value.data()), "reading the fill value");
      Ref bytes = Ref::Steal(PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size())));
      fillvalue = Ref::Borrow(NumpyFrombuffer())({bytes.get(), dtype.get()}).Call("__getitem__", {PyInt(0).get()});
    }
    Ref ids = PyTupleOf({PyInt(static_cast<long long>(reinterpret_cast<uintptr_t>(loc))).get(), PyInt(lcpl_id).get(),
                         PyInt(type_id).get(), PyInt(space_id).get(), PyInt(dcpl_id).get(), PyInt(dapl_id).get(),
                         PyInt(dxpl_id).get()});
    Ref node = anonymous ? at.node().Call("create_anonymous_dataset",
                                          {dtype.get(), shape.get(), maxshape.get(), chunks.get(), fillvalue.get()})
                         : at.node().Call("create_dataset", {Str(name).get(), PyBool(Intermediate(lcpl_id)).get(),
                                                             dtype.get(), shape.get(), maxshape.get(), chunks.get(),
                                                             fillvalue.get(), ids.get()});
    return MakeHandle(node, h.file, H5I_DATASET, [&](Handle& d) {
      d.type = Hid(CheckId(H5Tcopy(type_id), "copying the datatype"));
      d.space = Hid(CheckId(H5Scopy(space_id), "copying the dataspace"));
      d.plist = Hid(CheckId(H5Pcopy(dcpl), "copying the DCPL"));
      FinishTypedHandle(d);
      if (anonymous) return;
      std::lock_guard<std::mutex> lock(CreatedMutex());
      CreatedRecord& r = Created()[CreatedKey(d)];
      r.type = Hid(H5Tcopy(type_id));
      r.space = Hid(H5Scopy(space_id));
      r.dcpl = Hid(H5Pcopy(dcpl));
    });
  });
}

void* DatasetOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  return Guarded<void*>(__func__, H5E_DATASET, H5E_CANTOPENOBJ, [&]() -> void* {
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    Ref node = at.node().Call("open", {Str(name).get()});
    if (KindOf(node) != H5I_DATASET) {
      node.Call("close", {});
      throw BridgeError(H5E_DATASET, H5E_BADTYPE, std::string("'") + name + "' is not a dataset");
    }
    return OpenedHandle(node, h.file);
  });
}

herr_t DatasetRead(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                   hid_t file_space_id[], hid_t dxpl_id, void* buf[], void**) {
  return Guarded<herr_t>(__func__, H5E_DATASET, H5E_READERROR, [&]() -> herr_t {
    for (size_t i = 0; i < count; ++i) {
      Handle& d = AsHandle(dset[i]);
      RequireIo(d, d.read_fn, "read");
      ReadDataset(d, mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i]);
    }
    return 0;
  });
}

herr_t DatasetWrite(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                    hid_t file_space_id[], hid_t dxpl_id, const void* buf[], void**) {
  return Guarded<herr_t>(__func__, H5E_DATASET, H5E_WRITEERROR, [&]() -> herr_t {
    for (size_t i = 0; i < count; ++i) {
      Handle& d = AsHandle(dset[i]);
      if (!(d.file->intent & H5F_ACC_RDWR)) {
        throw BridgeError(H5E_DATASET, H5E_WRITEERROR, "file '" + d.file->name + "' is open read-only", 13);
      }
      RequireIo(d, d.write_fn, "write");
      WriteDataset(d, mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i]);
    }
    return 0;
  });
}

herr_t DatasetGet(void* obj, H5VL_dataset_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_DATASET, H5E_CANTGET, [&]() -> herr_t {
    Handle& d = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_DATASET_GET_DAPL:
        args->args.get_dapl.dapl_id = CheckId(H5Pcreate(H5P_DATASET_ACCESS), "creating a DAPL");
        return 0;
      case H5VL_DATASET_GET_DCPL:
        args->args.get_dcpl.dcpl_id = CheckId(H5Pcopy(d.plist.get()), "copying the DCPL");
        return 0;
      case H5VL_DATASET_GET_SPACE:
        args->args.get_space.space_id = CheckId(H5Scopy(d.space.get()), "copying the dataspace");
        return 0;
      case H5VL_DATASET_GET_SPACE_STATUS:
        *args->args.get_space_status.status = H5D_SPACE_STATUS_ALLOCATED;
        return 0;
      case H5VL_DATASET_GET_STORAGE_SIZE: {
        hssize_t n = H5Sget_simple_extent_npoints(d.space.get());
        *args->args.get_storage_size.storage_size = static_cast<hsize_t>(n < 0 ? 0 : n) * d.type_size;
        return 0;
      }
      case H5VL_DATASET_GET_TYPE:
        args->args.get_type.type_id = CheckId(H5Tcopy(d.type.get()), "copying the datatype");
        return 0;
    }
    throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED, "dataset get operation not supported");
  });
}

herr_t DatasetSpecific(void* obj, H5VL_dataset_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_DATASET, H5E_CANTSET, [&]() -> herr_t {
    Handle& d = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_DATASET_SET_EXTENT: {
        if (!(d.file->intent & H5F_ACC_RDWR)) {
          throw BridgeError(H5E_DATASET, H5E_CANTSET, "file '" + d.file->name + "' is open read-only", 13);
        }
        int rank = H5Sget_simple_extent_ndims(d.space.get());
        std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0))), maxdims(dims.size());
        Check(H5Sget_simple_extent_dims(d.space.get(), dims.data(), maxdims.data()), "reading the dataspace");
        Ref shape = Ref::Steal(PyTuple_New(rank));
        for (int i = 0; i < rank; ++i) {
          hsize_t n = args->args.set_extent.size[i];
          if (maxdims[i] != H5S_UNLIMITED && n > maxdims[i]) {
            throw BridgeError(H5E_DATASET, H5E_BADRANGE,
                              "dimension " + std::to_string(i) + " cannot grow to " + std::to_string(n) +
                                  " beyond its maximum " + std::to_string(maxdims[i]));
          }
          dims[i] = n;
          PyTuple_SET_ITEM(shape.get(), i, PyInt(static_cast<long long>(n)).release());
        }
        d.node.Call("set_extent", {shape.get()});
        Check(H5Sset_extent_simple(d.space.get(), rank, dims.data(), maxdims.data()), "resizing the dataspace");
        return 0;
      }
      case H5VL_DATASET_FLUSH:
      case H5VL_DATASET_REFRESH:
        return 0;
    }
    throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED, "dataset operation not supported");
  });
}

herr_t DatasetOptional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_DATASET, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED,
                      "native-only dataset operation " + std::to_string(args->op_type) +
                          " (direct chunk I/O, chunk queries) is not supported by pyvol");
  });
}

herr_t DatasetClose(void* obj, hid_t, void**) { return CloseAny(__func__, H5E_DATASET, obj); }

// ---------------------------------------------------------------------------------------------
// Attributes

Handle* AttributeHandle(Ref node, const std::shared_ptr<FileState>& file, const std::string& name,
                        hid_t type_id, hid_t space_id, hid_t acpl_id) {
  return MakeHandle(node, file, H5I_ATTR, [&](Handle& a) {
    a.attr_name = name;
    if (type_id >= 0) {
      a.type = Hid(CheckId(H5Tcopy(type_id), "copying the datatype"));
      a.space = Hid(CheckId(H5Scopy(space_id), "copying the dataspace"));
    } else {
      Ref meta = a.node.Call("meta", {});
      a.type = TypeOfDtype(PyTuple_GetItem(meta.get(), 0));
      a.space = SpaceOf(PyTuple_GetItem(meta.get(), 1), nullptr);
    }
    a.plist = Hid(CheckId(acpl_id >= 0 && acpl_id != H5P_DEFAULT ? H5Pcopy(acpl_id) : H5Pcreate(H5P_ATTRIBUTE_CREATE),
                          "copying the ACPL"));
    FinishTypedHandle(a);
  });
}

void* AttrCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type_id, hid_t space_id,
                 hid_t acpl_id, hid_t, hid_t, void**) {
  return Guarded<void*>(__func__, H5E_ATTR, H5E_CANTCREATE, [&]() -> void* {
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    Ref dtype = DtypeOf(type_id);
    Ref shape = ShapeOf(space_id, nullptr);
    Ref node = at.node().Call("attr_create", {Str(name).get(), dtype.get(), shape.get()});
    return AttributeHandle(node, h.file, name, type_id, space_id, acpl_id);
  });
}

void* AttrOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  return Guarded<void*>(__func__, H5E_ATTR, H5E_CANTOPENOBJ, [&]() -> void* {
    Handle& h = AsHandle(obj);
    Ref node;
    std::string attr_name = name == nullptr ? "" : name;
    if (loc->type == H5VL_OBJECT_BY_IDX) {
      // H5Aopen_by_idx: the object by name, the attribute by index.
      const auto& by = loc->loc_data.loc_by_idx;
      H5VL_loc_params_t object_loc;
      object_loc.obj_type = loc->obj_type;
      object_loc.type = H5VL_OBJECT_BY_NAME;
      object_loc.loc_data.loc_by_name.name = by.name;
      object_loc.loc_data.loc_by_name.lapl_id = by.lapl_id;
      Located at(h, &object_loc);
      node = at.node().Call("attr_open_by_index", {PyInt(by.order).get(), PyInt(static_cast<long long>(by.n)).get()});
      attr_name = AsString(node.Attr("name").get(), "attribute name");
    } else {
      Located at(h, loc);
      node = at.node().Call("attr_open", {Str(name).get()});
    }
    return AttributeHandle(node, h.file, attr_name, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID);
  });
}

herr_t AttrRead(void* obj, hid_t mem_type_id, void* buf, hid_t dxpl_id, void**) {
  return Guarded<herr_t>(__func__, H5E_ATTR, H5E_READERROR, [&]() -> herr_t {
    Handle& a = AsHandle(obj);
    RequireIo(a, a.read_fn, "read");
    ReadAttribute(a, mem_type_id, dxpl_id, buf);
    return 0;
  });
}

herr_t AttrWrite(void* obj, hid_t mem_type_id, const void* buf, hid_t dxpl_id, void**) {
  return Guarded<herr_t>(__func__, H5E_ATTR, H5E_WRITEERROR, [&]() -> herr_t {
    Handle& a = AsHandle(obj);
    if (!(a.file->intent & H5F_ACC_RDWR)) {
      throw BridgeError(H5E_ATTR, H5E_WRITEERROR, "file '" + a.file->name + "' is open read-only", 13);
    }
    RequireIo(a, a.write_fn, "write");
    WriteAttribute(a, mem_type_id, dxpl_id, buf);
    return 0;
  });
}

// The object an attribute callback's location designates (for an attribute handle: its owner).
Ref OwnerNode(Handle& h, const H5VL_loc_params_t* loc, std::unique_ptr<Located>* holder) {
  *holder = std::make_unique<Located>(h, loc);
  return (*holder)->node();
}

herr_t AttrGet(void* obj, H5VL_attr_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_ATTR, H5E_CANTGET, [&]() -> herr_t {
    Handle& a = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_ATTR_GET_ACPL:
        args->args.get_acpl.acpl_id = CheckId(
            a.plist.valid() ? H5Pcopy(a.plist.get()) : H5Pcreate(H5P_ATTRIBUTE_CREATE), "copying the ACPL");
        return 0;
      case H5VL_ATTR_GET_SPACE:
        args->args.get_space.space_id = CheckId(H5Scopy(a.space.get()), "copying the dataspace");
        return 0;
      case H5VL_ATTR_GET_TYPE:
        args->args.get_type.type_id = CheckId(H5Tcopy(a.type.get()), "copying the datatype");
        return 0;
      case H5VL_ATTR_GET_STORAGE_SIZE: {
        hssize_t n = H5Sget_simple_extent_npoints(a.space.get());
        *args->args.get_storage_size.data_size = static_cast<hsize_t>(n < 0 ? 0 : n) * a.type_size;
        return 0;
      }
      case H5VL_ATTR_GET_NAME: {
        auto& g = args->args.get_name;
        std::string name;
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
          name = a.attr_name;
        } else if (g.loc_params.type == H5VL_OBJECT_BY_IDX) {
          const auto& by = g.loc_params.loc_data.loc_by_idx;
          Ref owner = a.node.Call("open", {Str(by.name).get()});
          Ref names = owner.Call("attr_names", {PyInt(by.order).get()});
          owner.Call("close", {});
          if (static_cast<Py_ssize_t>(by.n) >= PyList_Size(names.get())) {
            throw BridgeError(H5E_ATTR, H5E_BADRANGE, "attribute index out of range");
          }
          name = AsString(PyList_GetItem(names.get(), static_cast<Py_ssize_t>(by.n)), "attribute name");
        } else {
          throw BridgeError(H5E_ATTR, H5E_UNSUPPORTED, "attribute name lookup by this location");
        }
        CopyName(name, g.buf, g.buf_size, g.attr_name_len);
        return 0;
      }
      case H5VL_ATTR_GET_INFO: {
        auto& g = args->args.get_info;
        H5A_info_t* info = g.ainfo;
        std::memset(info, 0, sizeof *info);
        info->corder_valid = false;
        info->cset = H5T_CSET_UTF8;
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF && a.kind == H5I_ATTR) {
          hssize_t n = H5Sget_simple_extent_npoints(a.space.get());
          info->data_size = static_cast<hsize_t>(n < 0 ? 0 : n) * a.type_size;
          return 0;
        }
        std::unique_ptr<Located> holder;
        Ref owner = OwnerNode(a, &g.loc_params, &holder);
        Ref attr = owner.Call("attr_open", {Str(g.attr_name).get()});
        Ref meta = attr.Call("meta", {});
        attr.Call("close", {});
        Hid type = TypeOfDtype(PyTuple_GetItem(meta.get(), 0));
        Hid space = SpaceOf(PyTuple_GetItem(meta.get(), 1), nullptr);
        hssize_t n = H5Sget_simple_extent_npoints(space.get());
        info->data_size = static_cast<hsize_t>(n < 0 ? 0 : n) * H5Tget_size(type.get());
        return 0;
      }
    }
    throw BridgeError(H5E_ATTR, H5E_UNSUPPORTED, "attribute get operation not supported");
  });
}

herr_t AttrSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_ATTR, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    switch (args->op_type) {
      case H5VL_ATTR_DELETE:
        at.node().Call("attr_delete", {Str(args->args.del.name).get()});
        return 0;
      case H5VL_ATTR_DELETE_BY_IDX: {
        const auto& a = args->args.delete_by_idx;
        Ref names = at.node().Call("attr_names", {PyInt(a.order).get()});
        if (static_cast<Py_ssize_t>(a.n) >= PyList_Size(names.get())) {
          throw BridgeError(H5E_ATTR, H5E_BADRANGE, "attribute index out of range");
        }
        at.node().Call("attr_delete", {PyList_GetItem(names.get(), static_cast<Py_ssize_t>(a.n))});
        return 0;
      }
      case H5VL_ATTR_EXISTS:
        *args->args.exists.exists =
            AsBool(at.node().Call("attr_exists", {Str(args->args.exists.name).get()}).get(), "attr_exists");
        return 0;
      case H5VL_ATTR_RENAME:
        at.node().Call("attr_rename", {Str(args->args.rename.old_name).get(), Str(args->args.rename.new_name).get()});
        return 0;
      case H5VL_ATTR_ITER: {
        auto& it = args->args.iterate;
        Ref names = at.node().Call("attr_names", {PyInt(it.order).get()});
        std::vector<std::string> list;
        for (Py_ssize_t i = 0; i < PyList_Size(names.get()); ++i) {
          list.push_back(AsString(PyList_GetItem(names.get(), i), "attribute name"));
        }
        hid_t loc_id = RegisterIterationId(h, at);
        herr_t ret = 0;
        hsize_t i = it.idx != nullptr ? *it.idx : 0;
        for (; i < list.size() && ret == 0; ++i) {
          H5A_info_t info;
          std::memset(&info, 0, sizeof info);
          info.cset = H5T_CSET_UTF8;
          ret = it.op(loc_id, list[i].c_str(), &info, it.op_data);
        }
        if (it.idx != nullptr) *it.idx = i;
        H5Idec_ref(loc_id);
        return ret;
      }
    }
    throw BridgeError(H5E_ATTR, H5E_UNSUPPORTED, "attribute operation not supported");
  });
}

herr_t AttrOptional(void*, H5VL_optional_args_t*, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_ATTR, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_ATTR, H5E_UNSUPPORTED, "native-only attribute operation is not supported by pyvol");
  });
}

herr_t AttrClose(void* obj, hid_t, void**) { return CloseAny(__func__, H5E_ATTR, obj); }

// ---------------------------------------------------------------------------------------------
// Links

// The link name a link callback's location designates (BY_NAME, or BY_IDX resolved to a name).
std::string LinkName(Handle& h, const H5VL_loc_params_t* loc) {
  if (loc->type == H5VL_OBJECT_BY_NAME) return loc->loc_data.loc_by_name.name;
  if (loc->type == H5VL_OBJECT_BY_IDX) {
    const auto& by = loc->loc_data.loc_by_idx;
    Ref name = h.node.Call("link_name_by_index", {Str(by.name).get(), PyInt(by.order).get(),
                                                  PyInt(static_cast<long long>(by.n)).get()});
    std::string group = by.name;
    std::string link = AsString(name.get(), "link name");
    return group == "." || group.empty() ? link : group + "/" + link;
  }
  throw BridgeError(H5E_LINK, H5E_BADVALUE, "a link operation needs a link name");
}

herr_t LinkCreate(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc, hid_t lcpl_id,
                  hid_t, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_CANTCREATE, [&]() -> herr_t {
    void* where = obj != nullptr ? obj : (args->op_type == H5VL_LINK_CREATE_HARD ? args->args.hard.curr_obj : nullptr);
    if (where == nullptr) throw BridgeError(H5E_LINK, H5E_BADVALUE, "no location for the new link");
    Handle& h = AsHandle(where);
    std::string name = LinkName(h, loc);
    const bool intermediate = Intermediate(lcpl_id);
    switch (args->op_type) {
      case H5VL_LINK_CREATE_HARD: {
        void* target_obj = args->args.hard.curr_obj != nullptr ? args->args.hard.curr_obj : obj;
        Handle& target_handle = AsHandle(target_obj);
        Located target(target_handle, &args->args.hard.curr_loc_params);
        h.node.Call("create_hard_link", {Str(name.c_str()).get(), target.node().get(), PyBool(intermediate).get()});
        if (args->args.hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF && target_handle.kind == H5I_DATASET &&
            target_handle.path.empty()) {
          // H5Olink of an anonymous dataset: the Node now holds the connector's dataset.
          target_handle.path = AsString(target_handle.node.Attr("path").get(), "node path");
          FinishTypedHandle(target_handle);
        }
        return 0;
      }
      case H5VL_LINK_CREATE_SOFT:
        h.node.Call("create_soft_link", {Str(name.c_str()).get(), Str(args->args.soft.target).get(),
                                         PyBool(intermediate).get()});
        return 0;
      case H5VL_LINK_CREATE_UD:
        throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "external and user-defined links are not supported by pyvol");
    }
    throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "link creation not supported");
  });
}

herr_t LinkCopy(void*, const H5VL_loc_params_t*, void*, const H5VL_loc_params_t*, hid_t, hid_t, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "H5Lcopy is not supported by pyvol");
  });
}

herr_t LinkMove(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj, const H5VL_loc_params_t* loc2,
                hid_t lcpl_id, hid_t, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_CANTMOVE, [&]() -> herr_t {
    Handle& src = AsHandle(src_obj != nullptr ? src_obj : dst_obj);
    Handle& dst = AsHandle(dst_obj != nullptr ? dst_obj : src_obj);
    std::string from = LinkName(src, loc1);
    std::string to = LinkName(dst, loc2);
    src.node.Call("move_link", {Str(from.c_str()).get(), dst.node.get(), Str(to.c_str()).get(),
                                PyBool(Intermediate(lcpl_id)).get()});
    return 0;
  });
}

void FillLinkInfo(PyObject* entry_soft, PyObject* value, H5L_info2_t* info) {
  std::memset(info, 0, sizeof *info);
  info->corder_valid = false;
  info->cset = H5T_CSET_UTF8;
  if (AsBool(entry_soft, "is_soft")) {
    info->type = H5L_TYPE_SOFT;
    info->u.val_size = AsString(value, "soft link target").size() + 1;
  } else {
    info->type = H5L_TYPE_HARD;
    info->u.token = TokenOf(value);
  }
}

herr_t LinkGet(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    std::string name = LinkName(h, loc);
    switch (args->op_type) {
      case H5VL_LINK_GET_INFO: {
        Ref entry = h.node.Call("link_info", {Str(name.c_str()).get()});
        FillLinkInfo(PyTuple_GetItem(entry.get(), 0), PyTuple_GetItem(entry.get(), 1), args->args.get_info.linfo);
        return 0;
      }
      case H5VL_LINK_GET_NAME: {
        auto& g = args->args.get_name;
        std::string last = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
        CopyName(last, g.name, g.name_size, g.name_len);
        return 0;
      }
      case H5VL_LINK_GET_VAL: {
        Ref entry = h.node.Call("link_info", {Str(name.c_str()).get()});
        if (!AsBool(PyTuple_GetItem(entry.get(), 0), "is_soft")) {
          throw BridgeError(H5E_LINK, H5E_BADTYPE, "'" + name + "' is a hard link: it has no value");
        }
        std::string target = AsString(PyTuple_GetItem(entry.get(), 1), "soft link target");
        auto& g = args->args.get_val;
        if (g.buf != nullptr && g.buf_size > 0) {
          size_t n = std::min(target.size() + 1, g.buf_size);
          std::memcpy(g.buf, target.c_str(), n);
        }
        return 0;
      }
    }
    throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "link get operation not supported");
  });
}

herr_t LinkSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_LINK_DELETE:
        h.node.Call("delete_link", {Str(LinkName(h, loc).c_str()).get()});
        return 0;
      case H5VL_LINK_EXISTS:
        *args->args.exists.exists =
            AsBool(h.node.Call("link_exists", {Str(LinkName(h, loc).c_str()).get()}).get(), "link_exists");
        return 0;
      case H5VL_LINK_ITER: {
        auto& it = args->args.iterate;
        Located at(h, loc);
        Ref entries = at.node().Call("link_entries", {PyBool(it.recursive).get(), PyInt(it.order).get()});
        struct Entry {
          std::string name;
          H5L_info2_t info;
        };
        std::vector<Entry> list;
        for (Py_ssize_t i = 0; i < PyList_Size(entries.get()); ++i) {
          PyObject* e = PyList_GetItem(entries.get(), i);
          Entry entry;
          entry.name = AsString(PyTuple_GetItem(e, 0), "link name");
          FillLinkInfo(PyTuple_GetItem(e, 1), PyTuple_GetItem(e, 2), &entry.info);
          list.push_back(std::move(entry));
        }
        hid_t group_id = RegisterIterationId(h, at);
        herr_t ret = 0;
        hsize_t i = (!it.recursive && it.idx_p != nullptr) ? *it.idx_p : 0;
        for (; i < list.size() && ret == 0; ++i) {
          ret = it.op(group_id, list[i].name.c_str(), &list[i].info, it.op_data);
        }
        if (!it.recursive && it.idx_p != nullptr) *it.idx_p = i;
        H5Idec_ref(group_id);
        return ret;
      }
    }
    throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "link operation not supported");
  });
}

herr_t LinkOptional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t*, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_LINK, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_LINK, H5E_UNSUPPORTED, "native-only link operation is not supported by pyvol");
  });
}

// ---------------------------------------------------------------------------------------------
// Objects

void* ObjectOpen(void* obj, const H5VL_loc_params_t* loc, H5I_type_t* opened_type, hid_t, void**) {
  return Guarded<void*>(__func__, H5E_OHDR, H5E_CANTOPENOBJ, [&]() -> void* {
    Handle& h = AsHandle(obj);
    Located at(h, loc);
    Handle* opened = OpenedHandle(at.Take(), h.file);
    *opened_type = opened->kind;
    return opened;
  });
}

herr_t ObjectCopy(void*, const H5VL_loc_params_t*, const char*, void*, const H5VL_loc_params_t*, const char*,
                  hid_t, hid_t, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_OHDR, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_OHDR, H5E_UNSUPPORTED, "H5Ocopy is not supported by pyvol");
  });
}

void FillObjectInfo(const FileState& file, H5I_type_t kind, PyObject* token, long long num_attrs, H5O_info2_t* info) {
  std::memset(info, 0, sizeof *info);
  info->fileno = file.fileno;
  info->token = TokenOf(token);
  info->type = ObjectTypeOf(kind == H5I_FILE ? H5I_GROUP : kind);
  info->rc = 1;
  info->num_attrs = static_cast<hsize_t>(num_attrs);
}

herr_t ObjectGet(void* obj, const H5VL_loc_params_t* loc, H5VL_object_get_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_OHDR, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_OBJECT_GET_FILE: {
        // The very pointer file create/open returned while an ID refers to it; otherwise a new
        // file handle, for which the library registers a new ID (whose close comes back to us).
        FileState& f = *h.file;
        if (f.file_handle == nullptr) {
          auto fh = std::make_unique<Handle>();
          fh->kind = H5I_FILE;
          fh->node = f.node;
          fh->file = h.file;
          fh->legacy = f.legacy;
          fh->path = "/";
          f.file_handle = fh.release();
        }
        *args->args.get_file.file = f.file_handle;
        return 0;
      }
      case H5VL_OBJECT_GET_NAME: {
        Located at(h, loc);
        auto& g = args->args.get_name;
        CopyName(AsString(at.node().Attr("path").get(), "path"), g.buf, g.buf_size, g.name_len);
        return 0;
      }
      case H5VL_OBJECT_GET_TYPE: {
        Located at(h, loc);
        *args->args.get_type.obj_type = ObjectTypeOf(KindOf(at.node()));
        return 0;
      }
      case H5VL_OBJECT_GET_INFO: {
        Located at(h, loc);
        const unsigned fields = args->args.get_info.fields;
        long long num_attrs = 0;
        if (fields & H5O_INFO_NUM_ATTRS) num_attrs = AsLong(at.node().Call("num_attrs", {}).get(), "num_attrs");
        FillObjectInfo(*h.file, KindOf(at.node()), at.node().Call("token", {}).get(), num_attrs,
                       args->args.get_info.oinfo);
        return 0;
      }
    }
    throw BridgeError(H5E_OHDR, H5E_UNSUPPORTED, "object get operation not supported");
  });
}

herr_t ObjectSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_object_specific_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_OHDR, H5E_CANTGET, [&]() -> herr_t {
    Handle& h = AsHandle(obj);
    switch (args->op_type) {
      case H5VL_OBJECT_EXISTS: {
        if (loc->type != H5VL_OBJECT_BY_NAME) {
          *args->args.exists.exists = true;
          return 0;
        }
        *args->args.exists.exists =
            AsBool(h.node.Call("exists", {Str(loc->loc_data.loc_by_name.name).get()}).get(), "exists");
        return 0;
      }
      case H5VL_OBJECT_LOOKUP: {
        Located at(h, loc);
        *args->args.lookup.token_ptr = TokenOf(at.node().Call("token", {}).get());
        return 0;
      }
      case H5VL_OBJECT_VISIT: {
        auto& v = args->args.visit;
        Located at(h, loc);
        Ref entries = at.node().Call("object_entries", {PyInt(v.order).get(),
                                                        PyBool((v.fields & H5O_INFO_NUM_ATTRS) != 0).get()});
        struct Entry {
          std::string name;
          H5O_info2_t info;
        };
        std::vector<Entry> list;
        for (Py_ssize_t i = 0; i < PyList_Size(entries.get()); ++i) {
          PyObject* e = PyList_GetItem(entries.get(), i);
          Entry entry;
          entry.name = AsString(PyTuple_GetItem(e, 0), "object name");
          FillObjectInfo(*h.file, static_cast<H5I_type_t>(AsLong(PyTuple_GetItem(e, 1), "kind")),
                         PyTuple_GetItem(e, 2), AsLong(PyTuple_GetItem(e, 3), "num_attrs"), &entry.info);
          list.push_back(std::move(entry));
        }
        hid_t start_id = RegisterIterationId(h, at);
        herr_t ret = 0;
        for (size_t i = 0; i < list.size() && ret == 0; ++i) {
          ret = v.op(start_id, list[i].name.c_str(), &list[i].info, v.op_data);
        }
        H5Idec_ref(start_id);
        return ret;
      }
      case H5VL_OBJECT_FLUSH:
      case H5VL_OBJECT_REFRESH:
        return 0;
      case H5VL_OBJECT_CHANGE_REF_COUNT:
        throw BridgeError(H5E_OHDR, H5E_UNSUPPORTED, "object reference counts are not supported by pyvol");
    }
    throw BridgeError(H5E_OHDR, H5E_UNSUPPORTED, "object operation not supported");
  });
}

herr_t ObjectOptional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t* args, hid_t, void**) {
  return Guarded<herr_t>(__func__, H5E_OHDR, H5E_UNSUPPORTED, [&]() -> herr_t {
    throw BridgeError(H5E_OHDR, H5E_UNSUPPORTED,
                      "native-only object operation " + std::to_string(args->op_type) + " is not supported by pyvol");
  });
}

// ---------------------------------------------------------------------------------------------

const H5VL_class_t kObjectClass = {
    H5VL_VERSION, 0, "pyvol-core", 1, 0, nullptr, nullptr,
    {0, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
    {AttrCreate, AttrOpen, AttrRead, AttrWrite, AttrGet, AttrSpecific, AttrOptional, AttrClose},
    {DatasetCreate, DatasetOpen, DatasetRead, DatasetWrite, DatasetGet, DatasetSpecific, DatasetOptional,
     DatasetClose},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, nullptr, FileGet, FileSpecific, FileOptional, FileClose},
    {GroupCreate, GroupOpen, GroupGet, GroupSpecific, GroupOptional, GroupClose},
    {LinkCreate, LinkCopy, LinkMove, LinkGet, LinkSpecific, LinkOptional},
    {ObjectOpen, ObjectCopy, ObjectGet, ObjectSpecific, ObjectOptional},
    {nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr},
    nullptr,
};

const nimbus_pyvol_core_t kCore = {
    NIMBUS_PYVOL_CORE_ABI, &kObjectClass, FileCreateEntry, FileOpenEntry, FileSpecificUnbound, LiveHandleCount,
};

}  // namespace
}  // namespace nimbus::pyvol

extern "C" __attribute__((visibility("default"))) const nimbus_pyvol_core_t* nimbus_pyvol_core(void) {
  return &nimbus::pyvol::kCore;
}
