// File callbacks: create/open/close with HDF5's flag semantics, the getters h5py uses, and the
// object counting that h5py's File.close() depends on.
#include <cstdlib>
#include <cstring>

#include "vol/callbacks.h"
#include "vol/errors.h"

namespace nimbus::vol {
namespace {


// H5F_OBJ_* bits -> the ID types to scan.
std::vector<H5I_type_t> TypesOf(unsigned types) {
  std::vector<H5I_type_t> out;
  if (types & H5F_OBJ_FILE) out.push_back(H5I_FILE);
  if (types & H5F_OBJ_DATASET) out.push_back(H5I_DATASET);
  if (types & H5F_OBJ_GROUP) out.push_back(H5I_GROUP);
  if (types & H5F_OBJ_DATATYPE) out.push_back(H5I_DATATYPE);
  if (types & H5F_OBJ_ATTR) out.push_back(H5I_ATTR);
  return out;
}

struct OpenIdScan {
  File* file;
  std::vector<hid_t> ids;
};

herr_t CollectOpenId(hid_t id, void* udata) {
  auto* scan = static_cast<OpenIdScan*>(udata);
  // Transient datatypes (H5F_OBJ_DATATYPE scans) have no VOL object: not an error to report.
  void* obj = nullptr;
  H5E_BEGIN_TRY { obj = H5VLobject(id); }
  H5E_END_TRY
  // H5VLobject of a foreign connector's ID is that connector's object: only trust our own.
  if (obj != nullptr && Object::IsLive(obj) && &AsObject(obj).file() == scan->file) {
    scan->ids.push_back(id);
  }
  return 0;
}

// IDs of this file's open objects of the given kinds (every open ID counts as local).
Result<std::vector<hid_t>> OpenIds(File& file, unsigned types) {
  OpenIdScan scan{&file, {}};
  for (H5I_type_t type : TypesOf(types)) {
    if (H5Iiterate(type, CollectOpenId, &scan) < 0) {
      return Hdf5CallFailed("listing the file's open objects");
    }
  }
  return scan.ids;
}

// HDF5_VOL_CONNECTOR names nimbus: the application asked for it (as opposed to the library probing
// every plugin after a failed native open, when IS_ACCESSIBLE must not touch the network).
bool ConfiguredAsDefault() {
  const char* v = std::getenv("HDF5_VOL_CONNECTOR");
  if (v == nullptr) return false;
  std::string_view s(v);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s.starts_with("nimbus") && (s.size() == 6 || s[6] == ' ' || s[6] == '\t');
}

bool FaplHasInfo(hid_t fapl) {
  void* info = nullptr;
  if (fapl < 0 || H5Pget_vol_info(fapl, &info) < 0 || info == nullptr) return false;
  delete static_cast<ConnectorInfo*>(info);
  return true;
}

}  // namespace

void* FileCreate(const char* name, unsigned flags, hid_t fcpl_id, hid_t fapl_id, hid_t, void**) {
  // Every void* nimbus hands to HDF5 is an Object*, so callbacks can cast it back uniformly.
  return GuardPointer<Object>(__func__, {H5E_FILE, H5E_CANTCREATE}, [&]() -> Result<Object*> {
    NIMBUS_ASSIGN_OR_RETURN(File * file, File::Create(name, flags, fcpl_id, fapl_id));
    return static_cast<Object*>(file);
  });
}

void* FileOpen(const char* name, unsigned flags, hid_t fapl_id, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_FILE, H5E_CANTOPENFILE}, [&]() -> Result<Object*> {
    NIMBUS_ASSIGN_OR_RETURN(File * file, File::Open(name, flags, fapl_id));
    return static_cast<Object*>(file);
  });
}

