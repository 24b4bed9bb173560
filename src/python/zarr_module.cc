// nimbus._native: Python bindings for the Zarr engine (src/zarr) on the store layer (src/store).
//
// numpy is used only through its Python API (np.empty, np.asarray, __array_interface__), never
// through pybind11/numpy.h: Debian's pybind11 2.10 predates NumPy 2's C-struct changes, and the
// Python-level calls work for every dtype (datetime64 has no buffer protocol).
//
// Errors are Status values inside the engine and become Python exceptions here, once (Raise).
// Store I/O runs with the GIL released; meanwhile only C++-owned memory and numpy buffers held
// alive by the calling frame are touched.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "active/client.h"
#include "core/config.h"
#include "core/status.h"
#include "store/object_store.h"
#include "store/store_factory.h"
#include "zarr/array.h"
#include "zarr/codec.h"
#include "zarr/data_type.h"
#include "zarr/metadata.h"
#include "zarr/selection.h"
#include "vol/array_options.h"
#include "vol/location.h"

namespace py = pybind11;

namespace nimbus::python {
namespace {

using namespace pybind11::literals;
using store::ObjectStore;
using zarr::DataType;
using zarr::DimSelection;
using zarr::Layout;
using zarr::Selection;
using zarr::TypeClass;
using zarr::ZarrArray;
using Json = nlohmann::json;
using Shape = std::vector<uint64_t>;

// --- Errors --------------------------------------------------------------------------------------

// Raises the Python exception for a non-ok Status. kPreconditionFailed means "already exists" only
// when creating; elsewhere (a metadata update that lost a race) it is a plain OSError.
[[noreturn]] void Raise(const Status& status, bool creating = false) {
  PyObject* type = PyExc_OSError;
  std::string message = status.message();
  switch (status.kind()) {
    case ErrorKind::kNotFound:
      type = PyExc_FileNotFoundError;
      break;
    case ErrorKind::kAccessDenied:
      type = PyExc_PermissionError;
      break;
    case ErrorKind::kInvalidArgument:
      type = PyExc_ValueError;
      break;
    case ErrorKind::kPreconditionFailed:
      if (creating) {
        type = PyExc_FileExistsError;
        break;
      }
      message = status.ToString();
      break;
    default:
      message = status.ToString();  // an OSError alone would lose the kind ("throttled: ...")
      break;
  }
  PyErr_SetString(type, message.c_str());
  throw py::error_already_set();
}

void Check(const Status& status, bool creating = false) {
  if (!status.ok()) Raise(status, creating);
}

template <typename T>
T Unwrap(Result<T> result, bool creating = false) {
  if (!result.ok()) Raise(result.status(), creating);
  return std::move(result).value();
}

[[noreturn]] void RaiseIndexError(const std::string& message) {
  PyErr_SetString(PyExc_IndexError, message.c_str());
  throw py::error_already_set();
}

// --- numpy through its Python API ----------------------------------------------------------------

py::module_ Numpy() { return py::module_::import("numpy"); }

// Address of a numpy array's first element.
char* DataPointer(py::handle array) {
  py::tuple data = array.attr("__array_interface__")["data"];
  return reinterpret_cast<char*>(data[0].cast<uintptr_t>());
}

py::tuple ToTuple(const Shape& shape) {
  py::tuple out(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) out[i] = py::int_(shape[i]);
  return out;
}

Shape ShapeOf(py::handle array) { return array.attr("shape").cast<Shape>(); }

// A numpy integer array (any shape) as uint64 values in C order.
std::vector<uint64_t> UInt64Values(py::handle array) {
  py::object np = Numpy();
  py::object flat = np.attr("ascontiguousarray")(array, "dtype"_a = np.attr("uint64"));
  const size_t n = flat.attr("size").cast<size_t>();
  std::vector<uint64_t> out(n);
  if (n > 0) std::memcpy(out.data(), DataPointer(flat), n * sizeof(uint64_t));
  return out;
}

// The array in F order (asfortranarray would turn a 0-d array into a 1-d one).
py::object InFortranOrder(py::object array) {
  if (array.attr("ndim").cast<int>() < 2) return array;
  return Numpy().attr("asfortranarray")(array);
}

bool IsNumpyObject(py::handle obj) {
  py::object np = Numpy();
  return py::isinstance(obj, np.attr("ndarray")) || py::isinstance(obj, np.attr("generic"));
}

// --- JSON <-> Python
// ------------------------------------------------------------------------------

Json ToJson(py::handle obj) {
  if (obj.is_none()) return nullptr;
  if (PyBool_Check(obj.ptr())) return obj.cast<bool>();
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow == 0) {
      if (value == -1 && PyErr_Occurred()) throw py::error_already_set();
      return static_cast<int64_t>(value);
    }
    if (overflow > 0) {
      const unsigned long long big = PyLong_AsUnsignedLongLong(obj.ptr());
      if (!PyErr_Occurred()) return static_cast<uint64_t>(big);
      PyErr_Clear();
    }
    throw py::value_error("integer " + py::str(obj).cast<std::string>() +
                          " does not fit in 64 bits (JSON numbers here are 64-bit)");
  }
  if (PyFloat_Check(obj.ptr())) return obj.cast<double>();
  if (PyUnicode_Check(obj.ptr())) return obj.cast<std::string>();
  if (PyDict_Check(obj.ptr())) {
    Json out = Json::object();
    for (auto item : py::reinterpret_borrow<py::dict>(obj)) {
      if (!PyUnicode_Check(item.first.ptr())) {
        throw py::type_error("JSON object keys must be str, got " +
                             py::repr(item.first).cast<std::string>());
      }
      out[item.first.cast<std::string>()] = ToJson(item.second);
    }
    return out;
  }
  if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr())) {
    Json out = Json::array();
    for (auto item : obj) out.push_back(ToJson(item));
    return out;
  }
  if (IsNumpyObject(obj)) return ToJson(obj.attr("tolist")());  // numpy scalars and arrays
  throw py::type_error("cannot represent " + py::repr(obj).cast<std::string>() + " as JSON");
}

py::object FromJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case Json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case Json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case Json::value_t::number_float:
      return py::float_(j.get<double>());
    case Json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case Json::value_t::array: {
      py::list out;
      for (const auto& item : j) out.append(FromJson(item));
      return out;
    }
    case Json::value_t::object: {
      py::dict out;
      for (const auto& [key, value] : j.items()) out[py::str(key)] = FromJson(value);
      return out;
    }
    case Json::value_t::binary: {
      const auto& bytes = j.get_binary();
      return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    default:
      return py::none();
  }
}

// --- Data types ----------------------------------------------------------------------------------

