// The decode stages of the pipeline, between the download and the kernels: decompression (gzip,
// zlib, zstd, blosc; blosc2 when built with c-blosc2), undoing the byte shuffle filter, and
// byte-swapping to native order. Each takes ownership of its input and returns the next buffer,
// so a stage that has nothing to do costs nothing.
#pragma once

#include <cstdint>
#include <optional>

#include "active/request.h"
#include "core/buffer.h"
#include "core/status.h"

namespace nimbus::active {

// Decompresses `compressed`. `expected_size` (from the shape) sizes the output exactly when known;
// `limit` bounds it otherwise (decompression bombs get an error, not the memory). Errors are
// MakeProblem statuses: 400 "failed to decompress data".
Result<Buffer> Decompress(Compression compression, Buffer compressed,
                          std::optional<uint64_t> expected_size, uint64_t limit);

// Undoes the HDF5/numcodecs byte shuffle with `element_size`: 400 when the length is not a
// multiple of it (Reductionist panics there).
Result<Buffer> Unshuffle(Buffer shuffled, uint64_t element_size);

// Reverses the bytes of every `element_size`-byte element in place (1 = nothing to do).
void ByteSwapInPlace(Buffer& data, size_t element_size);

// Test helper: the forward shuffle.
Buffer Shuffle(const Buffer& plain, uint64_t element_size);

}  // namespace nimbus::active
