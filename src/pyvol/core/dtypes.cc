#include "pyvol/core/dtypes.h"

#include <cstring>
#include <string>
#include <vector>

namespace nimbus::pyvol {
namespace {

using nimbus::vol::Hid;

[[noreturn]] void Unsupported(const std::string& what) {
  throw BridgeError(H5E_DATATYPE, H5E_UNSUPPORTED, what);
}

void Check(herr_t status, const char* what) {
  if (status < 0) throw BridgeError(H5E_DATATYPE, H5E_CANTINIT, std::string("HDF5 failed to ") + what);
}

char OrderChar(hid_t type) { return H5Tget_order(type) == H5T_ORDER_BE ? '>' : '<'; }

Ref Dtype(PyObject* spec, PyObject* metadata = nullptr) {
  Ref args = PyTupleOf({spec});
  Ref kwargs;
  if (metadata != nullptr) {
    kwargs = Ref::Steal(PyDict_New());
    if (PyDict_SetItemString(kwargs.get(), "metadata", metadata) < 0) {
      ThrowPythonError(H5E_DATATYPE, H5E_CANTINIT);
    }
  }
  return Ref::Steal(PyObject_Call(NumpyDtype(), args.get(), kwargs.get()));
}

Ref DtypeFromString(const std::string& s, PyObject* metadata = nullptr) {
  return Dtype(PyStr(s).get(), metadata);
}

std::string IntegerCode(hid_t type) {
  size_t size = H5Tget_size(type);
  if (size != 1 && size != 2 && size != 4 && size != 8) {
    Unsupported(std::to_string(size * 8) + "-bit integers have no numpy dtype");
  }
  const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  return std::string(1, size == 1 ? '|' : OrderChar(type)) + (is_signed ? "i" : "u") +
         std::to_string(size);
}

// Enum member values as Python ints (through H5Tconvert to a 64-bit integer: exact).
Ref EnumMembers(hid_t type, hid_t base) {
  Ref members = Ref::Steal(PyDict_New());
  int n = H5Tget_nmembers(type);
  if (n < 0) Check(-1, "read enum members");
  const bool is_signed = H5Tget_sign(base) == H5T_SGN_2;
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    if (name == nullptr) Check(-1, "read enum member names");
    std::string member(name);
    H5free_memory(name);
    unsigned char value[16] = {};
    Check(H5Tget_member_value(type, static_cast<unsigned>(i), value), "read enum values");
    Check(H5Tconvert(base, is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64, 1, value, nullptr,
                     H5P_DEFAULT),
          "convert enum values");
    Ref v;
    if (is_signed) {
      int64_t x;
      std::memcpy(&x, value, sizeof x);
      v = PyInt(x);
    } else {
      uint64_t x;
      std::memcpy(&x, value, sizeof x);
      v = PyUInt(x);
    }
    if (PyDict_SetItemString(members.get(), member.c_str(), v.get()) < 0) {
      ThrowPythonError(H5E_DATATYPE, H5E_CANTINIT);
    }
  }
  return members;
}

bool IsBoolEnum(hid_t type, hid_t base) {
  if (H5Tget_size(base) != 1 || H5Tget_nmembers(type) != 2) return false;
  bool has_false = false, has_true = false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    if (name == nullptr) return false;
    signed char value = 0;
    H5Tget_member_value(type, i, &value);
    if (std::strcmp(name, "FALSE") == 0 && value == 0) has_false = true;
    if (std::strcmp(name, "TRUE") == 0 && value == 1) has_true = true;
    H5free_memory(name);
  }
  return has_false && has_true;
}

Ref Metadata(const char* key, PyObject* value) {
  Ref md = Ref::Steal(PyDict_New());
  if (PyDict_SetItemString(md.get(), key, value) < 0) ThrowPythonError(H5E_DATATYPE, H5E_CANTINIT);
  return md;
}

