// The VOL callbacks (C signatures from H5VLconnector.h) and the helpers they share. Each callback
// body runs inside GuardStatus/GuardPointer (errors.h): Status in, HDF5 error stack out.
#pragma once

#include <hdf5.h>
#include <H5VLconnector.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "vol/objects.h"

namespace nimbus::vol {

// --- shared helpers -----------------------------------------------------------------------------

inline Object& AsObject(void* obj) { return *static_cast<Object*>(obj); }

// HDF5 passes access (and some creation) property lists through unchecked; the native connector
// fails when it reads them, so must we: H5P_DEFAULT or a property list ID, else kInvalidArgument
// "invalid <what> property list".
Status CheckAccessList(hid_t plist, const char* what);
// CheckAccessList, and a list that is not H5P_DEFAULT must be of `plist_class` (e.g.
// H5P_ATTRIBUTE_CREATE).
Status CheckPropertyList(hid_t plist, hid_t plist_class, const char* what);
// The node path designated by a callback's location (BY_SELF, BY_NAME, BY_IDX, BY_TOKEN), soft
// links followed (docs/format.md "Links").
Result<std::string> LocatedPath(Object& obj, const H5VL_loc_params_t* loc);
// Names of a group's links (hard and soft) in index order (names, or creation order for groups
// that track it), reversed for H5_ITER_DEC.
Result<std::vector<std::string>> ChildNames(File& file, const std::string& path,
                                            H5_index_t index, H5_iter_order_t order);
// Copies `name` into an HDF5 name buffer (NUL-terminated, truncated to size) and reports its length.
void CopyName(const std::string& name, char* buf, size_t buf_size, size_t* length);
// A new handle on the node at `path`, registered as an HDF5 ID for an iteration callback. The ID
// owns the handle (closing it calls our close callback).
Result<hid_t> RegisterNodeId(File& file, const std::string& path);
// Names of the attributes presented on a node, sorted (reserved and unrepresentable ones skipped).
Result<std::vector<std::string>> AttributeNames(File& file, const std::string& path);

// --- file ---------------------------------------------------------------------------------------
void* FileCreate(const char* name, unsigned flags, hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id,
                 void** req);
void* FileOpen(const char* name, unsigned flags, hid_t fapl_id, hid_t dxpl_id, void** req);
herr_t FileGet(void* obj, H5VL_file_get_args_t* args, hid_t dxpl_id, void** req);
herr_t FileSpecific(void* obj, H5VL_file_specific_args_t* args, hid_t dxpl_id, void** req);
herr_t FileOptional(void* obj, H5VL_optional_args_t* args, hid_t dxpl_id, void** req);
herr_t FileClose(void* file, hid_t dxpl_id, void** req);

// --- group --------------------------------------------------------------------------------------
void* GroupCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                  hid_t gcpl_id, hid_t gapl_id, hid_t dxpl_id, void** req);
void* GroupOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t gapl_id,
                hid_t dxpl_id, void** req);
herr_t GroupGet(void* obj, H5VL_group_get_args_t* args, hid_t dxpl_id, void** req);
herr_t GroupSpecific(void* obj, H5VL_group_specific_args_t* args, hid_t dxpl_id, void** req);
herr_t GroupOptional(void* obj, H5VL_optional_args_t* args, hid_t dxpl_id, void** req);
herr_t GroupClose(void* grp, hid_t dxpl_id, void** req);

// --- dataset ------------------------------------------------------------------------------------
void* DatasetCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                    hid_t type_id, hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t dxpl_id,
                    void** req);
void* DatasetOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t dapl_id,
                  hid_t dxpl_id, void** req);
herr_t DatasetRead(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                   hid_t file_space_id[], hid_t dxpl_id, void* buf[], void** req);
herr_t DatasetWrite(size_t count, void* dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                    hid_t file_space_id[], hid_t dxpl_id, const void* buf[], void** req);
herr_t DatasetGet(void* obj, H5VL_dataset_get_args_t* args, hid_t dxpl_id, void** req);
herr_t DatasetSpecific(void* obj, H5VL_dataset_specific_args_t* args, hid_t dxpl_id, void** req);
herr_t DatasetOptional(void* obj, H5VL_optional_args_t* args, hid_t dxpl_id, void** req);
herr_t DatasetClose(void* dset, hid_t dxpl_id, void** req);

// --- attribute ----------------------------------------------------------------------------------
void* AttrCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type_id,
                 hid_t space_id, hid_t acpl_id, hid_t aapl_id, hid_t dxpl_id, void** req);
void* AttrOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t aapl_id,
               hid_t dxpl_id, void** req);
herr_t AttrRead(void* attr, hid_t mem_type_id, void* buf, hid_t dxpl_id, void** req);
herr_t AttrWrite(void* attr, hid_t mem_type_id, const void* buf, hid_t dxpl_id, void** req);
herr_t AttrGet(void* obj, H5VL_attr_get_args_t* args, hid_t dxpl_id, void** req);
herr_t AttrSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args,
                    hid_t dxpl_id, void** req);
herr_t AttrOptional(void* obj, H5VL_optional_args_t* args, hid_t dxpl_id, void** req);
herr_t AttrClose(void* attr, hid_t dxpl_id, void** req);

// --- link ---------------------------------------------------------------------------------------
herr_t LinkCreate(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc,
                  hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id, void** req);
herr_t LinkCopy(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj,
                const H5VL_loc_params_t* loc2, hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id,
                void** req);
herr_t LinkMove(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj,
                const H5VL_loc_params_t* loc2, hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id,
                void** req);
herr_t LinkGet(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args,
               hid_t dxpl_id, void** req);
herr_t LinkSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args,
                    hid_t dxpl_id, void** req);
herr_t LinkOptional(void* obj, const H5VL_loc_params_t* loc, H5VL_optional_args_t* args,
                    hid_t dxpl_id, void** req);

// --- object -------------------------------------------------------------------------------------
void* ObjectOpen(void* obj, const H5VL_loc_params_t* loc, H5I_type_t* opened_type, hid_t dxpl_id,
                 void** req);
herr_t ObjectCopy(void* src_obj, const H5VL_loc_params_t* loc1, const char* src_name,
                  void* dst_obj, const H5VL_loc_params_t* loc2, const char* dst_name,
                  hid_t ocpypl_id, hid_t lcpl_id, hid_t dxpl_id, void** req);
herr_t ObjectGet(void* obj, const H5VL_loc_params_t* loc, H5VL_object_get_args_t* args,
                 hid_t dxpl_id, void** req);
herr_t ObjectSpecific(void* obj, const H5VL_loc_params_t* loc,
                      H5VL_object_specific_args_t* args, hid_t dxpl_id, void** req);
herr_t ObjectOptional(void* obj, const H5VL_loc_params_t* loc, H5VL_optional_args_t* args,
                      hid_t dxpl_id, void** req);

}  // namespace nimbus::vol