// The Zarr data type for anything numpy.dtype() accepts, as zarr-python 3 maps numpy dtypes;
// "O", numpy's StringDType and a zero-length "U" are variable-length UTF-8 strings, a zero-length
// "S" variable-length bytes.
DataType ZarrTypeOf(py::handle dtype_like) {
  py::object np = Numpy();
  py::object dtype = np.attr("dtype")(dtype_like);
  const auto kind = dtype.attr("kind").cast<std::string>();
  const auto size = dtype.attr("itemsize").cast<size_t>();
  const auto unsupported = [&](const std::string& why) -> py::value_error {
    return py::value_error("unsupported dtype " + py::str(dtype).cast<std::string>() + ": " + why);
  };
  const auto sized = [&](const char* stem, std::initializer_list<size_t> sizes) -> Json {
    for (size_t s : sizes) {
      if (s == size) return std::string(stem) + std::to_string(8 * size);
    }
    throw unsupported("no Zarr type of that size");
  };
  Json j;
  if (kind == "b") {
    j = "bool";
  } else if (kind == "i") {
    j = sized("int", {1, 2, 4, 8});
  } else if (kind == "u") {
    j = sized("uint", {1, 2, 4, 8});
  } else if (kind == "f") {
    j = sized("float", {2, 4, 8});
  } else if (kind == "c") {
    j = sized("complex", {8, 16});
  } else if (kind == "S") {
    j = size == 0
            ? Json("variable_length_bytes")
            : Json{{"name", "null_terminated_bytes"}, {"configuration", {{"length_bytes", size}}}};
  } else if (kind == "U") {
    j = size == 0
            ? Json("string")
            : Json{{"name", "fixed_length_utf32"}, {"configuration", {{"length_bytes", size}}}};
  } else if (kind == "O" || kind == "T") {
    j = "string";
  } else if (kind == "V") {
    if (!dtype.attr("fields").is_none() || !dtype.attr("subdtype").is_none()) {
      throw unsupported("structured and subarray dtypes have no Zarr v3 type");
    }
    if (size == 0) throw unsupported("raw bytes need a length");
    j = {{"name", "raw_bytes"}, {"configuration", {{"length_bytes", size}}}};
  } else if (kind == "M" || kind == "m") {
    py::tuple unit = np.attr("datetime_data")(dtype);
    const auto unit_name = unit[0].cast<std::string>();
    if (unit_name == "generic") throw unsupported("a unit is required");
    j = {{"name", kind == "M" ? "numpy.datetime64" : "numpy.timedelta64"},
         {"configuration", {{"unit", unit_name}, {"scale_factor", unit[1].cast<int64_t>()}}}};
  } else {
    throw unsupported("no Zarr v3 type for numpy kind '" + kind + "'");
  }
  return Unwrap(DataType::FromJson(j));
}

// The numpy dtype reads return (native byte order, as the engine holds chunks in memory).
py::object NumpyDtypeOf(const DataType& type) {
  std::string spec;
  switch (type.type_class) {
    case TypeClass::kBool:
    case TypeClass::kInt:
    case TypeClass::kUInt:
    case TypeClass::kFloat:
    case TypeClass::kComplex:
      spec = type.name;  // numpy spells these the same
      break;
    case TypeClass::kRawBits:
    case TypeClass::kRawBytes:
    case TypeClass::kStructured:  // the record's bytes (field views are not built here)
      spec = "V" + std::to_string(type.item_size);
      break;
    case TypeClass::kFixedBytes:
      spec = "S" + std::to_string(type.item_size);
      break;
    case TypeClass::kFixedUtf32:
      spec = "U" + std::to_string(type.item_size / 4);
      break;
    case TypeClass::kDateTime: {
      const auto unit = type.configuration.value("unit", std::string("s"));
      const auto scale = type.configuration.value("scale_factor", int64_t{1});
      spec = (type.name == "numpy.timedelta64" ? "timedelta64[" : "datetime64[") +
             (scale == 1 ? "" : std::to_string(scale)) + unit + "]";
      break;
    }
    case TypeClass::kString:
    case TypeClass::kBytes:
      spec = "O";
      break;
  }
  return Numpy().attr("dtype")(spec);
}

// --- Variable-length values
// -----------------------------------------------------------------------

std::string ValueBytes(py::handle item, TypeClass type_class) {
  if (type_class == TypeClass::kString) {
    if (!PyUnicode_Check(item.ptr())) {
      throw py::type_error("a string array takes str values, got " +
                           py::repr(item).cast<std::string>());
    }
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
    if (utf8 == nullptr) throw py::error_already_set();
    return std::string(utf8, static_cast<size_t>(size));
  }
  if (PyBytes_Check(item.ptr())) return item.cast<std::string>();
  if (PyByteArray_Check(item.ptr()) || PyMemoryView_Check(item.ptr())) {
    return py::bytes(py::reinterpret_borrow<py::object>(item)).cast<std::string>();
  }
  throw py::type_error("a bytes array takes bytes values, got " +
                       py::repr(item).cast<std::string>());
}

py::object ValueObject(const std::string& value, TypeClass type_class) {
  if (type_class == TypeClass::kString) {
    // Stored strings are UTF-8 by the spec; "replace" keeps a damaged one readable.
    PyObject* s =
        PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "replace");
    if (s == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(s);
  }
  return py::bytes(value);
}

// --- Arrays --------------------------------------------------------------------------------------

class ArrayHandle {
 public:
  explicit ArrayHandle(std::shared_ptr<ZarrArray> array)
      : array_(std::move(array)), dtype_(NumpyDtypeOf(array_->data_type())) {}

  ZarrArray& array() const { return *array_; }
  const py::object& dtype() const { return dtype_; }
  TypeClass type_class() const { return array_->data_type().type_class; }
  bool variable_length() const { return array_->data_type().variable_length(); }

 private:
  std::shared_ptr<ZarrArray> array_;
  py::object dtype_;
};

// A parsed index: one DimSelection per array dimension, which of them numpy drops from the result
// (integer indices), and per dimension an optional reordering taken after the read (index arrays
// that are unsorted or repeat: the engine reads each index once, in order).
struct ParsedIndex {
  std::vector<DimSelection> dims;
  std::vector<bool> dropped;
  std::vector<py::object> reorder;  // None or positions into the sorted unique indices
  bool scalar = false;              // numpy returns a scalar, not a 0-d array

  void Add(DimSelection d, bool drop = false, py::object order = py::none()) {
    dims.push_back(std::move(d));
    dropped.push_back(drop);
    reorder.push_back(std::move(order));
  }
  // The result's shape as numpy gives it.
  Shape ResultShape() const {
    Shape out;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dropped[d]) continue;
      out.push_back(reorder[d].is_none() ? dims[d].size() : py::len(reorder[d]));
    }
    return out;
  }
};