Ref DtypeOfImpl(hid_t type, bool top_level) {
  H5T_class_t cls = H5Tget_class(type);
  switch (cls) {
    case H5T_INTEGER:
      return DtypeFromString(IntegerCode(type));
    case H5T_BITFIELD: {
      size_t size = H5Tget_size(type);
      return DtypeFromString(std::string(1, size == 1 ? '|' : OrderChar(type)) + "u" +
                             std::to_string(size));
    }
    case H5T_FLOAT: {
      size_t size = H5Tget_size(type);
      if (size != 2 && size != 4 && size != 8) {
        Unsupported(std::to_string(size * 8) + "-bit floats have no numpy dtype here");
      }
      return DtypeFromString(std::string(1, OrderChar(type)) + "f" + std::to_string(size));
    }
    case H5T_ENUM: {
      Hid base(H5Tget_super(type));
      if (!base.valid()) Check(-1, "read an enum's base type");
      if (IsBoolEnum(type, base.get())) return DtypeFromString("?");
      Ref members = EnumMembers(type, base.get());
      return DtypeFromString(IntegerCode(base.get()), Metadata("enum", members.get()).get());
    }
    case H5T_STRING: {
      htri_t variable = H5Tis_variable_str(type);
      if (variable < 0) Check(-1, "inspect a string type");
      const bool utf8 = H5Tget_cset(type) == H5T_CSET_UTF8;
      if (variable) {
        if (!top_level) {
          Unsupported("variable-length strings inside compound or array types are not supported");
        }
        PyObject* kind = utf8 ? reinterpret_cast<PyObject*>(&PyUnicode_Type)
                              : reinterpret_cast<PyObject*>(&PyBytes_Type);
        return DtypeFromString("O", Metadata("vlen", kind).get());
      }
      std::string code = "S" + std::to_string(H5Tget_size(type));
      if (utf8) return DtypeFromString(code, Metadata("h5py_encoding", PyStr("utf-8").get()).get());
      return DtypeFromString(code);
    }
    case H5T_OPAQUE:
      return DtypeFromString("V" + std::to_string(H5Tget_size(type)));
    case H5T_ARRAY: {
      Hid base(H5Tget_super(type));
      int rank = H5Tget_array_ndims(type);
      if (!base.valid() || rank < 0) Check(-1, "inspect an array type");
      std::vector<hsize_t> dims(static_cast<size_t>(rank));
      Check(H5Tget_array_dims2(type, dims.data()), "inspect an array type");
      Ref shape = Ref::Steal(PyTuple_New(rank));
      for (int i = 0; i < rank; ++i) PyTuple_SET_ITEM(shape.get(), i, PyInt(static_cast<long long>(dims[i])).release());
      Ref base_dtype = DtypeOfImpl(base.get(), false);
      return Dtype(PyTupleOf({base_dtype.get(), shape.get()}).get());
    }
    case H5T_COMPOUND: {
      int n = H5Tget_nmembers(type);
      if (n < 0) Check(-1, "inspect a compound type");
      Ref names = Ref::Steal(PyList_New(0));
      Ref formats = Ref::Steal(PyList_New(0));
      Ref offsets = Ref::Steal(PyList_New(0));
      for (int i = 0; i < n; ++i) {
        char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
        if (name == nullptr) Check(-1, "inspect a compound type");
        Ref py_name = PyStr(name);
        H5free_memory(name);
        Hid member(H5Tget_member_type(type, static_cast<unsigned>(i)));
        if (!member.valid()) Check(-1, "inspect a compound type");
        Ref member_dtype = DtypeOfImpl(member.get(), false);
        Ref offset = PyInt(static_cast<long long>(H5Tget_member_offset(type, static_cast<unsigned>(i))));
        if (PyList_Append(names.get(), py_name.get()) < 0 ||
            PyList_Append(formats.get(), member_dtype.get()) < 0 ||
            PyList_Append(offsets.get(), offset.get()) < 0) {
          ThrowPythonError(H5E_DATATYPE, H5E_CANTINIT);
        }
      }
      Ref spec = Ref::Steal(PyDict_New());
      Ref itemsize = PyInt(static_cast<long long>(H5Tget_size(type)));
      if (PyDict_SetItemString(spec.get(), "names", names.get()) < 0 ||
          PyDict_SetItemString(spec.get(), "formats", formats.get()) < 0 ||
          PyDict_SetItemString(spec.get(), "offsets", offsets.get()) < 0 ||
          PyDict_SetItemString(spec.get(), "itemsize", itemsize.get()) < 0) {
        ThrowPythonError(H5E_DATATYPE, H5E_CANTINIT);
      }
      return Dtype(spec.get());
    }
    case H5T_REFERENCE:
      Unsupported("reference datatypes are not supported by the pyvol bridge");
    case H5T_VLEN:
      Unsupported("variable-length sequence datatypes are not supported by the pyvol bridge");
    case H5T_TIME:
      Unsupported("time datatypes are not supported by the pyvol bridge");
    default:
      Check(-1, "inspect a datatype");
  }
  return Ref();
}

// --- numpy -> HDF5 ---------------------------------------------------------------------------

