// The one place where nimbus errors become HDF5 errors. Inside the connector every failure is a
// Status; each VOL callback converts a failed Status once, at the C boundary, into an entry on the
// HDF5 error stack and returns -1 (or NULL). No C++ exception crosses that boundary: the guards
// below catch everything.
//
// The entry's text ends with "(errno = N)" derived from the error kind, because h5py takes the
// errno of the innermost entry to pick FileNotFoundError / FileExistsError / PermissionError for
// OSError-class failures (shared/notes/hdf5-vol.md §10.4).
#pragma once

#include <hdf5.h>

#include <exception>
#include <string>
#include <string_view>

#include "core/status.h"

namespace nimbus::vol {

// Where an error is reported: the library's major/minor codes that describe the failed operation.
struct ErrorSite {
  hid_t major;
  hid_t minor;
};

// Pushes `status` onto the default HDF5 error stack under the nimbus error class (registered on
// first use). `func` names the callback, for H5Eprint.
void PushError(const char* func, ErrorSite site, const Status& status);

// The errno h5py should see for a failure of this kind (0 = none).
int ErrnoFor(ErrorKind kind);

// Runs `body` (returning Status) and converts its outcome into an herr_t.
template <typename Body>
herr_t GuardStatus(const char* func, ErrorSite site, Body&& body) noexcept {
  try {
    Status s = body();
    if (s.ok()) return 0;
    PushError(func, site, s);
  } catch (const std::exception& e) {
    PushError(func, site, Status(ErrorKind::kPermanent, std::string("internal error: ") + e.what()));
  } catch (...) {
    PushError(func, site, Status(ErrorKind::kPermanent, "internal error (unknown exception)"));
  }
  return -1;
}

// Runs `body` (returning Result<T*>) and converts its outcome into a pointer (NULL on failure).
template <typename T, typename Body>
T* GuardPointer(const char* func, ErrorSite site, Body&& body) noexcept {
  try {
    Result<T*> r = body();
    if (r.ok()) return r.value();
    PushError(func, site, r.status());
  } catch (const std::exception& e) {
    PushError(func, site, Status(ErrorKind::kPermanent, std::string("internal error: ") + e.what()));
  } catch (...) {
    PushError(func, site, Status(ErrorKind::kPermanent, "internal error (unknown exception)"));
  }
  return nullptr;
}

// Keeps the caller's HDF5 error stack intact across our own HDF5 calls, each of which clears the
// stack on entry. Needed where the library consults us in the middle of reporting its own failure:
// the plugin probe after a failed native open, whose errno-2 entry makes h5py raise
// FileNotFoundError (and lets mode 'a' create the file).
class PreservedErrorStack {
 public:
  PreservedErrorStack() : saved_(H5Eget_current_stack()) {}
  PreservedErrorStack(const PreservedErrorStack&) = delete;
  PreservedErrorStack& operator=(const PreservedErrorStack&) = delete;
  ~PreservedErrorStack() {
    if (saved_ >= 0) H5Eset_current_stack(saved_);  // also releases the saved copy
  }

 private:
  hid_t saved_;
};

// Failures of HDF5 calls made by the connector itself (H5Tconvert, H5Sget_*, ...). The library has
// already pushed its own entries; ours names what we were doing.
Status Hdf5CallFailed(std::string_view what);

}  // namespace nimbus::vol