bool IsBool(py::handle item) {
  return PyBool_Check(item.ptr()) || py::isinstance(item, Numpy().attr("bool_"));
}

// An integer index (Python int, numpy integer, 0-d integer array), or nullopt.
std::optional<int64_t> IntegerIndex(py::handle item) {
  if (IsBool(item) || !PyIndex_Check(item.ptr())) return std::nullopt;
  if (py::isinstance(item, Numpy().attr("ndarray")) && item.attr("ndim").cast<int>() != 0) {
    return std::nullopt;
  }
  PyObject* index = PyNumber_Index(item.ptr());
  if (index == nullptr) throw py::error_already_set();
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(index, &overflow);
  Py_DECREF(index);
  if (overflow != 0)
    RaiseIndexError("index " + py::str(item).cast<std::string>() + " is too large");
  return value;
}

// numpy's wording.
[[noreturn]] void RaiseOutOfBounds(const std::string& index, size_t axis, uint64_t extent) {
  RaiseIndexError("index " + index + " is out of bounds for axis " + std::to_string(axis) +
                  " with size " + std::to_string(extent));
}

uint64_t NormalizeIndex(int64_t index, uint64_t extent, size_t axis) {
  const int64_t n = static_cast<int64_t>(extent);
  const int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) RaiseOutOfBounds(std::to_string(index), axis, extent);
  return static_cast<uint64_t>(i);
}

DimSelection SliceSelection(py::handle item, uint64_t extent) {
  py::slice slice = py::reinterpret_borrow<py::slice>(item);
  py::ssize_t start = 0, stop = 0, step = 0, length = 0;
  if (!slice.compute(static_cast<py::ssize_t>(extent), &start, &stop, &step, &length)) {
    throw py::error_already_set();
  }
  if (step <= 0) RaiseIndexError("only slices with a positive step are supported");
  return DimSelection::Hyperslab(static_cast<uint64_t>(start), static_cast<uint64_t>(step),
                                 static_cast<uint64_t>(length), 1);
}

// The key as a tuple with any Ellipsis expanded to full slices; `ellipsis` tells whether there was
// one (numpy then returns a 0-d array rather than a scalar).
std::vector<py::object> ExpandKey(py::handle key, size_t rank, bool* ellipsis) {
  std::vector<py::object> items;
  if (PyTuple_Check(key.ptr())) {
    for (auto item : key) items.push_back(py::reinterpret_borrow<py::object>(item));
  } else {
    items.push_back(py::reinterpret_borrow<py::object>(key));
  }
  size_t at = items.size();
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].ptr() != Py_Ellipsis) continue;
    if (at != items.size()) RaiseIndexError("an index can only have a single ellipsis ('...')");
    at = i;
  }
  *ellipsis = at != items.size();
  const size_t given = items.size() - (*ellipsis ? 1 : 0);
  if (given > rank) {
    RaiseIndexError("too many indices for array: array is " + std::to_string(rank) +
                    "-dimensional, but " + std::to_string(given) + " were indexed");
  }
  std::vector<py::object> out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i == at) {
      for (size_t k = 0; k < rank - given; ++k)
        out.push_back(py::slice(py::none(), py::none(), py::none()));
    } else {
      out.push_back(items[i]);
    }
  }
  while (out.size() < rank) out.push_back(py::slice(py::none(), py::none(), py::none()));
  return out;
}

// numpy basic indexing: integers, slices with positive steps, one Ellipsis.
ParsedIndex ParseBasicIndex(py::handle key, const Shape& shape) {
  bool ellipsis = false;
  std::vector<py::object> items = ExpandKey(key, shape.size(), &ellipsis);
  ParsedIndex out;
  bool all_integers = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    const py::object& item = items[d];
    if (PySlice_Check(item.ptr())) {
      out.Add(SliceSelection(item, shape[d]));
      all_integers = false;
    } else if (auto i = IntegerIndex(item)) {
      out.Add(DimSelection::Range(NormalizeIndex(*i, shape[d], d), 1), /*drop=*/true);
    } else if (item.is_none()) {
      RaiseIndexError("numpy.newaxis (None) is not supported in an index");
    } else {
      RaiseIndexError(
          "only integers, slices (with positive steps) and Ellipsis are valid "
          "indices here, got " +
          py::repr(item).cast<std::string>() +
          "; use get_orthogonal() or get_points() for index arrays");
    }
  }
  out.scalar = all_integers && !ellipsis;
  return out;
}

// Orthogonal indexing: per dimension an integer, a slice, an integer array or a boolean mask.
ParsedIndex ParseOrthogonalIndex(py::handle key, const Shape& shape) {
  py::module_ np = Numpy();
  bool ellipsis = false;
  std::vector<py::object> items = ExpandKey(key, shape.size(), &ellipsis);
  ParsedIndex out;
  bool all_integers = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    const py::object& item = items[d];
    if (PySlice_Check(item.ptr())) {
      out.Add(SliceSelection(item, shape[d]));
      all_integers = false;
      continue;
    }
    if (auto i = IntegerIndex(item)) {
      out.Add(DimSelection::Range(NormalizeIndex(*i, shape[d], d), 1), /*drop=*/true);
      continue;
    }
    all_integers = false;
    py::object indices = np.attr("asarray")(item);
    const auto kind = indices.attr("dtype").attr("kind").cast<std::string>();
    if (indices.attr("ndim").cast<int>() != 1) {
      RaiseIndexError("index arrays must be one-dimensional (axis " + std::to_string(d) + ")");
    }
    const auto count = indices.attr("size").cast<uint64_t>();
    if (kind == "b") {
      if (count != shape[d]) {
        RaiseIndexError("boolean index of length " + std::to_string(count) +
                        " does not match axis " + std::to_string(d) + " with size " +
                        std::to_string(shape[d]));
      }
      indices = np.attr("flatnonzero")(indices);
    } else if (count == 0) {
      indices = np.attr("zeros")(0, "dtype"_a = "int64");  // [] arrives as float64
    } else if (kind != "i" && kind != "u") {
      RaiseIndexError("index arrays must hold integers or booleans, got dtype " +
                      py::str(indices.attr("dtype")).cast<std::string>());
    }
    const py::object given = indices.attr("astype")("int64");
    const auto extent = static_cast<int64_t>(shape[d]);
    indices = np.attr("where")(given.attr("__lt__")(0), given.attr("__add__")(extent), given);
    py::object bad = np.attr("flatnonzero")(
        np.attr("logical_or")(indices.attr("__lt__")(0), indices.attr("__ge__")(extent)));
    if (py::len(bad) > 0) {
      RaiseOutOfBounds(py::str(given.attr("__getitem__")(bad.attr("__getitem__")(0))), d, shape[d]);
    }
    py::tuple unique = np.attr("unique")(indices, "return_inverse"_a = true);
    py::object sorted = unique[0];
    const bool in_order =
        py::len(sorted) == py::len(indices) && np.attr("array_equal")(sorted, indices).cast<bool>();
    out.Add(DimSelection::Indices(UInt64Values(sorted)), false,
            in_order ? py::none() : unique[1].attr("reshape")(-1));
  }
  out.scalar = all_integers && !ellipsis;
  return out;
}

