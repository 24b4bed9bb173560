#include "pyvol/core/io.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "vol/memory_selection.h"

namespace nimbus::pyvol {
namespace {

void Check(herr_t status, const char* what) {
  if (status < 0) throw BridgeError(H5E_DATASET, H5E_CANTGET, std::string("HDF5 failed while ") + what);
}

// ---------------------------------------------------------------------------------------------
// File selection -> numpy index

struct FileSelection {
  uint64_t count = 0;
  bool all = false;
  Ref index;  // tuple usable as numpy index
  Ref shape;  // tuple: shape of dataset[index]
};

Ref ShapeTuple(const std::vector<hsize_t>& dims) {
  Ref t = Ref::Steal(PyTuple_New(static_cast<Py_ssize_t>(dims.size())));
  for (size_t i = 0; i < dims.size(); ++i) {
    PyTuple_SET_ITEM(t.get(), static_cast<Py_ssize_t>(i), PyInt(static_cast<long long>(dims[i])).release());
  }
  return t;
}

Ref Slice(hsize_t start, hsize_t stop, hsize_t step) {
  Ref a = PyInt(static_cast<long long>(start)), b = PyInt(static_cast<long long>(stop));
  Ref c = step == 1 ? PyNone() : PyInt(static_cast<long long>(step));
  return Ref::Steal(PySlice_New(a.get(), b.get(), c.get()));
}

FileSelection AllOf(const std::vector<hsize_t>& dims) {
  FileSelection s;
  s.all = true;
  s.count = 1;
  Ref index = Ref::Steal(PyTuple_New(static_cast<Py_ssize_t>(dims.size())));
  for (size_t i = 0; i < dims.size(); ++i) {
    s.count *= dims[i];
    PyTuple_SET_ITEM(index.get(), static_cast<Py_ssize_t>(i), Slice(0, dims[i], 1).release());
  }
  s.index = index;
  s.shape = ShapeTuple(dims);
  return s;
}

// Coordinates (point-major, rank per point) -> (array_dim0, array_dim1, ...).
FileSelection PointsOf(const std::vector<hsize_t>& coords, size_t rank) {
  FileSelection s;
  s.count = rank == 0 ? 0 : coords.size() / rank;
  std::vector<int64_t> by_dim(coords.size());
  for (size_t i = 0; i < s.count; ++i) {
    for (size_t d = 0; d < rank; ++d) by_dim[d * s.count + i] = static_cast<int64_t>(coords[i * rank + d]);
  }
  Ref bytes = Ref::Steal(PyBytes_FromStringAndSize(reinterpret_cast<const char*>(by_dim.data()),
                                                   static_cast<Py_ssize_t>(by_dim.size() * sizeof(int64_t))));
  Ref int64 = PyStr("<i8");
  Ref flat = Ref::Borrow(NumpyFrombuffer())({bytes.get(), int64.get()});
  Ref shaped = flat.Call("reshape", {PyInt(static_cast<long long>(rank)).get(),
                                      PyInt(static_cast<long long>(s.count)).get()});
  s.index = Ref::Steal(PySequence_Tuple(shaped.get()));
  s.shape = ShapeTuple({s.count});
  return s;
}

// Linear offsets of the selected elements in HDF5's order.
std::vector<hsize_t> SelectedOffsets(hid_t space) {
  Hid iter(H5Ssel_iter_create(space, 1, 0));
  if (!iter.valid()) Check(-1, "iterating a selection");
  std::vector<hsize_t> out;
  constexpr size_t kMaxSeq = 1024;
  std::vector<hsize_t> off(kMaxSeq);
  std::vector<size_t> len(kMaxSeq);
  for (;;) {
    size_t nseq = 0, nbytes = 0;
    Check(H5Ssel_iter_get_seq_list(iter.get(), kMaxSeq, SIZE_MAX, &nseq, &nbytes, off.data(), len.data()),
          "iterating a selection");
    if (nseq == 0) break;
    for (size_t i = 0; i < nseq; ++i) {
      for (size_t k = 0; k < len[i]; ++k) out.push_back(off[i] + k);
    }
  }
  return out;
}

FileSelection DescribeSelection(hid_t file_space, const std::vector<hsize_t>& dims) {
  const size_t rank = dims.size();
  if (file_space == H5S_ALL) return AllOf(dims);
  if (file_space == H5S_BLOCK || file_space == H5S_PLIST) {
    throw BridgeError(H5E_DATASPACE, H5E_UNSUPPORTED,
                      "H5S_BLOCK and H5S_PLIST are not supported as the file dataspace");
  }
  H5S_class_t cls = H5Sget_simple_extent_type(file_space);
  if (cls == H5S_NULL) return FileSelection{};
  if (cls == H5S_SCALAR || rank == 0) {
    FileSelection s = AllOf({});
    if (H5Sget_select_npoints(file_space) == 0) s.count = 0;
    return s;
  }
  int space_rank = H5Sget_simple_extent_ndims(file_space);
  if (space_rank != static_cast<int>(rank)) {
    throw BridgeError(H5E_DATASPACE, H5E_BADRANGE,
                      "the file dataspace has rank " + std::to_string(space_rank) +
                          " but the dataset has rank " + std::to_string(rank));
  }
  const H5S_sel_type type = H5Sget_select_type(file_space);
  if (type == H5S_SEL_NONE) return PointsOf({}, rank);
  if (type == H5S_SEL_ALL) return AllOf(dims);
  // H5Soffset_simple shifts a selection (h5py's broadcasting writes do) and only the bounds show
  // it: work on an unshifted copy and add the shift to every coordinate.
  std::vector<hssize_t> shift(rank, 0);
  Hid unshifted(H5Scopy(file_space));
  if (!unshifted.valid()) Check(-1, "copying the file selection");
  {
    std::vector<hsize_t> lo(rank), hi(rank), lo0(rank), hi0(rank);
    std::vector<hssize_t> zero(rank, 0);
    Check(H5Sget_select_bounds(file_space, lo.data(), hi.data()), "reading selection bounds");
    Check(H5Soffset_simple(unshifted.get(), zero.data()), "reading selection bounds");
    Check(H5Sget_select_bounds(unshifted.get(), lo0.data(), hi0.data()), "reading selection bounds");
    for (size_t d = 0; d < rank; ++d) shift[d] = static_cast<hssize_t>(lo[d]) - static_cast<hssize_t>(lo0[d]);
  }
  hid_t space = unshifted.get();
  if (type == H5S_SEL_POINTS) {
    hssize_t n = H5Sget_select_elem_npoints(space);
    if (n < 0) Check(-1, "reading a point selection");
    std::vector<hsize_t> coords(static_cast<size_t>(n) * rank);
    if (n > 0) Check(H5Sget_select_elem_pointlist(space, 0, static_cast<hsize_t>(n), coords.data()),
                     "reading a point selection");
    for (size_t i = 0; i < coords.size(); ++i) coords[i] += shift[i % rank];
    return PointsOf(coords, rank);
  }
  htri_t regular = H5Sis_regular_hyperslab(space);
  if (regular < 0) Check(-1, "reading a hyperslab selection");
  if (regular > 0) {
    std::vector<hsize_t> start(rank), stride(rank), count(rank), block(rank);
    Check(H5Sget_regular_hyperslab(space, start.data(), stride.data(), count.data(), block.data()),
          "reading a hyperslab selection");
    bool expressible = true;
    for (size_t d = 0; d < rank; ++d) {
      if (!(block[d] == 1 || count[d] == 1 || stride[d] == block[d])) expressible = false;
    }
    if (expressible) {
      FileSelection s;
      s.count = 1;
      std::vector<hsize_t> shape(rank);
      Ref index = Ref::Steal(PyTuple_New(static_cast<Py_ssize_t>(rank)));
      for (size_t d = 0; d < rank; ++d) {
        hsize_t first = start[d] + shift[d];
        Ref slice;
        if (block[d] == 1) {
          shape[d] = count[d];
          slice = Slice(first, first + (count[d] - 1) * stride[d] + 1, count[d] > 1 ? stride[d] : 1);
        } else {
          shape[d] = count[d] * block[d];
          slice = Slice(first, first + shape[d], 1);
        }
        s.count *= shape[d];
        PyTuple_SET_ITEM(index.get(), static_cast<Py_ssize_t>(d), slice.release());
      }
      s.index = index;
      s.shape = ShapeTuple(shape);
      return s;
    }
  }
  // Unions of blocks (and strided blocks): every element, in HDF5's order, as points.
  std::vector<hsize_t> offsets = SelectedOffsets(space);
  std::vector<hsize_t> extent(rank);
  Check(H5Sget_simple_extent_dims(space, extent.data(), nullptr), "reading the file dataspace");
  std::vector<hsize_t> coords(offsets.size() * rank);
  for (size_t i = 0; i < offsets.size(); ++i) {
    hsize_t rest = offsets[i];
    for (size_t d = rank; d-- > 0;) {
      coords[i * rank + d] = rest % extent[d] + shift[d];
      rest /= extent[d];
    }
  }
  return PointsOf(coords, rank);
}

// ---------------------------------------------------------------------------------------------
// Memory side

// The memory side is nimbus's (vol/memory_selection.h); its errors become the bridge's.
using vol::MemoryPlan;

void ThrowIfError(const Status& status) {
  if (status.ok()) return;
  hid_t minor = status.kind() == ErrorKind::kUnimplemented      ? H5E_UNSUPPORTED
                : status.kind() == ErrorKind::kInvalidArgument ? H5E_BADRANGE
                                                                : H5E_CANTGET;
  throw BridgeError(H5E_DATASPACE, minor, status.message());
}

MemoryPlan PlanMemory(hid_t mem_space, hid_t file_space, uint64_t n) {
  Result<MemoryPlan> plan = vol::PlanMemory(mem_space, file_space, n);
  ThrowIfError(plan.status());
  return *plan;
}

void GatherChecked(const MemoryPlan& plan, size_t size, uint64_t n, const char* buf, char* dense) {
  ThrowIfError(vol::Gather(plan, size, n, buf, dense));
}

void ScatterChecked(const MemoryPlan& plan, size_t size, uint64_t n, const char* dense, char* buf) {
  ThrowIfError(vol::Scatter(plan, size, n, dense, buf));
}

bool NeedsBackground(hid_t a, hid_t b) {
  return H5Tget_class(a) == H5T_COMPOUND || H5Tget_class(b) == H5T_COMPOUND;
}

void Convert(hid_t from, hid_t to, uint64_t n, char* data, char* background, hid_t dxpl) {
  if (H5Tconvert(from, to, n, data, background, dxpl) < 0) {
    throw BridgeError(H5E_DATATYPE, H5E_CANTCONVERT,
                      "cannot convert between the memory datatype and the stored datatype");
  }
}

// ---------------------------------------------------------------------------------------------
// Python views

// A Python object exporting `len` bytes at `data` through the buffer protocol and counting its
// live exports: numpy arrays made from it (and every view derived from them) hold one, so after
// a call the count says whether the connector kept anything.
struct BufferWindow {
  PyObject_HEAD
  char* data;
  Py_ssize_t len;
  int readonly;
  Py_ssize_t exports;
};

int WindowGetBuffer(PyObject* self, Py_buffer* view, int flags) {
  auto* w = reinterpret_cast<BufferWindow*>(self);
  if (w->data == nullptr) {
    PyErr_SetString(PyExc_BufferError, "this HDF5 buffer is no longer valid (it was only valid during the call)");
    return -1;
  }
  if (PyBuffer_FillInfo(view, self, w->data, w->len, w->readonly, flags) < 0) return -1;
  ++w->exports;
  return 0;
}

void WindowReleaseBuffer(PyObject* self, Py_buffer*) { --reinterpret_cast<BufferWindow*>(self)->exports; }

PyTypeObject* WindowType() {
  static PyTypeObject* type = nullptr;
  if (type == nullptr) {
    static PyType_Slot slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(WindowGetBuffer)},
                                  {Py_bf_releasebuffer, reinterpret_cast<void*>(WindowReleaseBuffer)},
                                  {0, nullptr}};
    static PyType_Spec spec = {"nimbus.pyvol.HDF5Buffer", sizeof(BufferWindow), 0, Py_TPFLAGS_DEFAULT, slots};
    type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (type == nullptr) ThrowPythonError(H5E_VOL, H5E_CANTINIT);
  }
  return type;
}