herr_t FileGet(void* obj, H5VL_file_get_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_FILE, H5E_CANTGET}, [&]() -> Status {
    File& file = AsObject(obj).file();
    switch (args->op_type) {
      case H5VL_FILE_GET_CONT_INFO: {
        H5VL_file_cont_info_t* info = args->args.get_cont_info.info;
        if (info->version != H5VL_CONTAINER_INFO_VERSION) {
          return InvalidArgumentError("unknown container info version");
        }
        info->feature_flags = 0;
        info->token_size = sizeof(H5O_token_t);
        info->blob_id_size = 0;
        return Status::Ok();
      }
      case H5VL_FILE_GET_FAPL: {
        hid_t fapl = file.fapl() >= 0 ? H5Pcopy(file.fapl()) : H5Pcreate(H5P_FILE_ACCESS);
        if (fapl < 0) return Hdf5CallFailed("copying the file access property list");
        args->args.get_fapl.fapl_id = fapl;
        return Status::Ok();
      }
      case H5VL_FILE_GET_FCPL: {
        hid_t fcpl = file.fcpl() >= 0 ? H5Pcopy(file.fcpl()) : H5Pcreate(H5P_FILE_CREATE);
        if (fcpl < 0) return Hdf5CallFailed("copying the file creation property list");
        args->args.get_fcpl.fcpl_id = fcpl;
        return Status::Ok();
      }
      case H5VL_FILE_GET_FILENO:
        *args->args.get_fileno.fileno = file.fileno();
        return Status::Ok();
      case H5VL_FILE_GET_INTENT:
        *args->args.get_intent.flags = file.intent();
        return Status::Ok();
      case H5VL_FILE_GET_NAME: {
        auto& a = args->args.get_name;
        CopyName(file.name(), a.buf, a.buf_size, a.file_name_len);
        return Status::Ok();
      }
      case H5VL_FILE_GET_OBJ_COUNT: {
        NIMBUS_ASSIGN_OR_RETURN(auto ids, OpenIds(file, args->args.get_obj_count.types));
        *args->args.get_obj_count.count = ids.size();
        return Status::Ok();
      }
      case H5VL_FILE_GET_OBJ_IDS: {
        auto& a = args->args.get_obj_ids;
        NIMBUS_ASSIGN_OR_RETURN(auto ids, OpenIds(file, a.types));
        size_t n = std::min(ids.size(), a.max_objs);
        for (size_t i = 0; i < n; ++i) a.oid_list[i] = ids[i];
        *a.count = n;
        return Status::Ok();
      }
    }
    return UnimplementedError("file get operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

herr_t FileSpecific(void* obj, H5VL_file_specific_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_FILE, H5E_CANTGET}, [&]() -> Status {
    switch (args->op_type) {
      case H5VL_FILE_FLUSH:
        return Status::Ok();  // every write reached the store before its call returned
      case H5VL_FILE_REOPEN: {
        File& file = AsObject(obj).file();
        NIMBUS_ASSIGN_OR_RETURN(File * reopened,
                                File::Open(file.name().c_str(), file.intent(), file.fapl()));
        *args->args.reopen.file = static_cast<Object*>(reopened);
        return Status::Ok();
      }
      case H5VL_FILE_IS_ACCESSIBLE: {
        auto& a = args->args.is_accessible;
        *a.accessible = false;
        PreservedErrorStack preserved;  // destroyed before any error of ours is pushed
        // Unconfigured (no HDF5_VOL_CONNECTOR=nimbus, no info): most likely the library's probe
        // of every plugin after a failed native open. Look only at local directories then, never
        // at the network, where an unreachable endpoint would stall every failed native open.
        const bool local_only = !ConfiguredAsDefault() && !FaplHasInfo(a.fapl_id);
        auto exists = File::Exists(a.filename, a.fapl_id, local_only);
        // A failure here would abort the library's probe and replace the application's own error
        // with "failed to iterate over available VOL connector plugins": when probed, say no.
        if (!exists.ok() && !local_only) return exists.status();
        *a.accessible = exists.ok() && *exists;
        return Status::Ok();
      }
      case H5VL_FILE_DELETE:
        return File::Delete(args->args.del.filename, args->args.del.fapl_id);
      case H5VL_FILE_IS_EQUAL: {
        File& file = AsObject(obj).file();
        void* other = args->args.is_equal.obj2;
        *args->args.is_equal.same_file =
            other != nullptr && Object::IsLive(other) && AsObject(other).file().url() == file.url();
        return Status::Ok();
      }
    }
    return UnimplementedError("file operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

herr_t FileOptional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_FILE, H5E_UNSUPPORTED}, [&]() -> Status {
    return UnimplementedError("native-only file operation " + std::to_string(args->op_type) +
                              " (e.g. H5Fget_filesize, H5Fget_vfd_handle) is not supported by "
                              "nimbus");
  });
}

herr_t FileClose(void* file, hid_t, void**) {
  return GuardStatus(__func__, {H5E_FILE, H5E_CANTCLOSEFILE}, [&]() -> Status {
    AsObject(file).file().ReleaseIdReference();
    return Status::Ok();
  });
}

}  // namespace nimbus::vol