// Points as a (count, rank) array of integers (rank 1 also takes a flat list), normalized and
// bounds-checked, flattened row by row.
std::vector<uint64_t> ParsePoints(py::handle coords, const Shape& shape, uint64_t* count) {
  py::module_ np = Numpy();
  py::object points = np.attr("asarray")(coords);
  const size_t rank = shape.size();
  if (points.attr("size").cast<uint64_t>() == 0) {
    *count = 0;
    return {};
  }
  const auto kind = points.attr("dtype").attr("kind").cast<std::string>();
  if (kind != "i" && kind != "u") {
    RaiseIndexError("point coordinates must be integers, got dtype " +
                    py::str(points.attr("dtype")).cast<std::string>());
  }
  if (rank == 1 && points.attr("ndim").cast<int>() == 1) points = points.attr("reshape")(-1, 1);
  const Shape pshape = ShapeOf(points);
  if (pshape.size() != 2 || pshape[1] != rank) {
    throw py::value_error("point coordinates must have shape (n, " + std::to_string(rank) +
                          "), got " + py::str(points.attr("shape")).cast<std::string>());
  }
  points = points.attr("astype")("int64");
  py::object extent = np.attr("asarray")(ToTuple(shape), "dtype"_a = "int64");
  points = np.attr("where")(points.attr("__lt__")(0), points.attr("__add__")(extent), points);
  py::object bad = np.attr("argwhere")(
      np.attr("logical_or")(points.attr("__lt__")(0), points.attr("__ge__")(extent)));
  if (py::len(bad) > 0) {
    py::tuple first = py::tuple(bad[py::int_(0)].attr("tolist")());
    const auto point = first[0].cast<size_t>();
    const auto axis = first[1].cast<size_t>();
    const auto given = np.attr("asarray")(coords).attr("reshape")(-1, rank).attr("__getitem__")(
        py::make_tuple(point, axis));
    RaiseIndexError("point " + std::to_string(point) + ": index " +
                    py::str(given).cast<std::string>() + " is out of bounds for axis " +
                    std::to_string(axis) + " with size " + std::to_string(shape[axis]));
  }
  *count = pshape[0];
  return UInt64Values(points);
}

// Reads `selection` into a new numpy array of the selection's (undropped) shape.
py::object ReadSelection(const ArrayHandle& handle, const Selection& selection, const Shape& shape,
                         Layout layout) {
  py::module_ np = Numpy();
  const uint64_t n = selection.num_elements();
  if (handle.variable_length()) {
    std::vector<std::string> values(n);
    Status status;
    {
      py::gil_scoped_release release;
      status = n == 0 ? Status::Ok() : handle.array().ReadValues(selection, values.data());
    }
    Check(status);
    py::list items(n);
    for (uint64_t i = 0; i < n; ++i) items[i] = ValueObject(values[i], handle.type_class());
    py::object out = np.attr("empty")(n, "dtype"_a = "O");
    if (n > 0) out.attr("__setitem__")(py::slice(0, static_cast<py::ssize_t>(n), 1), items);
    out = out.attr("reshape")(ToTuple(shape));
    return layout == Layout::kF ? InFortranOrder(out) : out;
  }
  py::object out = np.attr("empty")(ToTuple(shape), "dtype"_a = handle.dtype(),
                                    "order"_a = layout == Layout::kF ? "F" : "C");
  if (n > 0) {
    char* data = DataPointer(out);
    Status status;
    {
      py::gil_scoped_release release;
      status = handle.array().Read(selection, data, layout);
    }
    Check(status);
  }
  return out;
}

Layout ParseOrder(const std::string& order) {
  if (order == "C") return Layout::kC;
  if (order == "F") return Layout::kF;
  throw py::value_error("order must be 'C' or 'F', got '" + order + "'");
}

py::object ReadIndex(const ArrayHandle& handle, const ParsedIndex& index, Layout layout) {
  const Selection selection = Selection::Orthogonal(index.dims);
  py::object out = ReadSelection(handle, selection, selection.shape(), layout);
  bool reordered = false;
  for (size_t d = 0; d < index.dims.size(); ++d) {
    if (index.reorder[d].is_none()) continue;
    out = out.attr("take")(index.reorder[d], "axis"_a = d);
    reordered = true;
  }
  py::list dropped;
  for (size_t d = 0; d < index.dims.size(); ++d) {
    if (index.dropped[d]) dropped.append(d);
  }
  if (py::len(dropped) > 0) out = out.attr("squeeze")("axis"_a = py::tuple(dropped));
  if (reordered && layout == Layout::kF) out = InFortranOrder(out);
  if (index.scalar) return out.attr("__getitem__")(py::tuple());
  return out;
}

// Writes `value` (anything numpy converts, broadcast to `value_shape`) to `selection`. A C- or
// F-contiguous array of the array's dtype is passed to the engine as it is, without a copy.
void WriteSelection(const ArrayHandle& handle, const Selection& selection, const Shape& value_shape,
                    py::handle value) {
  py::module_ np = Numpy();
  const uint64_t n = selection.num_elements();
  const py::tuple shape = ToTuple(value_shape);
  if (handle.variable_length()) {
    py::object values = np.attr("broadcast_to")(np.attr("asarray")(value, "dtype"_a = "O"), shape);
    py::list items = np.attr("ravel")(values, "order"_a = "C").attr("tolist")();
    std::vector<std::string> strings;
    strings.reserve(n);
    for (auto item : items) strings.push_back(ValueBytes(item, handle.type_class()));
    Status status;
    {
      py::gil_scoped_release release;
      status = n == 0 ? Status::Ok() : handle.array().WriteValues(selection, strings.data());
    }
    Check(status);
    return;
  }
  py::object data = np.attr("asarray")(value, "dtype"_a = handle.dtype());
  if (ShapeOf(data) != value_shape) data = np.attr("broadcast_to")(data, shape);
  Layout layout = Layout::kC;
  py::object flags = data.attr("flags");
  if (!flags.attr("c_contiguous").cast<bool>()) {
    if (flags.attr("f_contiguous").cast<bool>()) {
      layout = Layout::kF;
    } else {
      data = np.attr("ascontiguousarray")(data);
    }
  }
  if (data.attr("size").cast<uint64_t>() != n) {
    throw py::value_error("value has " + py::str(data.attr("size")).cast<std::string>() +
                          " elements, the selection " + std::to_string(n));
  }
  if (n == 0) return;
  const char* pointer = DataPointer(data);
  Status status;
  {
    py::gil_scoped_release release;
    status = handle.array().Write(selection, pointer, layout);
  }
  Check(status);
}