// A numpy array over `nbytes` at `data`, valid only during the call it is passed to.
struct View {
  Ref window;
  Ref array;
};

View MakeView(void* data, size_t nbytes, PyObject* dtype, PyObject* shape, bool writable) {
  View v;
  v.window = Ref::Steal(PyType_GenericAlloc(WindowType(), 0));
  auto* w = reinterpret_cast<BufferWindow*>(v.window.get());
  w->data = static_cast<char*>(data);
  w->len = static_cast<Py_ssize_t>(nbytes);
  w->readonly = writable ? 0 : 1;
  w->exports = 0;
  Ref flat = Ref::Borrow(NumpyFrombuffer())({v.window.get(), dtype});
  v.array = flat.Call("reshape", {shape});
  return v;
}

void CheckNotRetained(View& v, const char* what) {
  v.array = Ref();
  auto* w = reinterpret_cast<BufferWindow*>(v.window.get());
  w->data = nullptr;  // no new exports from here on
  if (w->exports != 0) {
    throw BridgeError(H5E_VOL, H5E_CANTOPERATE,
                      std::string("the connector kept a reference to the ") + what +
                          " array, which views HDF5's buffer and is valid only during the call "
                          "(copy it: numpy.array(data))");
  }
}

// Calls fn(index, array) (datasets) or fn(array) (attributes).
void CallIo(const Ref& fn, const Ref* index, PyObject* array) {
  PyObject* args[2];
  size_t nargs = 0;
  if (index != nullptr) args[nargs++] = index->get();
  args[nargs++] = array;
  Ref::Steal(PyObject_Vectorcall(fn.get(), args, nargs, nullptr));
}

