#include "pyvol/core/python_support.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "pyvol/core/handles.h"

namespace nimbus::pyvol {

Ref Ref::Steal(PyObject* p) {
  if (p == nullptr) ThrowPythonError(H5I_INVALID_HID, H5I_INVALID_HID);
  return Ref(p);
}

Ref Ref::Attr(const char* name) const { return Steal(PyObject_GetAttrString(p_, name)); }

Ref Ref::Call(const char* name, std::initializer_list<PyObject*> args, PyObject* kwargs) const {
  Ref method = Attr(name);
  Ref tuple = Steal(PyTuple_New(static_cast<Py_ssize_t>(args.size())));
  Py_ssize_t i = 0;
  for (PyObject* a : args) {
    Py_INCREF(a);
    PyTuple_SET_ITEM(tuple.get(), i++, a);
  }
  return Steal(PyObject_Call(method.get(), tuple.get(), kwargs));
}

Ref Ref::operator()(std::initializer_list<PyObject*> args) const {
  std::vector<PyObject*> v(args);
  return Steal(PyObject_Vectorcall(p_, v.data(), v.size(), nullptr));
}

Ref PyInt(long long v) { return Ref::Steal(PyLong_FromLongLong(v)); }
Ref PyUInt(unsigned long long v) { return Ref::Steal(PyLong_FromUnsignedLongLong(v)); }
Ref PyStr(const std::string& s) {
  return Ref::Steal(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()),
                                         "surrogateescape"));
}
Ref PyBool(bool b) { return Ref::Borrow(b ? Py_True : Py_False); }
Ref PyNone() { return Ref::Borrow(Py_None); }
Ref PyTupleOf(std::initializer_list<PyObject*> items) {
  Ref t = Ref::Steal(PyTuple_New(static_cast<Py_ssize_t>(items.size())));
  Py_ssize_t i = 0;
  for (PyObject* o : items) {
    Py_INCREF(o);
    PyTuple_SET_ITEM(t.get(), i++, o);
  }
  return t;
}

long long AsLong(PyObject* o, const char* what) {
  long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw BridgeError(H5E_VOL, H5E_BADTYPE, std::string(what) + " must be an integer");
  }
  return v;
}

bool AsBool(PyObject* o, const char* what) {
  int v = PyObject_IsTrue(o);
  if (v < 0) ThrowPythonError(H5E_VOL, H5E_BADTYPE);
  (void)what;
  return v != 0;
}

std::string AsString(PyObject* o, const char* what) {
  if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == nullptr) ThrowPythonError(H5E_VOL, H5E_BADTYPE);
    return std::string(s, static_cast<size_t>(n));
  }
  if (PyBytes_Check(o)) return std::string(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
  throw BridgeError(H5E_VOL, H5E_BADTYPE, std::string(what) + " must be a str");
}

namespace {

std::string Describe(PyObject* o) {
  if (o == nullptr) return "";
  PyObject* s = PyObject_Str(o);
  if (s == nullptr) {
    PyErr_Clear();
    return "<unprintable>";
  }
  const char* text = PyUnicode_AsUTF8(s);
  std::string out = text != nullptr ? text : "<unprintable>";
  if (text == nullptr) PyErr_Clear();
  Py_DECREF(s);
  return out;
}

// " (at file:line in function)" of the innermost frame of a traceback.
std::string Where(PyObject* tb) {
  if (tb == nullptr || tb == Py_None) return "";
  PyObject* last = tb;
  Py_INCREF(last);
  for (;;) {
    PyObject* next = PyObject_GetAttrString(last, "tb_next");
    if (next == nullptr) {
      PyErr_Clear();
      break;
    }
    if (next == Py_None) {
      Py_DECREF(next);
      break;
    }
    Py_DECREF(last);
    last = next;
  }
  std::string out;
  PyObject* line = PyObject_GetAttrString(last, "tb_lineno");
  PyObject* frame = PyObject_GetAttrString(last, "tb_frame");
  PyObject* code = frame != nullptr ? PyObject_GetAttrString(frame, "f_code") : nullptr;
  PyObject* file = code != nullptr ? PyObject_GetAttrString(code, "co_filename") : nullptr;
  PyObject* func = code != nullptr ? PyObject_GetAttrString(code, "co_name") : nullptr;
  if (line != nullptr && file != nullptr && func != nullptr) {
    out = " (at " + Describe(file) + ":" + Describe(line) + " in " + Describe(func) + ")";
  }
  PyErr_Clear();
  Py_XDECREF(line);
  Py_XDECREF(frame);
  Py_XDECREF(code);
  Py_XDECREF(file);
  Py_XDECREF(func);
  Py_DECREF(last);
  return out;
}

}  // namespace

BridgeError FetchPythonError(hid_t major, hid_t minor) {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) {
    return BridgeError(major, minor, "Python call failed without an exception");
  }
  PyErr_NormalizeException(&type, &value, &tb);
  const char* type_name =
      PyType_Check(type) ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "exception";
  std::string text = std::string(type_name);
  std::string message = Describe(value);
  if (!message.empty()) text += ": " + message;
  text += Where(tb);
  int errno_value = 0;
  auto matches = [&](PyObject* exc) { return PyErr_GivenExceptionMatches(type, exc) != 0; };
  if (matches(PyExc_FileNotFoundError)) {
    errno_value = ENOENT;
    major = H5E_FILE;
    minor = H5E_CANTOPENFILE;
  } else if (matches(PyExc_FileExistsError)) {
    errno_value = EEXIST;
    major = H5E_FILE;
    minor = H5E_FILEEXISTS;
  } else if (matches(PyExc_PermissionError)) {
    errno_value = EACCES;
    major = H5E_FILE;
    minor = H5E_CANTOPENFILE;
  } else if (matches(PyExc_KeyError)) {
    major = H5E_SYM;
    minor = H5E_NOTFOUND;
  } else if (matches(PyExc_NotImplementedError)) {
    major = H5E_VOL;
    minor = H5E_UNSUPPORTED;
  } else if (matches(PyExc_TypeError)) {
    major = H5E_DATATYPE;
    minor = H5E_BADTYPE;
  } else if (matches(PyExc_ValueError) && message.find("already exists") != std::string::npos) {
    major = H5E_SYM;
    minor = H5E_EXISTS;
  } else if (matches(PyExc_OSError)) {
    PyObject* e = value != nullptr ? PyObject_GetAttrString(value, "errno") : nullptr;
    if (e != nullptr && PyLong_Check(e)) errno_value = static_cast<int>(PyLong_AsLong(e));
    if (errno_value == 0) errno_value = EIO;
    Py_XDECREF(e);
    PyErr_Clear();
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return BridgeError(major, minor, text, errno_value);
}