// --- Creating arrays -----------------------------------------------------------------------------

// A shape-like argument: an int (1-d) or a sequence of non-negative ints.
Shape ShapeArg(py::handle obj, const char* what) {
  const auto bad = [&] {
    return py::value_error(std::string(what) + " must be non-negative integers, got " +
                           py::repr(obj).cast<std::string>());
  };
  if (auto i = IntegerIndex(obj)) {
    if (*i < 0) throw bad();
    return {static_cast<uint64_t>(*i)};
  }
  if (!py::isinstance<py::iterable>(obj)) throw bad();
  Shape out;
  for (auto item : obj) {
    auto i = IntegerIndex(item);
    if (!i || *i < 0) throw bad();
    out.push_back(static_cast<uint64_t>(*i));
  }
  return out;
}

// The sharding_indexed configuration when the array is sharded the way zarr-python writes it (the
// only codec), else null.
const Json* ShardingConfiguration(const zarr::ArrayMetadata& metadata) {
  const Json& codecs = metadata.codecs;
  if (!codecs.is_array() || codecs.size() != 1 || !codecs[0].is_object()) return nullptr;
  if (codecs[0].value("name", std::string()) != "sharding_indexed") return nullptr;
  const auto it = codecs[0].find("configuration");
  return it == codecs[0].end() ? nullptr : &*it;
}

// zarr-python reads a "bytes" codec without an endian as the machine's byte order; the engine
// wants it explicit for multi-byte types, so fill it in (also inside sharding, whose index is
// always uint64).
Json WithExplicitEndian(Json codecs, bool needs_endian) {
  if (!codecs.is_array()) return codecs;
  const char* native = std::endian::native == std::endian::little ? "little" : "big";
  for (Json& codec : codecs) {
    if (!codec.is_object() || !codec.contains("name") || !codec["name"].is_string()) continue;
    const auto name = codec["name"].get<std::string>();
    if (name == "bytes" && needs_endian) {
      if (!codec.contains("configuration") || !codec["configuration"].is_object()) {
        codec["configuration"] = Json::object();
      }
      Json& configuration = codec["configuration"];
      if (!configuration.contains("endian")) configuration["endian"] = native;
    } else if (name == "sharding_indexed" && codec.contains("configuration") &&
               codec["configuration"].is_object()) {
      Json& configuration = codec["configuration"];
      if (configuration.contains("codecs")) {
        configuration["codecs"] = WithExplicitEndian(configuration["codecs"], needs_endian);
      }
      if (configuration.contains("index_codecs")) {
        configuration["index_codecs"] = WithExplicitEndian(configuration["index_codecs"], true);
      }
    }
  }
  return codecs;
}

Json DefaultSerializer(const DataType& type) {
  if (type.type_class == TypeClass::kString) return {{"name", "vlen-utf8"}};
  if (type.type_class == TypeClass::kBytes) return {{"name", "vlen-bytes"}};
  return {{"name", "bytes"}};
}

std::string FillValueBytes(const DataType& type, py::handle dtype, py::handle fill) {
  if (fill.is_none()) return Unwrap(zarr::ParseFillValue(type, nullptr));
  if (type.variable_length()) return ValueBytes(fill, type.type_class);
  // numpy converts the way an assignment would, including "NaT", NaN and complex values.
  py::object value = Numpy().attr("asarray")(fill, "dtype"_a = dtype);
  if (value.attr("ndim").cast<int>() != 0) {
    throw py::value_error("fill_value must be a scalar, got " + py::repr(fill).cast<std::string>());
  }
  return value.attr("tobytes")().cast<std::string>();
}

std::shared_ptr<ArrayHandle> CreateArray(const std::shared_ptr<ObjectStore>& store,
                                         const std::string& path, py::handle shape_arg,
                                         py::handle chunks_arg, py::handle dtype_arg,
                                         py::handle fill_value, py::handle codecs_arg,
                                         py::handle shards_arg, py::handle dimension_names,
                                         py::handle attributes, const std::string& mode) {
  ZarrArray::CreateMode create_mode;
  if (mode == "w-") {
    create_mode = ZarrArray::CreateMode::kExclusive;
  } else if (mode == "w") {
    create_mode = ZarrArray::CreateMode::kOverwrite;
  } else {
    throw py::value_error(
        "mode must be 'w-' (create, fail if it exists) or 'w' (overwrite), got '" + mode + "'");
  }
  zarr::ArrayMetadata metadata;
  metadata.shape = ShapeArg(shape_arg, "shape");
  const Shape chunks = ShapeArg(chunks_arg, "chunks");
  const size_t rank = metadata.shape.size();
  if (chunks.size() != rank) {
    throw py::value_error("chunks " + py::repr(chunks_arg).cast<std::string>() +
                          " must have rank " + std::to_string(rank) + " like the shape");
  }
  py::object dtype = Numpy().attr("dtype")(dtype_arg);
  metadata.data_type = ZarrTypeOf(dtype);
  metadata.fill_value = FillValueBytes(metadata.data_type, dtype, fill_value);

  Json codecs = codecs_arg.is_none() ? Json::array({DefaultSerializer(metadata.data_type)})
                                     : ToJson(codecs_arg);
  if (!codecs.is_array()) throw py::value_error("codecs must be a list of codec dicts");
  metadata.chunk_shape = chunks;
  if (!shards_arg.is_none()) {
    const Shape shards = ShapeArg(shards_arg, "shards");
    if (shards.size() != rank) throw py::value_error("shards must have the array's rank");
    for (size_t d = 0; d < rank; ++d) {
      if (chunks[d] == 0 || shards[d] % chunks[d] != 0) {
        throw py::value_error("shards " + py::repr(shards_arg).cast<std::string>() +
                              " must be multiples of chunks " +
                              py::repr(chunks_arg).cast<std::string>());
      }
    }
    // The layout zarr-python writes for create_array(shards=...).
    codecs = Json::array(
        {{{"name", "sharding_indexed"},
          {"configuration",
           {{"chunk_shape", chunks},
            {"codecs", codecs},
            {"index_codecs",
             Json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                          {{"name", "crc32c"}}})},
            {"index_location", "end"}}}}});
    metadata.chunk_shape = shards;
  }
  codecs = WithExplicitEndian(std::move(codecs), metadata.data_type.has_endianness());
  // Built once here so a bad chain fails before anything is written, and written back with every
  // default explicit, as zarr-python does.
  const zarr::ChunkSpec spec{metadata.chunk_shape, metadata.data_type, metadata.fill_value};
  metadata.codecs = Unwrap(zarr::CodecChain::FromJson(codecs, spec)).ToJson();

  if (!attributes.is_none()) {
    metadata.attributes = ToJson(attributes);
    if (!metadata.attributes.is_object()) throw py::value_error("attributes must be a dict");
  }
  if (!dimension_names.is_none()) {
    std::vector<std::optional<std::string>> names;
    for (auto name : dimension_names) {
      names.push_back(name.is_none() ? std::nullopt
                                     : std::optional<std::string>(name.cast<std::string>()));
    }
    if (names.size() != rank) {
      throw py::value_error("dimension_names must have one entry per dimension (" +
                            std::to_string(rank) + ")");
    }
    metadata.dimension_names = std::move(names);
  }

  Result<std::shared_ptr<ZarrArray>> created = Status(ErrorKind::kPermanent, "not run");
  {
    py::gil_scoped_release release;
    created = ZarrArray::Create(store, path, std::move(metadata), create_mode);
  }
  return std::make_shared<ArrayHandle>(Unwrap(std::move(created), /*creating=*/true));
}