// ---------------------------------------------------------------------------------------------
// Variable-length strings: Python str (UTF-8) or bytes, HDF5 char*.

void ReadStrings(Handle& h, const Ref* index, const Ref& shape, uint64_t n, const MemoryPlan& plan,
                 hid_t mem_type, hid_t dxpl, char* buf) {
  Ref out = Ref::Borrow(NumpyEmpty())({shape.get(), h.dtype.get()});
  CallIo(h.read_fn, index, out.get());
  Ref items = out.Call("ravel", {}).Call("tolist", {});
  if (static_cast<uint64_t>(PyList_Size(items.get())) != n) {
    throw BridgeError(H5E_DATASET, H5E_READERROR, "the connector changed the shape of `out`");
  }
  const size_t mem_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(h.type.get(), mem_type);
  if (same < 0 || mem_size == 0) Check(-1, "reading the memory type");
  std::vector<char*> strings(n, nullptr);
  auto free_all = [&] {
    for (char* p : strings) H5free_memory(p);
  };
  try {
    for (uint64_t i = 0; i < n; ++i) {
      PyObject* item = PyList_GET_ITEM(items.get(), static_cast<Py_ssize_t>(i));
      std::string value;
      if (item == Py_None) {
        value.clear();
      } else if (PyUnicode_Check(item) || PyBytes_Check(item)) {
        value = AsString(item, "string element");
      } else {
        throw BridgeError(H5E_DATATYPE, H5E_BADTYPE,
                          "string datasets take str or bytes elements, not " +
                              std::string(Py_TYPE(item)->tp_name));
      }
      // The application owns (and frees, e.g. with H5Treclaim) what HDF5's allocator returns.
      strings[i] = static_cast<char*>(H5allocate_memory(value.size() + 1, false));
      if (strings[i] == nullptr) throw BridgeError(H5E_RESOURCE, H5E_NOSPACE, "out of memory");
      std::memcpy(strings[i], value.c_str(), value.size() + 1);
    }
    std::vector<char> temp(n * std::max(sizeof(char*), mem_size));
    std::memcpy(temp.data(), strings.data(), n * sizeof(char*));
    if (!same) {
      Convert(h.type.get(), mem_type, n, temp.data(), nullptr, dxpl);
      free_all();  // the conversion made its own copies
    }
    ScatterChecked(plan, mem_size, n, temp.data(), buf);
  } catch (...) {
    free_all();
    throw;
  }
}

