// A pyvol plugin: the VOL class HDF5 finds by name, compiled once per connector name
// (PYVOL_CONNECTOR_NAME / _VALUE / _FLAVOUR come from CMake): "pyvol" (libnimbus_pyvol.so) and the
// seed-compatible "H5PyVOL" (libh5pyvol.so).
//
// This file is all HDF5 ever loads while it searches its plugin path, so it does nothing at load or
// in `initialize` (HDF5 probes every plugin after each failed native open, notes §3) and has no
// libpython dependency. The first file create/open loads the bridge core (core_api.h) and from then
// on every object callback is forwarded to it. Introspection and the connector info are answered
// here, so the class HDF5 sees is always this static one.
#include <dlfcn.h>
#include <hdf5.h>  // before the H5VL/H5PL headers, which are not self-contained
#include <H5PLextern.h>
#include <H5VLconnector.h>
#include <H5VLnative.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include "pyvol/config_text.h"
#include "pyvol/core_api.h"

#ifndef PYVOL_CONNECTOR_NAME
#error "PYVOL_CONNECTOR_NAME must be defined by the build"
#endif

namespace nimbus::pyvol {
namespace {

constexpr unsigned kConnectorVersion = 1;

// What the bridge implements (the connector itself may implement less; the API test suite uses
// these to decide what to run).
constexpr uint64_t kCapabilities =
    H5VL_CAP_FLAG_FILE_BASIC | H5VL_CAP_FLAG_FILE_MORE | H5VL_CAP_FLAG_GROUP_BASIC |
    H5VL_CAP_FLAG_DATASET_BASIC | H5VL_CAP_FLAG_DATASET_MORE | H5VL_CAP_FLAG_ATTR_BASIC |
    H5VL_CAP_FLAG_ATTR_MORE | H5VL_CAP_FLAG_LINK_BASIC | H5VL_CAP_FLAG_OBJECT_BASIC |
    H5VL_CAP_FLAG_HARD_LINKS | H5VL_CAP_FLAG_SOFT_LINKS | H5VL_CAP_FLAG_ITERATE |
    H5VL_CAP_FLAG_GET_PLIST;

// --- errors before the core exists ------------------------------------------------------------

void PushPluginError(hid_t major, hid_t minor, const std::string& text) {
  static hid_t error_class = H5I_INVALID_HID;
  if (error_class < 0 || H5Iis_valid(error_class) <= 0) {
    error_class = H5Eregister_class(PYVOL_CONNECTOR_NAME, PYVOL_CONNECTOR_NAME, "1");
  }
  if (error_class < 0) return;
  H5Epush2(H5E_DEFAULT, __FILE__, PYVOL_CONNECTOR_NAME, __LINE__, error_class, major, minor, "%s",
           text.c_str());
}

// --- loading the core -------------------------------------------------------------------------

const nimbus_pyvol_core_t* g_core = nullptr;  // set once; never unloaded

std::string Directory(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

const nimbus_pyvol_core_t* LoadCore(const ConfigText& config, std::string* error) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (g_core != nullptr) return g_core;
  // Python symbols must be global before the core (and later numpy & co.) is loaded. In a Python
  // process they already are (the executable or its libpython exports them); a C program gets the
  // libpython the bridge was built for, or the one configured.
  if (dlsym(RTLD_DEFAULT, "Py_IsInitialized") == nullptr) {
    std::string lib = config.Get("libpython");
    if (lib.empty() && std::getenv("NIMBUS_PYVOL_LIBPYTHON") != nullptr) {
      lib = std::getenv("NIMBUS_PYVOL_LIBPYTHON");
    }
    if (lib.empty()) lib = NIMBUS_PYVOL_DEFAULT_LIBPYTHON;
    if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      *error = "cannot load libpython '" + lib + "' (set libpython= in the connector string or "
               "NIMBUS_PYVOL_LIBPYTHON): " + dlerror();
      return nullptr;
    }
  }
  std::string core_path;
  if (const char* env = std::getenv("NIMBUS_PYVOL_CORE"); env != nullptr && *env != '\0') {
    core_path = env;
  } else {
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&LoadCore), &self) == 0 || self.dli_fname == nullptr) {
      *error = "cannot locate the pyvol plugin file (dladdr failed)";
      return nullptr;
    }
    core_path = Directory(self.dli_fname) + "/" NIMBUS_PYVOL_CORE_FILE;
  }
  void* handle = dlopen(core_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = "cannot load the pyvol bridge core '" + core_path + "': " + dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<const nimbus_pyvol_core_t* (*)()>(dlsym(handle, "nimbus_pyvol_core"));
  const nimbus_pyvol_core_t* core = entry != nullptr ? entry() : nullptr;
  if (core == nullptr || core->abi != NIMBUS_PYVOL_CORE_ABI) {
    *error = "'" + core_path + "' is not a pyvol core of this build (ABI mismatch)";
    return nullptr;
  }
  g_core = core;
  return g_core;
}