PyObject* MetadataItem(PyObject* dtype, const char* key) {  // borrowed-like: new ref or null
  Ref md = Ref::Steal(PyObject_GetAttrString(dtype, "metadata"));
  if (md.get() == Py_None || !PyMapping_Check(md.get())) return nullptr;
  if (!PyMapping_HasKeyString(md.get(), key)) return nullptr;
  PyObject* v = PyMapping_GetItemString(md.get(), key);
  if (v == nullptr) ThrowPythonError(H5E_DATATYPE, H5E_BADTYPE);
  return v;
}

H5T_order_t OrderOf(PyObject* dtype) {
  Ref bo = Ref::Steal(PyObject_GetAttrString(dtype, "byteorder"));
  std::string b = AsString(bo.get(), "dtype.byteorder");
  if (b == ">") return H5T_ORDER_BE;
  if (b == "<") return H5T_ORDER_LE;
  return H5Tget_order(H5T_NATIVE_INT);
}

Hid IntegerType(size_t size, bool is_signed, H5T_order_t order) {
  hid_t base;
  switch (size) {
    case 1: base = is_signed ? H5T_STD_I8LE : H5T_STD_U8LE; break;
    case 2: base = is_signed ? H5T_STD_I16LE : H5T_STD_U16LE; break;
    case 4: base = is_signed ? H5T_STD_I32LE : H5T_STD_U32LE; break;
    case 8: base = is_signed ? H5T_STD_I64LE : H5T_STD_U64LE; break;
    default: Unsupported(std::to_string(size * 8) + "-bit integer dtypes are not supported");
  }
  Hid t(H5Tcopy(base));
  Check(t.valid() ? H5Tset_order(t.get(), order) : -1, "make an integer type");
  return t;
}

Hid FloatType(size_t size, H5T_order_t order) {
  hid_t base;
  switch (size) {
    case 2: base = H5T_IEEE_F16LE; break;
    case 4: base = H5T_IEEE_F32LE; break;
    case 8: base = H5T_IEEE_F64LE; break;
    default: Unsupported(std::to_string(size * 8) + "-bit float dtypes are not supported");
  }
  Hid t(H5Tcopy(base));
  Check(t.valid() ? H5Tset_order(t.get(), order) : -1, "make a float type");
  return t;
}

size_t ItemSize(PyObject* dtype) {
  Ref v = Ref::Steal(PyObject_GetAttrString(dtype, "itemsize"));
  return static_cast<size_t>(AsLong(v.get(), "dtype.itemsize"));
}