void WriteStrings(Handle& h, const Ref* index, const Ref& shape, uint64_t n, const MemoryPlan& plan,
                  hid_t mem_type, hid_t dxpl, const char* buf) {
  const size_t mem_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(h.type.get(), mem_type);
  if (same < 0 || mem_size == 0) Check(-1, "reading the memory type");
  std::vector<char> temp(n * std::max(sizeof(char*), mem_size));
  GatherChecked(plan, mem_size, n, buf, temp.data());
  if (!same) Convert(mem_type, h.type.get(), n, temp.data(), nullptr, dxpl);
  struct Reclaim {  // strings the conversion allocated
    Handle& h;
    std::vector<char>& temp;
    uint64_t n;
    bool active;
    ~Reclaim() {
      if (!active) return;
      hsize_t dims[1] = {n};
      Hid space(H5Screate_simple(1, dims, nullptr));
      H5Treclaim(h.type.get(), space.get(), H5P_DEFAULT, temp.data());
    }
  } reclaim{h, temp, n, !same};
  Ref list = Ref::Steal(PyList_New(static_cast<Py_ssize_t>(n)));
  for (uint64_t i = 0; i < n; ++i) {
    char* p;
    std::memcpy(&p, temp.data() + i * sizeof p, sizeof p);
    std::string value = p == nullptr ? std::string() : std::string(p);
    Ref item;
    if (h.vlen_utf8) {
      item = Ref::Steal(PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "strict"));
    } else {
      item = Ref::Steal(PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size())));
    }
    PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), item.release());
  }
  Ref flat = Ref::Borrow(NumpyEmpty())({PyInt(static_cast<long long>(n)).get(), h.dtype.get()});
  for (uint64_t i = 0; i < n; ++i) {
    if (PySequence_SetItem(flat.get(), static_cast<Py_ssize_t>(i),
                           PyList_GET_ITEM(list.get(), static_cast<Py_ssize_t>(i))) < 0) {
      ThrowPythonError(H5E_DATASET, H5E_WRITEERROR);
    }
  }
  Ref data = flat.Call("reshape", {shape.get()});
  CallIo(h.write_fn, index, data.get());
}