// Active storage for an array of `store`: a client for the server at `url` (empty: none). A store
// the server cannot read (not S3, temporary credentials) gives none, with one warning: reads and
// reductions then work as without a server.
std::shared_ptr<zarr::RemoteSelector> RemoteFor(const std::string& url, const ObjectStore& store) {
  if (url.empty() || url == "none" || url == "off") return nullptr;
  auto client = active::ClientForStore(url, store);
  if (!client.ok()) {
    if (client.status().kind() == ErrorKind::kInvalidArgument) Raise(client.status());
    static bool warned = false;
    if (!warned) {
      warned = true;
      py::module_::import("warnings")
          .attr("warn")("nimbus: active storage " + url + " is not used: " +
                        client.status().message());
    }
    return nullptr;
  }
  return std::move(client).value();
}

std::shared_ptr<ArrayHandle> OpenArray(const std::shared_ptr<ObjectStore>& store,
                                       const std::string& path, const std::string& active_storage,
                                       double min_saving) {
  zarr::ArrayOptions options;
  options.remote = RemoteFor(active_storage, *store);
  options.remote_min_saving = min_saving;
  Result<std::shared_ptr<ZarrArray>> opened = Status(ErrorKind::kPermanent, "not run");
  {
    py::gil_scoped_release release;
    opened = ZarrArray::Open(store, path, options);
  }
  return std::make_shared<ArrayHandle>(Unwrap(std::move(opened)));
}

// The array behind an HDF5 dataset of a nimbus file, located exactly as the connector locates it
// (vol/location.h) and opened with the connector's array options (cache, active storage).
std::shared_ptr<ArrayHandle> OpenHdf5Dataset(const std::string& file_name,
                                             const std::string& object_name,
                                             const std::optional<std::string>& connector_info) {
  std::optional<vol::ConnectorInfo> info;
  if (connector_info) info = vol::ConnectorInfo::FromString(*connector_info);
  Result<std::shared_ptr<ZarrArray>> opened = Status(ErrorKind::kPermanent, "not run");
  {
    py::gil_scoped_release release;
    opened = [&]() -> Result<std::shared_ptr<ZarrArray>> {
      NIMBUS_ASSIGN_OR_RETURN(vol::FileLocation location,
                              vol::ResolveFileLocation(file_name, info ? &*info : nullptr,
                                                       ProcessEnv()));
      NIMBUS_ASSIGN_OR_RETURN(std::shared_ptr<ObjectStore> store,
                              store::OpenStore(location.store_url, location.settings));
      NIMBUS_ASSIGN_OR_RETURN(zarr::ArrayOptions options,
                              vol::FileArrayOptions(location.settings, ProcessEnv(), store));
      std::string path = object_name;
      while (!path.empty() && path.front() == '/') path.erase(0, 1);
      return ZarrArray::Open(store, path, options);
    }();
  }
  return std::make_shared<ArrayHandle>(Unwrap(std::move(opened)));
}

// nimbus.reduce's engine: `key` is a basic index (ints, slices with positive steps, Ellipsis);
// `axes` are array dimensions (None: all). Integer-indexed dimensions are reduced too (they are
// not in numpy's a[key] either). Returns (values, counts, details).
py::tuple Reduce(const ArrayHandle& h, const std::string& op_name, py::handle key,
                 py::handle axes, const std::string& active_storage, double min_saving) {
  zarr::ReduceOp op;
  if (op_name == "sum") op = zarr::ReduceOp::kSum;
  else if (op_name == "min") op = zarr::ReduceOp::kMin;
  else if (op_name == "max") op = zarr::ReduceOp::kMax;
  else if (op_name == "count") op = zarr::ReduceOp::kCount;
  else throw py::value_error("reduce op must be 'sum', 'min', 'max' or 'count', not '" + op_name + "'");
  const ParsedIndex index = ParseBasicIndex(key, h.array().shape());
  const size_t rank = h.array().shape().size();
  std::optional<std::vector<size_t>> axis;
  if (!axes.is_none()) {
    std::vector<bool> reduce(rank, false);
    for (auto a : axes) {
      const auto d = a.cast<size_t>();
      if (d >= rank) throw py::value_error("axis " + std::to_string(d) + " is out of range");
      reduce[d] = true;
    }
    for (size_t d = 0; d < rank; ++d) reduce[d] = reduce[d] || index.dropped[d];
    axis.emplace();
    for (size_t d = 0; d < rank; ++d) {
      if (reduce[d]) axis->push_back(d);
    }
  }
  // The handle's own array when it already has active storage (or none is wanted), else the same
  // array opened with a client for `active_storage`.
  std::shared_ptr<ZarrArray> array;
  std::shared_ptr<zarr::RemoteSelector> remote;
  if (!h.array().options().remote && !active_storage.empty()) {
    remote = RemoteFor(active_storage, *h.array().store());
  }
  Result<zarr::ReduceResult> result = Status(ErrorKind::kPermanent, "not run");
  {
    py::gil_scoped_release release;
    result = [&]() -> Result<zarr::ReduceResult> {
      ZarrArray* target = &h.array();
      if (remote) {
        zarr::ArrayOptions options = h.array().options();
        options.remote = remote;
        options.remote_min_saving = min_saving;
        NIMBUS_ASSIGN_OR_RETURN(array, ZarrArray::Open(h.array().store(), h.array().path(), options));
        target = array.get();
      }
      return target->Reduce(op, Selection::Orthogonal(index.dims), axis);
    }();
  }
  zarr::ReduceResult r = Unwrap(std::move(result));
  py::object dtype = op == zarr::ReduceOp::kCount ? Numpy().attr("dtype")("int64") : h.dtype();
  py::bytes raw(r.values.data(), r.values.size());
  py::object values = Numpy().attr("frombuffer")(raw, "dtype"_a = dtype).attr("reshape")(ToTuple(r.shape)).attr("copy")();
  py::object counts = Numpy().attr("array")(py::cast(r.count), "dtype"_a = "int64").attr("reshape")(ToTuple(r.shape));
  py::dict details;
  details["remote_chunks"] = r.remote_chunks;
  details["local_chunks"] = r.local_chunks;
  details["fill_chunks"] = r.fill_chunks;
  details["active_storage"] = (remote || h.array().options().remote) ? py::cast(true) : py::cast(false);
  return py::make_tuple(values, counts, details);
}

