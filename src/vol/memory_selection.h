// Where an HDF5 read/write buffer holds its elements, for connectors that move elements as a dense
// array (nimbus's VOL and the pyvol bridge): one contiguous run, or scattered as the memory
// dataspace selects them. Depends on HDF5 and core/status only.
#pragma once

#include <hdf5.h>

#include <cstdint>

#include "core/status.h"

namespace nimbus::vol {

struct MemoryPlan {
  bool contiguous = true;
  uint64_t offset = 0;            // elements, when contiguous
  hid_t space = H5I_INVALID_HID;  // borrowed; for scatter/gather when !contiguous
};

// The plan for `n` elements selected in the file; H5S_ALL as the memory space means the buffer has
// the dataset's shape and the file selection applies to it. A memory selection of another size is
// an InvalidArgument error; H5S_PLIST is Unimplemented.
Result<MemoryPlan> PlanMemory(hid_t mem_space, hid_t file_space, uint64_t n);

// Copies between a dense array of elements and the positions `space` selects in `buffer`.
Status MoveSelected(hid_t space, size_t element_size, char* dense, char* buffer, bool to_buffer);

// `dense` (n elements of `size` bytes) into the buffer where the plan says / out of it.
Status Scatter(const MemoryPlan& plan, size_t size, uint64_t n, const char* dense, char* buffer);
Status Gather(const MemoryPlan& plan, size_t size, uint64_t n, const char* buffer, char* dense);

}  // namespace nimbus::vol