// --- configuration ----------------------------------------------------------------------------

struct ConnectorInfo {
  std::string text;
};

// The connector info on a FAPL, or null (probing, or HDF5_VOL_CONNECTOR gave no text).
std::string InfoText(hid_t fapl, bool* present) {
  void* info = nullptr;
  *present = false;
  if (fapl < 0 || H5Pget_vol_info(fapl, &info) < 0 || info == nullptr) return "";
  *present = true;
  std::string text = static_cast<ConnectorInfo*>(info)->text;
  delete static_cast<ConnectorInfo*>(info);
  return text;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The configuration of a file create/open: the info string, or (when it names no module) the
// environment: H5PyVOLModule/H5PyVOLClass as the seed defines them.
ConfigText ConfigFor(hid_t fapl) {
  bool present = false;
  ConfigText config(InfoText(fapl, &present));
  if (config.Get("module").empty()) {
    config.Set("module", Env("H5PyVOLModule"));
    if (config.Get("class").empty()) config.Set("class", Env("H5PyVOLClass"));
  }
  return config;
}

struct CoreConfig {
  explicit CoreConfig(const ConfigText& t)
      : module(t.Get("module")),
        class_name(t.Get("class")),
        path(t.Get("path")),
        python(t.Get("python")) {
    c.flavour = PYVOL_FLAVOUR;
    c.module = module.c_str();
    c.class_name = class_name.c_str();
    c.path = path.c_str();
    c.python_executable = python.c_str();
  }
  std::string module, class_name, path, python;
  nimbus_pyvol_config_t c{};
};

const nimbus_pyvol_core_t* CoreFor(const ConfigText& config, hid_t major, hid_t minor) {
  if (config.Get("module").empty() || config.Get("class").empty()) {
    PushPluginError(major, minor,
                    std::string("no Python connector configured: use HDF5_VOL_CONNECTOR=\"") +
                        PYVOL_CONNECTOR_NAME +
                        " module=<module>;class=<class>\" or set H5PyVOLModule and H5PyVOLClass");
    return nullptr;
  }
  std::string error;
  const nimbus_pyvol_core_t* core = LoadCore(config, &error);
  if (core == nullptr) PushPluginError(major, minor, error);
  return core;
}

// HDF5_VOL_CONNECTOR names this connector: the application chose it (rather than the library
// probing every plugin after a failed native open, when nothing may be loaded or started).
bool ConfiguredAsDefault() {
  std::string_view s(Env("HDF5_VOL_CONNECTOR"));
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  std::string_view name(PYVOL_CONNECTOR_NAME);
  return s.starts_with(name) &&
         (s.size() == name.size() || s[name.size()] == ' ' || s[name.size()] == '\t');
}

// --- callbacks answered here ------------------------------------------------------------------

herr_t Initialize(hid_t) { return 0; }
herr_t Terminate() { return 0; }

void* InfoCopy(const void* info) {
  try {
    return new ConnectorInfo(*static_cast<const ConnectorInfo*>(info));
  } catch (...) {
    return nullptr;
  }
}

herr_t InfoCompare(int* cmp_value, const void* a, const void* b) {
  *cmp_value = static_cast<const ConnectorInfo*>(a)->text.compare(
      static_cast<const ConnectorInfo*>(b)->text);
  return 0;
}

herr_t InfoFree(void* info) {
  delete static_cast<ConnectorInfo*>(info);
  return 0;
}

herr_t InfoToString(const void* info, char** str) {
  const std::string& text = static_cast<const ConnectorInfo*>(info)->text;
  char* out = static_cast<char*>(H5allocate_memory(text.size() + 1, false));
  if (out == nullptr) return -1;
  std::memcpy(out, text.c_str(), text.size() + 1);
  *str = out;
  return 0;
}

herr_t InfoFromString(const char* str, void** info) {
  try {
    *info = new ConnectorInfo{str == nullptr ? "" : str};
    return 0;
  } catch (...) {
    return -1;
  }
}

extern const H5VL_class_t kConnectorClass;

herr_t GetConnectorClass(void*, H5VL_get_conn_lvl_t, const H5VL_class_t** cls) {
  *cls = &kConnectorClass;  // terminal connector: both levels are this class
  return 0;
}

herr_t GetCapabilityFlags(const void*, uint64_t* flags) {
  *flags = kConnectorClass.cap_flags;
  return 0;
}

herr_t QueryOptional(void*, H5VL_subclass_t subclass, int operation, uint64_t* flags) {
  *flags = 0;
#ifndef H5_NO_DEPRECATED_SYMBOLS
  // h5py's hash() and == use H5Gget_objinfo; the core emulates it.
  if (subclass == H5VL_SUBCLS_GROUP && operation == H5VL_NATIVE_GROUP_GET_OBJINFO) {
    *flags = H5VL_OPT_QUERY_SUPPORTED | H5VL_OPT_QUERY_QUERY_METADATA;
  }
#endif
  return 0;  // everything else, notably FILE POST_OPEN, is "not supported"
}

void* FileCreate(const char* name, unsigned flags, hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id,
                 void** req) {
  try {
    ConfigText text = ConfigFor(fapl_id);
    const nimbus_pyvol_core_t* core = CoreFor(text, H5E_FILE, H5E_CANTCREATE);
    if (core == nullptr) return nullptr;
    CoreConfig config(text);
    return core->file_create(&config.c, name, flags, fcpl_id, fapl_id, dxpl_id, req);
  } catch (...) {
    PushPluginError(H5E_FILE, H5E_CANTCREATE, "out of memory");
    return nullptr;
  }
}

void* FileOpen(const char* name, unsigned flags, hid_t fapl_id, hid_t dxpl_id, void** req) {
  try {
    ConfigText text = ConfigFor(fapl_id);
    const nimbus_pyvol_core_t* core = CoreFor(text, H5E_FILE, H5E_CANTOPENFILE);
    if (core == nullptr) return nullptr;
    CoreConfig config(text);
    return core->file_open(&config.c, name, flags, fapl_id, dxpl_id, req);
  } catch (...) {
    PushPluginError(H5E_FILE, H5E_CANTOPENFILE, "out of memory");
    return nullptr;
  }
}

herr_t FileSpecific(void* obj, H5VL_file_specific_args_t* args, hid_t dxpl_id, void** req) {
  try {
    if (obj != nullptr) {
      if (g_core == nullptr) return -1;
      return g_core->object_class->file_cls.specific(obj, args, dxpl_id, req);
    }
    hid_t fapl = H5I_INVALID_HID;
    if (args->op_type == H5VL_FILE_IS_ACCESSIBLE) {
      fapl = args->args.is_accessible.fapl_id;
      bool has_info = false;
      {
        // H5Pget_vol_info is an API call, and API calls clear the error stack on entry: during the
        // library's probe after a failed native open that stack holds the application's real error
        // (h5py's FileNotFoundError), so it is saved and put back.
        const hid_t saved = H5Eget_current_stack();
        InfoText(fapl, &has_info);
        if (saved >= 0) H5Eset_current_stack(saved);
      }
      // The library's probe (no info, not the configured connector): answer "no" without loading
      // or starting anything.
      if (!has_info && !ConfiguredAsDefault()) {
        *args->args.is_accessible.accessible = false;
        return 0;
      }
    } else if (args->op_type == H5VL_FILE_DELETE) {
      fapl = args->args.del.fapl_id;
    } else {
      PushPluginError(H5E_FILE, H5E_UNSUPPORTED, "file operation without a file");
      return -1;
    }
    ConfigText text = ConfigFor(fapl);
    const nimbus_pyvol_core_t* core = CoreFor(text, H5E_FILE, H5E_CANTGET);
    if (core == nullptr) {
      if (args->op_type == H5VL_FILE_IS_ACCESSIBLE) {
        *args->args.is_accessible.accessible = false;  // never abort the library's iteration
        H5Eclear2(H5E_DEFAULT);
        return 0;
      }
      return -1;
    }
    CoreConfig config(text);
    return core->file_specific_unbound(&config.c, args, dxpl_id, req);
  } catch (...) {
    PushPluginError(H5E_FILE, H5E_CANTGET, "out of memory");
    return -1;
  }
}

// --- forwarding to the core -------------------------------------------------------------------

template <typename R>
R Failure() {
  if constexpr (std::is_pointer_v<R>) {
    return nullptr;
  } else {
    return -1;
  }
}

// Forward<&H5VL_class_t::dataset_cls, &H5VL_dataset_class_t::read>::Call has the callback's exact
// signature and calls the core's implementation.
template <auto Sub, auto Fn>
struct Forward;

template <typename S, S H5VL_class_t::*Sub, typename R, typename... A, R (*S::*Fn)(A...)>
struct Forward<Sub, Fn> {
  static R Call(A... a) {
    const nimbus_pyvol_core_t* core = g_core;
    if (core == nullptr || (core->object_class->*Sub).*Fn == nullptr) {
      PushPluginError(H5E_VOL, H5E_UNSUPPORTED, "operation not supported by the pyvol bridge");
      return Failure<R>();
    }
    return ((core->object_class->*Sub).*Fn)(a...);
  }
};

#define PYVOL_FORWARD(sub, fn) \
  Forward<&H5VL_class_t::sub, &std::remove_reference_t<decltype(H5VL_class_t::sub)>::fn>::Call

const H5VL_class_t kConnectorClass = {
    H5VL_VERSION,
    PYVOL_CONNECTOR_VALUE,
    PYVOL_CONNECTOR_NAME,
    kConnectorVersion,
    kCapabilities,
    Initialize,
    Terminate,
    {sizeof(ConnectorInfo), InfoCopy, InfoCompare, InfoFree, InfoToString, InfoFromString},
    {nullptr, nullptr, nullptr, nullptr, nullptr},  // wrap: terminal connector
    {PYVOL_FORWARD(attr_cls, create), PYVOL_FORWARD(attr_cls, open),
     PYVOL_FORWARD(attr_cls, read), PYVOL_FORWARD(attr_cls, write), PYVOL_FORWARD(attr_cls, get),
     PYVOL_FORWARD(attr_cls, specific), PYVOL_FORWARD(attr_cls, optional),
     PYVOL_FORWARD(attr_cls, close)},
    {PYVOL_FORWARD(dataset_cls, create), PYVOL_FORWARD(dataset_cls, open),
     PYVOL_FORWARD(dataset_cls, read), PYVOL_FORWARD(dataset_cls, write),
     PYVOL_FORWARD(dataset_cls, get), PYVOL_FORWARD(dataset_cls, specific),
     PYVOL_FORWARD(dataset_cls, optional), PYVOL_FORWARD(dataset_cls, close)},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},  // committed datatypes: not supported
    {FileCreate, FileOpen, PYVOL_FORWARD(file_cls, get), FileSpecific,
     PYVOL_FORWARD(file_cls, optional), PYVOL_FORWARD(file_cls, close)},
    {PYVOL_FORWARD(group_cls, create), PYVOL_FORWARD(group_cls, open),
     PYVOL_FORWARD(group_cls, get), PYVOL_FORWARD(group_cls, specific),
     PYVOL_FORWARD(group_cls, optional), PYVOL_FORWARD(group_cls, close)},
    {PYVOL_FORWARD(link_cls, create), PYVOL_FORWARD(link_cls, copy), PYVOL_FORWARD(link_cls, move),
     PYVOL_FORWARD(link_cls, get), PYVOL_FORWARD(link_cls, specific),
     PYVOL_FORWARD(link_cls, optional)},
    {PYVOL_FORWARD(object_cls, open), PYVOL_FORWARD(object_cls, copy),
     PYVOL_FORWARD(object_cls, get), PYVOL_FORWARD(object_cls, specific),
     PYVOL_FORWARD(object_cls, optional)},
    {GetConnectorClass, GetCapabilityFlags, QueryOptional},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},  // requests: synchronous
    {nullptr, nullptr, nullptr, nullptr},                    // blobs: VL data stays in Python
    {nullptr, nullptr, nullptr},                             // tokens: 16 bytes, memcmp order
    nullptr,
};

}  // namespace
}  // namespace nimbus::pyvol

extern "C" {

__attribute__((visibility("default"))) H5PL_type_t H5PLget_plugin_type(void) {
  return H5PL_TYPE_VOL;
}

__attribute__((visibility("default"))) const void* H5PLget_plugin_info(void) {
  return &nimbus::pyvol::kConnectorClass;
}

}  // extern "C"