Hid TypeOfDtypeImpl(PyObject* dtype, bool top_level) {
  Ref subdtype = Ref::Steal(PyObject_GetAttrString(dtype, "subdtype"));
  if (subdtype.get() != Py_None) {
    PyObject* base = PyTuple_GetItem(subdtype.get(), 0);
    PyObject* shape = PyTuple_GetItem(subdtype.get(), 1);
    if (base == nullptr || shape == nullptr) ThrowPythonError(H5E_DATATYPE, H5E_BADTYPE);
    Hid base_type = TypeOfDtypeImpl(base, false);
    std::vector<hsize_t> dims;
    for (Py_ssize_t i = 0; i < PyTuple_Size(shape); ++i) {
      dims.push_back(static_cast<hsize_t>(AsLong(PyTuple_GetItem(shape, i), "sub-array shape")));
    }
    Hid t(H5Tarray_create2(base_type.get(), static_cast<unsigned>(dims.size()), dims.data()));
    Check(t.valid() ? 0 : -1, "make an array type");
    return t;
  }
  Ref names = Ref::Steal(PyObject_GetAttrString(dtype, "names"));
  if (names.get() != Py_None) {
    Ref fields = Ref::Steal(PyObject_GetAttrString(dtype, "fields"));
    Hid t(H5Tcreate(H5T_COMPOUND, ItemSize(dtype)));
    Check(t.valid() ? 0 : -1, "make a compound type");
    for (Py_ssize_t i = 0; i < PyTuple_Size(names.get()); ++i) {
      PyObject* name = PyTuple_GetItem(names.get(), i);
      PyObject* field = PyObject_GetItem(fields.get(), name);
      if (field == nullptr) ThrowPythonError(H5E_DATATYPE, H5E_BADTYPE);
      Ref field_ref = Ref::Steal(field);
      Hid member = TypeOfDtypeImpl(PyTuple_GetItem(field, 0), false);
      long long offset = AsLong(PyTuple_GetItem(field, 1), "field offset");
      Check(H5Tinsert(t.get(), AsString(name, "field name").c_str(), static_cast<size_t>(offset),
                      member.get()),
            "add a compound member");
    }
    return t;
  }
  Ref kind_obj = Ref::Steal(PyObject_GetAttrString(dtype, "kind"));
  const std::string kind = AsString(kind_obj.get(), "dtype.kind");
  const size_t size = ItemSize(dtype);
  if (kind == "b") {
    Hid base = IntegerType(1, true, H5T_ORDER_LE);
    Hid t(H5Tenum_create(base.get()));
    signed char f = 0, v = 1;
    Check(t.valid() ? H5Tenum_insert(t.get(), "FALSE", &f) : -1, "make a boolean type");
    Check(H5Tenum_insert(t.get(), "TRUE", &v), "make a boolean type");
    return t;
  }
  if (kind == "i" || kind == "u") {
    Hid base = IntegerType(size, kind == "i", OrderOf(dtype));
    Ref members = Ref::StealOrNull(MetadataItem(dtype, "enum"));
    if (!members) return base;
    Hid t(H5Tenum_create(base.get()));
    Check(t.valid() ? 0 : -1, "make an enum type");
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    Ref items = Ref::Steal(PyDict_Copy(members.get()));
    while (PyDict_Next(items.get(), &pos, &key, &value)) {
      unsigned char buf[16] = {};
      if (kind == "i") {
        int64_t x = AsLong(value, "enum value");
        std::memcpy(buf, &x, sizeof x);
        Check(H5Tconvert(H5T_NATIVE_INT64, base.get(), 1, buf, nullptr, H5P_DEFAULT), "convert an enum value");
      } else {
        uint64_t x = PyLong_AsUnsignedLongLong(value);
        if (PyErr_Occurred()) ThrowPythonError(H5E_DATATYPE, H5E_BADTYPE);
        std::memcpy(buf, &x, sizeof x);
        Check(H5Tconvert(H5T_NATIVE_UINT64, base.get(), 1, buf, nullptr, H5P_DEFAULT), "convert an enum value");
      }
      Check(H5Tenum_insert(t.get(), AsString(key, "enum member name").c_str(), buf), "add an enum member");
    }
    return t;
  }
  if (kind == "f") return FloatType(size, OrderOf(dtype));
  if (kind == "c") {
    H5T_order_t order = OrderOf(dtype);
    Hid part = FloatType(size / 2, order);
    Hid t(H5Tcreate(H5T_COMPOUND, size));
    Check(t.valid() ? H5Tinsert(t.get(), "r", 0, part.get()) : -1, "make a complex type");
    Check(H5Tinsert(t.get(), "i", size / 2, part.get()), "make a complex type");
    return t;
  }
  if (kind == "S") {
    Hid t(H5Tcopy(H5T_C_S1));
    Ref encoding = Ref::StealOrNull(MetadataItem(dtype, "h5py_encoding"));
    bool utf8 = encoding && AsString(encoding.get(), "h5py_encoding") == "utf-8";
    Check(t.valid() ? H5Tset_size(t.get(), size) : -1, "make a string type");
    Check(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "make a string type");
    Check(H5Tset_cset(t.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), "make a string type");
    return t;
  }
  if (kind == "O") {
    Ref vlen = Ref::StealOrNull(MetadataItem(dtype, "vlen"));
    if (!top_level || !vlen ||
        (vlen.get() != reinterpret_cast<PyObject*>(&PyUnicode_Type) &&
         vlen.get() != reinterpret_cast<PyObject*>(&PyBytes_Type))) {
      throw BridgeError(H5E_DATATYPE, H5E_BADTYPE,
                        "object dtypes must be variable-length strings (metadata {'vlen': str} or "
                        "{'vlen': bytes}, see nimbus.pyvol.string_dtype)");
    }
    Hid t(H5Tcopy(H5T_C_S1));
    const bool utf8 = vlen.get() == reinterpret_cast<PyObject*>(&PyUnicode_Type);
    Check(t.valid() ? H5Tset_size(t.get(), H5T_VARIABLE) : -1, "make a string type");
    Check(H5Tset_cset(t.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), "make a string type");
    return t;
  }
  if (kind == "V") {
    Hid t(H5Tcreate(H5T_OPAQUE, size));
    Check(t.valid() ? 0 : -1, "make an opaque type");
    return t;
  }
  throw BridgeError(H5E_DATATYPE, H5E_BADTYPE,
                    "numpy dtype kind '" + kind + "' has no HDF5 equivalent (for text use "
                    "nimbus.pyvol.string_dtype())");
}

}  // namespace

Ref DtypeOf(hid_t type) { return DtypeOfImpl(type, true); }

Hid TypeOfDtype(PyObject* dtype) { return TypeOfDtypeImpl(dtype, true); }

}  // namespace nimbus::pyvol
