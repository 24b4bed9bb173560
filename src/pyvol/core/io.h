// Dataset and attribute I/O between HDF5's buffers and Python.
//
// The file-side selection becomes a numpy index of the dataset's shape (tuple of slices for "all"
// and regular hyperslabs, tuple of coordinate arrays for points and irregular hyperslab unions).
// Python receives numpy arrays shaped like `dataset[index]` in the dataset's dtype: when the memory
// type equals the stored type and the memory selection is one contiguous run, they are views of the
// application's buffer itself (zero copy); otherwise of a staging buffer, with H5Tconvert and
// HDF5's selection iterator moving elements between it and the application's buffer. The views
// are valid only during the call: a connector that keeps one makes the call fail.
#pragma once

#include <hdf5.h>

#include "pyvol/core/handles.h"

namespace nimbus::pyvol {

void ReadDataset(Handle& dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                 void* buf);
void WriteDataset(Handle& dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                  const void* buf);
void ReadAttribute(Handle& attribute, hid_t mem_type, hid_t dxpl, void* buf);
void WriteAttribute(Handle& attribute, hid_t mem_type, hid_t dxpl, const void* buf);

}  // namespace nimbus::pyvol