// ---------------------------------------------------------------------------------------------
// The seed's interface: read returns data, write receives an owned copy.

void LegacyRead(Handle& h, const FileSelection& sel, const MemoryPlan& plan, hid_t mem_type,
                hid_t mem_space, hid_t file_space, hid_t dxpl, char* buf) {
  if (h.vlen_string) {
    throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED,
                      "variable-length strings are not supported by the H5PyVOL interface");
  }
  Ref result = h.node.Attr("obj").Call("H5VL_python_dataset_read",
                         {PyInt(mem_type).get(), PyInt(mem_space).get(), PyInt(file_space).get(),
                          PyInt(dxpl).get(), PyInt(0).get()});
  Ref contiguous = Ref::Steal(PyObject_GetAttrString(NumpyModule(), "ascontiguousarray"));
  Ref dtype_kw = Ref::Steal(PyDict_New());
  PyDict_SetItemString(dtype_kw.get(), "dtype", h.dtype.get());
  Ref array = Ref::Steal(PyObject_Call(contiguous.get(), PyTupleOf({result.get()}).get(), dtype_kw.get()));
  const uint64_t total = [&] {
    uint64_t t = 1;
    for (hsize_t d : h.Dims()) t *= d;
    return t;
  }();
  Ref nitems = array.Attr("size");
  const uint64_t got = static_cast<uint64_t>(AsLong(nitems.get(), "array size"));
  if (got != sel.count) {
    if (got == total && !sel.all) {
      // The whole dataset came back: take the selected elements.
      Ref whole = array.Call("reshape", {ShapeTuple(h.Dims()).get()});
      Ref picked = Ref::Steal(PyObject_GetItem(whole.get(), sel.index.get()));
      array = Ref::Steal(PyObject_Call(contiguous.get(), PyTupleOf({picked.get()}).get(), dtype_kw.get()));
    } else {
      throw BridgeError(H5E_DATASET, H5E_READERROR,
                        "H5VL_python_dataset_read returned " + std::to_string(got) +
                            " elements; the selection has " + std::to_string(sel.count) +
                            " (and the dataset " + std::to_string(total) + ")");
    }
  }
  Py_buffer view;
  if (PyObject_GetBuffer(array.get(), &view, PyBUF_C_CONTIGUOUS) < 0) {
    ThrowPythonError(H5E_DATASET, H5E_READERROR);
  }
  struct Release {
    Py_buffer* v;
    ~Release() { PyBuffer_Release(v); }
  } release{&view};
  if (static_cast<uint64_t>(view.len) != sel.count * h.type_size) {
    throw BridgeError(H5E_DATASET, H5E_READERROR, "H5VL_python_dataset_read returned the wrong number of bytes");
  }
  const size_t mem_size = H5Tget_size(mem_type);
  std::vector<char> temp(sel.count * std::max(h.type_size, mem_size));
  std::memcpy(temp.data(), view.buf, static_cast<size_t>(view.len));
  htri_t same = H5Tequal(h.type.get(), mem_type);
  if (same < 0) Check(-1, "comparing datatypes");
  if (!same) {
    std::vector<char> background;
    if (NeedsBackground(h.type.get(), mem_type)) {
      background.resize(sel.count * mem_size);
      GatherChecked(plan, mem_size, sel.count, buf, background.data());
    }
    Convert(h.type.get(), mem_type, sel.count, temp.data(), background.empty() ? nullptr : background.data(), dxpl);
  }
  ScatterChecked(plan, mem_size, sel.count, temp.data(), buf);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace {

// Shared by datasets (index != null) and attributes.
void Read(Handle& h, const FileSelection& sel, const MemoryPlan& plan, hid_t mem_type, hid_t dxpl,
          void* buf) {
  const Ref* index = h.kind == H5I_DATASET ? &sel.index : nullptr;
  const uint64_t n = sel.count;
  char* out = static_cast<char*>(buf);
  if (h.vlen_string) return ReadStrings(h, index, sel.shape, n, plan, mem_type, dxpl, out);
  htri_t same = H5Tequal(h.type.get(), mem_type);
  if (same < 0) Check(-1, "comparing datatypes");
  const size_t mem_size = H5Tget_size(mem_type);
  if (same && plan.contiguous) {
    View v = MakeView(out + plan.offset * mem_size, n * h.type_size, h.dtype.get(), sel.shape.get(), true);
    CallIo(h.read_fn, index, v.array.get());
    CheckNotRetained(v, "`out`");
    return;
  }
  std::vector<char> temp(n * std::max(h.type_size, mem_size));
  View v = MakeView(temp.data(), n * h.type_size, h.dtype.get(), sel.shape.get(), true);
  CallIo(h.read_fn, index, v.array.get());
  CheckNotRetained(v, "`out`");
  if (!same) {
    std::vector<char> background;
    if (NeedsBackground(h.type.get(), mem_type)) {
      background.resize(n * mem_size);
      GatherChecked(plan, mem_size, n, out, background.data());
    }
    Convert(h.type.get(), mem_type, n, temp.data(), background.empty() ? nullptr : background.data(), dxpl);
  }
  ScatterChecked(plan, mem_size, n, temp.data(), out);
}

void Write(Handle& h, const FileSelection& sel, const MemoryPlan& plan, hid_t mem_type,
           hid_t mem_space, hid_t file_space, hid_t dxpl, const void* buf) {
  const Ref* index = h.kind == H5I_DATASET ? &sel.index : nullptr;
  const uint64_t n = sel.count;
  const char* in = static_cast<const char*>(buf);
  if (h.vlen_string) {
    if (h.legacy) {
      throw BridgeError(H5E_DATASET, H5E_UNSUPPORTED,
                        "variable-length strings are not supported by the H5PyVOL interface");
    }
    return WriteStrings(h, index, sel.shape, n, plan, mem_type, dxpl, in);
  }
  htri_t same = H5Tequal(h.type.get(), mem_type);
  if (same < 0) Check(-1, "comparing datatypes");
  const size_t mem_size = H5Tget_size(mem_type);
  if (same && plan.contiguous && !h.legacy) {
    View v = MakeView(const_cast<char*>(in) + plan.offset * mem_size, n * h.type_size, h.dtype.get(),
                      sel.shape.get(), false);
    CallIo(h.write_fn, index, v.array.get());
    CheckNotRetained(v, "`data`");
    return;
  }
  std::vector<char> temp(n * std::max(h.type_size, mem_size));
  GatherChecked(plan, mem_size, n, in, temp.data());
  if (!same) {
    std::vector<char> background(NeedsBackground(mem_type, h.type.get()) ? n * h.type_size : 0);
    Convert(mem_type, h.type.get(), n, temp.data(), background.empty() ? nullptr : background.data(), dxpl);
  }
  View v = MakeView(temp.data(), n * h.type_size, h.dtype.get(), sel.shape.get(), false);
  if (h.legacy) {
    // The seed keeps what it is given: hand it an array that owns a copy.
    Ref owned = v.array.Call("copy", {});
    CheckNotRetained(v, "`data`");
    h.node.Attr("obj").Call("H5VL_python_dataset_write",
              {PyInt(mem_type).get(), PyInt(mem_space).get(), PyInt(file_space).get(),
               PyInt(dxpl).get(), owned.get(), PyInt(0).get()});
    return;
  }
  CallIo(h.write_fn, index, v.array.get());
  CheckNotRetained(v, "`data`");
}

}  // namespace