// --- Stores and groups ---------------------------------------------------------------------------

ConfigMap SettingsMap(const py::dict& settings) {
  ConfigMap out;
  for (auto [key, value] : settings) {
    if (value.is_none()) continue;
    std::string text;
    if (PyBool_Check(value.ptr())) {
      text = value.cast<bool>() ? "true" : "false";
    } else {
      text = py::str(value).cast<std::string>();
    }
    out[py::str(key).cast<std::string>()] = text;
  }
  return out;
}

std::shared_ptr<ObjectStore> OpenStore(const std::string& url, const py::dict& settings) {
  const ConfigMap config = SettingsMap(settings);
  Result<std::shared_ptr<ObjectStore>> opened = Status(ErrorKind::kPermanent, "not run");
  {
    py::gil_scoped_release release;
    opened = store::OpenStore(url, config);
  }
  return Unwrap(std::move(opened));
}

py::object NodeToDict(const zarr::NodeMetadata& node) {
  if (const auto* array = std::get_if<zarr::ArrayMetadata>(&node)) return FromJson(array->ToJson());
  return FromJson(std::get<zarr::GroupMetadata>(node).ToJson());
}

}  // namespace
}  // namespace nimbus::python

PYBIND11_MODULE(_native, m) {
  using namespace nimbus;
  using namespace nimbus::python;
  m.doc() = "nimbus native core: Zarr v3 arrays and groups on object storage";

  py::class_<store::ObjectStore, std::shared_ptr<store::ObjectStore>>(
      m, "Store", "An object store opened by open_store() (S3, Azure, a directory, memory).")
      .def_property_readonly("url", &store::ObjectStore::Describe)
      .def("__repr__",
           [](const store::ObjectStore& s) { return "<nimbus Store " + s.Describe() + ">"; });

  m.def("open_store", &OpenStore, py::arg("url"), py::arg("settings") = py::dict(),
        "Opens s3://bucket/prefix, az://container/prefix, file:///abs/dir, memory://name or a "
        "plain directory path; settings are the driver's keys (endpoint, region, "
        "access_key_id, ...), the rest comes from the environment.");

  py::class_<ArrayHandle, std::shared_ptr<ArrayHandle>>(m, "Array", "A Zarr v3 array.")
      .def_static("create", &CreateArray, py::arg("store"), py::arg("path"), py::arg("shape"),
                  py::arg("chunks"), py::arg("dtype"), py::arg("fill_value") = py::none(),
                  py::arg("codecs") = py::none(), py::arg("shards") = py::none(),
                  py::arg("dimension_names") = py::none(), py::arg("attributes") = py::none(),
                  py::arg("mode") = "w-",
                  "Creates an array; mode 'w-' fails with FileExistsError when one exists, 'w' "
                  "replaces it. codecs is the Zarr codec list (default: bytes only); with shards, "
                  "chunks become the inner chunks of sharding_indexed.")
      .def_static("open", &OpenArray, py::arg("store"), py::arg("path") = "",
                  py::arg("active_storage") = "", py::arg("active_storage_min_saving") = 0.5,
                  "Opens an array; with active_storage (http://host:port of nimbus-active), sparse "
                  "reads of compressed chunks select on the server and reduce() runs there.")
      .def_static("open_hdf5_dataset", &OpenHdf5Dataset, py::arg("file_name"),
                  py::arg("object_name"), py::arg("connector_info") = py::none(),
                  "The array behind a dataset of a nimbus HDF5 file, located as the connector "
                  "does (connector_info: what follows 'nimbus' in HDF5_VOL_CONNECTOR).")
      .def_property_readonly("shape",
                             [](const ArrayHandle& h) { return ToTuple(h.array().shape()); })
      .def_property_readonly("ndim", [](const ArrayHandle& h) { return h.array().shape().size(); })
      .def_property_readonly("size",
                             [](const ArrayHandle& h) {
                               uint64_t n = 1;
                               for (uint64_t d : h.array().shape()) n *= d;
                               return n;
                             })
      .def_property_readonly("dtype", [](const ArrayHandle& h) { return h.dtype(); })
      .def_property_readonly("chunks",
                             [](const ArrayHandle& h) -> py::tuple {
                               // The unit of reading: the inner chunk when sharded (as
                               // zarr-python).
                               const auto* sharding = ShardingConfiguration(h.array().metadata());
                               if (sharding != nullptr && sharding->contains("chunk_shape")) {
                                 return ToTuple(sharding->at("chunk_shape").get<Shape>());
                               }
                               return ToTuple(h.array().metadata().chunk_shape);
                             })
      .def_property_readonly("shards",
                             [](const ArrayHandle& h) -> py::object {
                               if (ShardingConfiguration(h.array().metadata()) == nullptr) {
                                 return py::none();
                               }
                               return ToTuple(h.array().metadata().chunk_shape);
                             })
      .def_property_readonly(
          "fill_value",
          [](const ArrayHandle& h) -> py::object {
            const std::string& fill = h.array().metadata().fill_value;
            if (h.variable_length()) return ValueObject(fill, h.type_class());
            py::object bytes = py::bytes(fill);
            return Numpy().attr("frombuffer")(bytes, "dtype"_a = h.dtype()).attr("__getitem__")(0);
          })
      .def_property_readonly("path", [](const ArrayHandle& h) { return h.array().path(); })
      .def_property_readonly("url", [](const ArrayHandle& h) { return h.array().Describe(); })
      .def_property(
          "attrs", [](const ArrayHandle& h) { return FromJson(h.array().metadata().attributes); },
          [](const ArrayHandle& h, const py::dict& attributes) {
            Json j = ToJson(attributes);
            Status status;
            {
              py::gil_scoped_release release;
              status = h.array().SetAttributes(std::move(j));
            }
            Check(status);
          },
          "The attributes as a dict (a copy: assign a whole dict to change them).")
      .def_property_readonly(
          "metadata", [](const ArrayHandle& h) { return FromJson(h.array().metadata().ToJson()); })
      .def("__getitem__",
           [](const ArrayHandle& h, py::handle key) {
             return ReadIndex(h, ParseBasicIndex(key, h.array().shape()), Layout::kC);
           })
      .def(
          "get_basic",
          [](const ArrayHandle& h, py::handle key, const std::string& order) {
            return ReadIndex(h, ParseBasicIndex(key, h.array().shape()), ParseOrder(order));
          },
          py::arg("key") = py::ellipsis(), py::arg("order") = "C",
          "Like a[key], with the result in C or F order.")
      .def("__setitem__",
           [](const ArrayHandle& h, py::handle key, py::handle value) {
             const ParsedIndex index = ParseBasicIndex(key, h.array().shape());
             WriteSelection(h, Selection::Orthogonal(index.dims), index.ResultShape(), value);
           })
      .def(
          "get_orthogonal",
          [](const ArrayHandle& h, py::handle indexes, const std::string& order) {
            return ReadIndex(h, ParseOrthogonalIndex(indexes, h.array().shape()),
                             ParseOrder(order));
          },
          py::arg("indexes"), py::arg("order") = "C",
          "Orthogonal (outer) indexing: per dimension an int, a slice, an integer array or a "
          "boolean mask; the result is their Cartesian product.")
      .def(
          "get_points",
          [](const ArrayHandle& h, py::handle coords) {
            uint64_t count = 0;
            std::vector<uint64_t> flat = ParsePoints(coords, h.array().shape(), &count);
            const Selection selection =
                Selection::Points(h.array().shape().size(), std::move(flat));
            return ReadSelection(h, selection, Shape{count}, Layout::kC);
          },
          py::arg("coords"), "Elements at coords, an integer array of shape (n, ndim).")
      .def(
          "set_points",
          [](const ArrayHandle& h, py::handle coords, py::handle values) {
            uint64_t count = 0;
            std::vector<uint64_t> flat = ParsePoints(coords, h.array().shape(), &count);
            const Selection selection =
                Selection::Points(h.array().shape().size(), std::move(flat));
            WriteSelection(h, selection, Shape{count}, values);
          },
          py::arg("coords"), py::arg("values"))
      .def(
          "resize",
          [](const ArrayHandle& h, py::handle shape) {
            Shape new_shape = ShapeArg(shape, "shape");
            Status status;
            {
              py::gil_scoped_release release;
              status = h.array().Resize(std::move(new_shape));
            }
            Check(status);
          },
          py::arg("shape"))
      .def(
          "refresh",
          [](const ArrayHandle& h) {
            Status status;
            {
              py::gil_scoped_release release;
              status = h.array().Refresh();
            }
            Check(status);
          },
          "Re-reads zarr.json (another writer may have changed it).")
      .def("stats",
           [](const ArrayHandle& h) {
             const zarr::IoStats s = h.array().stats();
             py::dict out;
             out["bytes_read"] = s.bytes_read;
             out["bytes_written"] = s.bytes_written;
             out["get_requests"] = s.get_requests;
             out["put_requests"] = s.put_requests;
             out["delete_requests"] = s.delete_requests;
             out["remote_requests"] = s.remote_requests;
             out["remote_bytes"] = s.remote_bytes;
             out["remote_fallbacks"] = s.remote_fallbacks;
             out["remote_stored_bytes"] = s.remote_stored_bytes;
             return out;
           })
      .def("__len__",
           [](const ArrayHandle& h) {
             if (h.array().shape().empty()) throw py::type_error("len() of a 0-d array");
             return h.array().shape()[0];
           })
      .def(
          "__array__",
          [](const ArrayHandle& h, py::handle dtype, py::handle /*copy*/) {
            py::object all =
                ReadIndex(h, ParseBasicIndex(py::ellipsis(), h.array().shape()), Layout::kC);
            return dtype.is_none() ? all : all.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("__repr__", [](const ArrayHandle& h) {
        return "<nimbus Array " + h.array().Describe() +
               " shape=" + py::str(ToTuple(h.array().shape())).cast<std::string>() +
               " dtype=" + py::str(h.dtype()).cast<std::string>() + ">";
      });

  m.def("reduce", &Reduce, py::arg("array"), py::arg("op"), py::arg("key"), py::arg("axes"),
        py::arg("active_storage") = "", py::arg("active_storage_min_saving") = 0.5,
        "sum/min/max/count of array[key] over axes (array dimensions; None = all), per chunk on "
        "the active storage server when there is one; returns (values, counts, details).");
  m.def(
      "create_group",
      [](const std::shared_ptr<store::ObjectStore>& s, const std::string& path,
         py::handle attributes) {
        Json j = attributes.is_none() ? Json::object() : ToJson(attributes);
        if (!j.is_object()) throw py::value_error("attributes must be a dict");
        Status status;
        {
          py::gil_scoped_release release;
          status = zarr::CreateGroup(*s, path, j);
        }
        Check(status, /*creating=*/true);
      },
      py::arg("store"), py::arg("path") = "", py::arg("attributes") = py::none(),
      "Writes a group's zarr.json (parents are not created).");
  m.def(
      "list_children",
      [](const std::shared_ptr<store::ObjectStore>& s, const std::string& path) {
        Result<std::vector<std::string>> children = Status(ErrorKind::kPermanent, "not run");
        {
          py::gil_scoped_release release;
          children = zarr::ListChildren(*s, path);
        }
        return Unwrap(std::move(children));
      },
      py::arg("store"), py::arg("path") = "");
  m.def(
      "read_node",
      [](const std::shared_ptr<store::ObjectStore>& s, const std::string& path) {
        Result<zarr::NodeMetadata> node = Status(ErrorKind::kPermanent, "not run");
        {
          py::gil_scoped_release release;
          node = zarr::ReadNode(*s, path);
        }
        return NodeToDict(Unwrap(std::move(node)));
      },
      py::arg("store"), py::arg("path") = "", "A node's zarr.json as a dict.");
  m.def(
      "delete_node",
      [](const std::shared_ptr<store::ObjectStore>& s, const std::string& path) {
        Status status;
        {
          py::gil_scoped_release release;
          status = zarr::DeleteNode(*s, path);
        }
        Check(status);
      },
      py::arg("store"), py::arg("path"), "Deletes a node and everything under it.");
}
