#include "vol/memory_selection.h"

#include <cstring>
#include <string>
#include <vector>

#include "vol/hid.h"

namespace nimbus::vol {
namespace {

Status IterationFailed() {
  return Status(ErrorKind::kPermanent, "HDF5 call failed while iterating the memory selection");
}

}  // namespace

Result<MemoryPlan> PlanMemory(hid_t mem_space, hid_t file_space, uint64_t n) {
  MemoryPlan plan;
  if (mem_space == H5S_BLOCK) return plan;
  if (mem_space == H5S_PLIST) {
    return UnimplementedError("H5S_PLIST is not supported as the memory dataspace");
  }
  if (mem_space == H5S_ALL) {
    if (file_space == H5S_ALL) return plan;
    mem_space = file_space;
  }
  hssize_t selected = H5Sget_select_npoints(mem_space);
  if (selected < 0) {
    return Status(ErrorKind::kPermanent, "HDF5 call failed while reading the memory selection");
  }
  if (static_cast<uint64_t>(selected) != n) {
    return InvalidArgumentError("the memory selection has " + std::to_string(selected) +
                                " elements but the file selection has " + std::to_string(n));
  }
  if (H5Sget_select_type(mem_space) == H5S_SEL_ALL) return plan;
  // Two sequences are enough to tell one contiguous run from anything else.
  Hid iter(H5Ssel_iter_create(mem_space, 1, 0));
  if (!iter.valid()) return IterationFailed();
  hsize_t off[2];
  size_t len[2];
  size_t nseq = 0, nbytes = 0;
  if (H5Ssel_iter_get_seq_list(iter.get(), 2, SIZE_MAX, &nseq, &nbytes, off, len) < 0) {
    return IterationFailed();
  }
  if (nseq == 1 && len[0] == n) {
    plan.offset = off[0];
    return plan;
  }
  plan.contiguous = false;
  plan.space = mem_space;
  return plan;
}

Status MoveSelected(hid_t space, size_t element_size, char* dense, char* buffer, bool to_buffer) {
  Hid iter(H5Ssel_iter_create(space, element_size, 0));
  if (!iter.valid()) return IterationFailed();
  constexpr size_t kMaxSeq = 1024;
  std::vector<hsize_t> off(kMaxSeq);
  std::vector<size_t> len(kMaxSeq);
  size_t pos = 0;
  for (;;) {
    size_t nseq = 0, nbytes = 0;
    if (H5Ssel_iter_get_seq_list(iter.get(), kMaxSeq, SIZE_MAX, &nseq, &nbytes, off.data(),
                                 len.data()) < 0) {
      return IterationFailed();
    }
    if (nseq == 0) break;
    for (size_t i = 0; i < nseq; ++i) {
      if (to_buffer) {
        std::memcpy(buffer + off[i], dense + pos, len[i]);
      } else {
        std::memcpy(dense + pos, buffer + off[i], len[i]);
      }
      pos += len[i];
    }
  }
  return Status::Ok();
}

Status Scatter(const MemoryPlan& plan, size_t size, uint64_t n, const char* dense, char* buffer) {
  if (plan.contiguous) {
    std::memcpy(buffer + plan.offset * size, dense, n * size);
    return Status::Ok();
  }
  return MoveSelected(plan.space, size, const_cast<char*>(dense), buffer, /*to_buffer=*/true);
}

Status Gather(const MemoryPlan& plan, size_t size, uint64_t n, const char* buffer, char* dense) {
  if (plan.contiguous) {
    std::memcpy(dense, buffer + plan.offset * size, n * size);
    return Status::Ok();
  }
  return MoveSelected(plan.space, size, dense, const_cast<char*>(buffer), /*to_buffer=*/false);
}

}  // namespace nimbus::vol