void ThrowPythonError(hid_t major, hid_t minor) { throw FetchPythonError(major, minor); }

bool PythonUsable() {
  if (!Py_IsInitialized()) return false;
#if PY_VERSION_HEX >= 0x030D0000
  if (Py_IsFinalizing()) return PyGILState_Check() != 0;
#else
  if (_Py_IsFinalizing()) return PyGILState_Check() != 0;
#endif
  return true;
}

namespace {

std::string EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The interpreter an embedded Python should behave as (sys.prefix, site-packages): configured, or
// the active virtual environment's, or the one nimbus was built with.
std::string PythonExecutable(const nimbus_pyvol_config_t* config) {
  if (config != nullptr && config->python_executable != nullptr && *config->python_executable) {
    return config->python_executable;
  }
  if (std::string v = EnvOr("NIMBUS_PYVOL_PYTHON"); !v.empty()) return v;
  if (std::string venv = EnvOr("VIRTUAL_ENV"); !venv.empty()) {
    std::string exe = venv + "/bin/python";
    if (access(exe.c_str(), X_OK) == 0) return exe;
  }
  return NIMBUS_PYVOL_DEFAULT_PYTHON;
}

}  // namespace

void EnsureInterpreter(const nimbus_pyvol_config_t* config) {
  static std::mutex mu;
  if (Py_IsInitialized()) return;
  std::lock_guard<std::mutex> lock(mu);
  if (Py_IsInitialized()) return;
  PyConfig pc;
  PyConfig_InitPythonConfig(&pc);
  pc.install_signal_handlers = 0;  // the host program owns its signals
  pc.parse_argv = 0;
  // The interpreter is never finalized, so nothing would flush buffered output at exit: write
  // connector output (print) straight through.
  pc.buffered_stdio = 0;
  std::string exe = PythonExecutable(config);
  PyStatus status = PyConfig_SetBytesString(&pc, &pc.program_name, exe.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&pc);
  PyConfig_Clear(&pc);
  if (PyStatus_Exception(status)) {
    throw BridgeError(H5E_VOL, H5E_CANTINIT,
                      std::string("cannot start the Python interpreter (as ") + exe + "): " +
                          (status.err_msg != nullptr ? status.err_msg : "unknown error"));
  }
  // Every callback takes the GIL with PyGILState_Ensure; the starting thread gives it up here.
  PyEval_SaveThread();
}

namespace {

PyObject* LiveHandlesFunction(PyObject*, PyObject*) { return PyLong_FromLong(LiveHandleCount()); }

PyMethodDef kLiveHandlesDef = {"live_handles", LiveHandlesFunction, METH_NOARGS,
                               "Handles alive in the pyvol core."};

PyObject* CachedAttr(PyObject* module, const char* name) {
  PyObject* a = PyObject_GetAttrString(module, name);
  if (a == nullptr) ThrowPythonError(H5E_VOL, H5E_CANTINIT);
  return a;  // kept for the life of the process
}

}  // namespace

PyObject* BridgeModule() {
  static PyObject* module = nullptr;
  if (module == nullptr) {
    PyObject* m = PyImport_ImportModule("nimbus.pyvol_bridge");
    if (m == nullptr) {
      BridgeError e = FetchPythonError(H5E_VOL, H5E_CANTINIT);
      throw BridgeError(e.major, e.minor,
                        std::string("cannot import nimbus.pyvol_bridge (install the nimbus Python "
                                    "package or put <nimbus>/python on PYTHONPATH): ") + e.what());
    }
    PyObject* fn = PyCFunction_New(&kLiveHandlesDef, nullptr);
    if (fn == nullptr || PyObject_SetAttrString(m, "_core_live_handles", fn) < 0) {
      Py_XDECREF(fn);
      Py_DECREF(m);
      ThrowPythonError(H5E_VOL, H5E_CANTINIT);
    }
    Py_DECREF(fn);
    module = m;
  }
  return module;
}

PyObject* NumpyModule() {
  static PyObject* np = nullptr;
  if (np == nullptr) {
    np = PyImport_ImportModule("numpy");
    if (np == nullptr) ThrowPythonError(H5E_VOL, H5E_CANTINIT);
  }
  return np;
}

PyObject* NumpyFrombuffer() {
  static PyObject* f = nullptr;
  if (f == nullptr) f = CachedAttr(NumpyModule(), "frombuffer");
  return f;
}

PyObject* NumpyEmpty() {
  static PyObject* f = nullptr;
  if (f == nullptr) f = CachedAttr(NumpyModule(), "empty");
  return f;
}

PyObject* NumpyDtype() {
  static PyObject* f = nullptr;
  if (f == nullptr) f = CachedAttr(NumpyModule(), "dtype");
  return f;
}

}  // namespace nimbus::pyvol