void ReadDataset(Handle& h, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void* buf) {
  FileSelection sel = DescribeSelection(file_space, h.Dims());
  MemoryPlan plan = PlanMemory(mem_space, file_space, sel.count);
  if (sel.count == 0) return;
  if (h.legacy) {
    return LegacyRead(h, sel, plan, mem_type, mem_space, file_space, dxpl, static_cast<char*>(buf));
  }
  Read(h, sel, plan, mem_type, dxpl, buf);
}

void WriteDataset(Handle& h, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                  const void* buf) {
  FileSelection sel = DescribeSelection(file_space, h.Dims());
  MemoryPlan plan = PlanMemory(mem_space, file_space, sel.count);
  if (sel.count == 0) return;
  Write(h, sel, plan, mem_type, mem_space, file_space, dxpl, buf);
}

void ReadAttribute(Handle& h, hid_t mem_type, hid_t dxpl, void* buf) {
  FileSelection sel = DescribeSelection(H5S_ALL, h.Dims());
  if (H5Sget_simple_extent_type(h.space.get()) == H5S_NULL) return;
  Read(h, sel, MemoryPlan{}, mem_type, dxpl, buf);
}

void WriteAttribute(Handle& h, hid_t mem_type, hid_t dxpl, const void* buf) {
  FileSelection sel = DescribeSelection(H5S_ALL, h.Dims());
  if (H5Sget_simple_extent_type(h.space.get()) == H5S_NULL) return;
  Write(h, sel, MemoryPlan{}, mem_type, H5S_ALL, H5S_ALL, dxpl, buf);
}

}  // namespace nimbus::pyvol
