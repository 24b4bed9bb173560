// CPython plumbing for the bridge core: owned references, the GIL, starting an interpreter in a C
// host, and turning Python exceptions into BridgeErrors (which the callback guards push onto the
// HDF5 error stack).
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <hdf5.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

#include "pyvol/core_api.h"

namespace nimbus::pyvol {

// A failure to report on the HDF5 error stack: where (major/minor) and what. `errno_value` ends up
// as "(errno = N)" in the text, which h5py uses to choose FileNotFoundError & co.
struct BridgeError : std::runtime_error {
  BridgeError(hid_t major_code, hid_t minor_code, const std::string& text, int errno_code = 0)
      : std::runtime_error(text), major(major_code), minor(minor_code), errno_value(errno_code) {}
  hid_t major;
  hid_t minor;
  int errno_value;
};

// An owned (strong) reference. Must only be created, copied or destroyed with the GIL held.
class Ref {
 public:
  Ref() = default;
  // Takes ownership of a new reference; throws the pending Python error when it is null.
  static Ref Steal(PyObject* p);
  // Takes ownership of a new reference that may legitimately be null.
  static Ref StealOrNull(PyObject* p) { return Ref(p); }
  static Ref Borrow(PyObject* p) {
    Py_XINCREF(p);
    return Ref(p);
  }
  Ref(const Ref& o) : p_(o.p_) { Py_XINCREF(p_); }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() { Py_XDECREF(p_); }
  PyObject* get() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  PyObject* release() { return std::exchange(p_, nullptr); }
  // For when the interpreter is gone: forget the object without touching its refcount.
  void Abandon() { p_ = nullptr; }

  Ref Attr(const char* name) const;
  // obj.name(*args, **kwargs); kwargs may be null.
  Ref Call(const char* name, std::initializer_list<PyObject*> args, PyObject* kwargs = nullptr) const;
  // obj(*args)
  Ref operator()(std::initializer_list<PyObject*> args) const;

 private:
  explicit Ref(PyObject* p) : p_(p) {}
  PyObject* p_ = nullptr;
};

// Value constructors (each returns a new reference or throws).
Ref PyInt(long long v);
Ref PyUInt(unsigned long long v);
Ref PyStr(const std::string& s);
Ref PyBool(bool b);
Ref PyTupleOf(std::initializer_list<PyObject*> items);
Ref PyNone();

// C++ values from Python objects (throw BridgeError with `what` on a type mismatch).
long long AsLong(PyObject* o, const char* what);
bool AsBool(PyObject* o, const char* what);
std::string AsString(PyObject* o, const char* what);

// The pending Python exception as a BridgeError at the given site, then cleared. The text is
// "<type>: <message> (at <file>:<line> in <function>)" plus an errno for OSErrors h5py knows.
BridgeError FetchPythonError(hid_t major, hid_t minor);
[[noreturn]] void ThrowPythonError(hid_t major, hid_t minor);

// True when Python code may run on this thread: the interpreter exists and is not being torn down
// (during finalization only the finalizing thread, which holds the GIL, may continue).
bool PythonUsable();

// Holds the GIL for a scope (PyGILState_Ensure: re-entrant, works whether or not the calling
// thread already holds it, and gives threads Python never saw a thread state).
class Gil {
 public:
  Gil() : state_(PyGILState_Ensure()) {}
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;
  ~Gil() { PyGILState_Release(state_); }

 private:
  PyGILState_STATE state_;
};

// Starts an interpreter if this process has none (C hosts), honouring config->python_executable.
// The interpreter started here is never finalized (numpy cannot be re-initialised, and HDF5 may
// call us from its own atexit handler); one the host started is left alone. Throws BridgeError.
void EnsureInterpreter(const nimbus_pyvol_config_t* config);

// nimbus.pyvol_bridge, imported once (GIL held).
PyObject* BridgeModule();
// numpy.frombuffer, numpy.empty, numpy.dtype (borrowed, cached).
PyObject* NumpyFrombuffer();
PyObject* NumpyEmpty();
PyObject* NumpyDtype();
PyObject* NumpyModule();

}  // namespace nimbus::pyvol
