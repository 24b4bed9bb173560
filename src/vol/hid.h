// Hid: owns one HDF5 identifier (datatype, dataspace, property list, ...) and closes it with the
// matching H5*close, so no path through the connector leaks an ID.
#pragma once

#include <hdf5.h>

#include <utility>

namespace nimbus::vol {

class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      Close();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Hid() { Close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives the ID to the caller (e.g. an HDF5 "get" callback's OUT parameter).
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  void Close() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
      case H5I_DATATYPE: H5Tclose(id_); break;
      case H5I_DATASPACE: H5Sclose(id_); break;
      case H5I_GENPROP_LST: H5Pclose(id_); break;
      case H5I_SPACE_SEL_ITER: H5Ssel_iter_close(id_); break;
      default: H5Idec_ref(id_); break;
    }
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
};

}  // namespace nimbus::vol
