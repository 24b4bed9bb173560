// The nimbus VOL connector class and the two symbols HDF5's plugin loader looks for.
//
// Loading and `initialize` do nothing: HDF5 may load, initialize and terminate every plugin in its
// path during a failed native open (notes §3), so stores, clients and threads are created at the
// first file create/open and never torn down in `terminate`.
#include <hdf5.h>  // before the H5VL/H5PL headers, which are not self-contained
#include <H5PLextern.h>
#include <H5VLconnector.h>
#include <H5VLnative.h>

#include <cstdlib>
#include <cstring>

#include "vol/callbacks.h"
#include "vol/errors.h"

namespace nimbus::vol {
namespace {

// Testing range (256-511) until The HDF Group assigns a value.
constexpr H5VL_class_value_t kConnectorValue = 450;
constexpr unsigned kConnectorVersion = 1;

// What is implemented (docs/format.md "Capabilities"); the API test suite skips what is absent.
// Not HARD_LINKS: every object has exactly one hard link and H5Lcreate_hard is refused.
constexpr uint64_t kCapabilities =
    H5VL_CAP_FLAG_FILE_BASIC | H5VL_CAP_FLAG_GROUP_BASIC | H5VL_CAP_FLAG_GROUP_MORE |
    H5VL_CAP_FLAG_DATASET_BASIC | H5VL_CAP_FLAG_DATASET_MORE | H5VL_CAP_FLAG_ATTR_BASIC |
    H5VL_CAP_FLAG_ATTR_MORE |
    H5VL_CAP_FLAG_LINK_BASIC | H5VL_CAP_FLAG_OBJECT_BASIC | H5VL_CAP_FLAG_ITERATE |
    H5VL_CAP_FLAG_GET_PLIST | H5VL_CAP_FLAG_FILL_VALUES | H5VL_CAP_FLAG_SOFT_LINKS |
    H5VL_CAP_FLAG_LINK_MORE | H5VL_CAP_FLAG_OBJECT_MORE | H5VL_CAP_FLAG_FLUSH_REFRESH |
    H5VL_CAP_FLAG_STORAGE_SIZE;

herr_t Initialize(hid_t) { return 0; }
herr_t Terminate() { return 0; }

// --- info: the text after "nimbus" in HDF5_VOL_CONNECTOR, or H5Pset_vol's info ----------------

void* InfoCopy(const void* info) {
  try {
    return new ConnectorInfo(*static_cast<const ConnectorInfo*>(info));
  } catch (...) {
    return nullptr;
  }
}

herr_t InfoCompare(int* cmp_value, const void* a, const void* b) {
  const auto& x = static_cast<const ConnectorInfo*>(a)->text;
  const auto& y = static_cast<const ConnectorInfo*>(b)->text;
  *cmp_value = x.compare(y);
  return 0;
}

herr_t InfoFree(void* info) {
  delete static_cast<ConnectorInfo*>(info);
  return 0;
}

herr_t InfoToString(const void* info, char** str) {
  const std::string& text = static_cast<const ConnectorInfo*>(info)->text;
  // The library frees this with H5free_memory.
  char* out = static_cast<char*>(H5allocate_memory(text.size() + 1, false));
  if (out == nullptr) return -1;
  std::memcpy(out, text.c_str(), text.size() + 1);
  *str = out;
  return 0;
}

herr_t InfoFromString(const char* str, void** info) {
  // Never fails on content: a malformed string is reported at file create/open (location.h).
  try {
    *info = new ConnectorInfo(ConnectorInfo::FromString(str == nullptr ? "" : str));
    return 0;
  } catch (...) {
    return -1;
  }
}

// --- introspection ---------------------------------------------------------------------------

extern const H5VL_class_t kConnectorClass;

herr_t GetConnectorClass(void*, H5VL_get_conn_lvl_t, const H5VL_class_t** cls) {
  *cls = &kConnectorClass;  // terminal: both levels are us
  return 0;
}

herr_t GetCapabilityFlags(const void*, uint64_t* flags) {
  *flags = kConnectorClass.cap_flags;
  return 0;
}

herr_t QueryOptional(void*, H5VL_subclass_t subclass, int operation, uint64_t* flags) {
  *flags = 0;
#ifndef H5_NO_DEPRECATED_SYMBOLS
  if (subclass == H5VL_SUBCLS_GROUP && operation == H5VL_NATIVE_GROUP_GET_OBJINFO) {
    *flags = H5VL_OPT_QUERY_SUPPORTED | H5VL_OPT_QUERY_QUERY_METADATA;
  }
#endif
  // Everything else, notably FILE POST_OPEN after every create/open, is "not supported", so the
  // library does not call file optional for it.
  return 0;
}

const H5VL_class_t kConnectorClass = {
    H5VL_VERSION,
    kConnectorValue,
    "nimbus",
    kConnectorVersion,
    kCapabilities,
    Initialize,
    Terminate,
    {sizeof(ConnectorInfo), InfoCopy, InfoCompare, InfoFree, InfoToString, InfoFromString},
    {nullptr, nullptr, nullptr, nullptr, nullptr},  // wrap: terminal connector
    {AttrCreate, AttrOpen, AttrRead, AttrWrite, AttrGet, AttrSpecific, AttrOptional, AttrClose},
    {DatasetCreate, DatasetOpen, DatasetRead, DatasetWrite, DatasetGet, DatasetSpecific,
     DatasetOptional, DatasetClose},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},  // committed datatypes: not yet
    {FileCreate, FileOpen, FileGet, FileSpecific, FileOptional, FileClose},
    {GroupCreate, GroupOpen, GroupGet, GroupSpecific, GroupOptional, GroupClose},
    {LinkCreate, LinkCopy, LinkMove, LinkGet, LinkSpecific, LinkOptional},
    {ObjectOpen, ObjectCopy, ObjectGet, ObjectSpecific, ObjectOptional},
    {GetConnectorClass, GetCapabilityFlags, QueryOptional},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},  // requests: synchronous
    {nullptr, nullptr, nullptr, nullptr},                    // blobs: no VL data via the library
    {nullptr, nullptr, nullptr},                             // tokens: 16 bytes, memcmp order
    nullptr,
};

}  // namespace
}  // namespace nimbus::vol

extern "C" {

__attribute__((visibility("default"))) H5PL_type_t H5PLget_plugin_type(void) {
  return H5PL_TYPE_VOL;
}

__attribute__((visibility("default"))) const void* H5PLget_plugin_info(void) {
  return &nimbus::vol::kConnectorClass;
}

}  // extern "C"
