#include "pyvol/core/handles.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_set>

namespace nimbus::pyvol {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

std::unordered_set<const Handle*>& Registry() {
  static auto* live = new std::unordered_set<const Handle*>();  // never destroyed: HDF5's atexit
  return *live;                                                  // may close handles after ours
}

// Calls node.close(); a failure becomes the returned error (the caller decides when to throw).
std::optional<BridgeError> CloseNode(const Ref& node) {
  if (!node || !PythonUsable()) return std::nullopt;
  PyObject* r = PyObject_CallMethod(node.get(), "close", nullptr);
  if (r == nullptr) return FetchPythonError(H5E_VOL, H5E_CLOSEERROR);
  Py_DECREF(r);
  return std::nullopt;
}

}  // namespace

FileState::~FileState() {
  if (!PythonUsable()) {
    node.Abandon();  // the interpreter is gone: leak rather than touch it
    return;
  }
  if (node) {
    std::optional<BridgeError> ignored = CloseNode(node);  // normally closed by CloseHandle
    (void)ignored;
  }
}

Handle::Handle() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().insert(this);
}

Handle::~Handle() {
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry().erase(this);
  }
  if (file && file->file_handle == this) file->file_handle = nullptr;
  if (!PythonUsable()) {
    node.Abandon();
    dtype.Abandon();
    read_fn.Abandon();
    write_fn.Abandon();
  }
}

std::vector<hsize_t> Handle::Dims() const {
  std::vector<hsize_t> dims;
  if (!space.valid()) return dims;
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank > 0) {
    dims.resize(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  }
  return dims;
}

bool IsLiveHandle(const void* p) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  return Registry().count(static_cast<const Handle*>(p)) != 0;
}

std::vector<Handle*> LiveHandles() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  std::vector<Handle*> out;
  for (const Handle* h : Registry()) out.push_back(const_cast<Handle*>(h));
  return out;
}

long LiveHandleCount() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  return static_cast<long>(Registry().size());
}

void CloseHandle(Handle* h) {
  std::optional<BridgeError> error;
  // A file handle's Node belongs to the FileState (closed below, when the last user goes).
  if (h->kind != H5I_FILE) error = CloseNode(h->node);
  std::shared_ptr<FileState> file = std::move(h->file);
  if (file && file->file_handle == h) file->file_handle = nullptr;
  delete h;
  if (file && file.use_count() == 1 && file->node) {
    std::optional<BridgeError> closed = CloseNode(file->node);
    if (!error) error = closed;
    if (PythonUsable()) {
      file->node = Ref();
    } else {
      file->node.Abandon();
    }
  }
  file.reset();
  if (error) throw *error;
}

unsigned long NextFileno() {
  static std::atomic<unsigned long> next{1};
  return next++;
}

}  // namespace nimbus::pyvol
