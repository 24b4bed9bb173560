// Buffer: owned, 64-byte aligned bytes (SIMD kernels and decoders may alias it), move-only.
// Capacity grows geometrically on Append so receiving a body of unknown length stays linear.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace nimbus {

class Buffer {
 public:
  static constexpr size_t kAlignment = 64;

  Buffer() = default;
  // Uninitialised bytes of the given size.
  static Buffer Allocate(size_t size);
  static Buffer CopyOf(std::string_view bytes);

  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  std::string ToString() const { return std::string(view()); }

  void Reserve(size_t capacity);
  // New bytes (when growing) are uninitialised.
  void Resize(size_t size);
  void Append(const void* bytes, size_t n);
  void Clear() { size_ = 0; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace nimbus
