#include "core/buffer.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace nimbus {

Buffer Buffer::Allocate(size_t size) {
  Buffer b;
  b.Resize(size);
  return b;
}

Buffer Buffer::CopyOf(std::string_view bytes) {
  Buffer b;
  b.Append(bytes.data(), bytes.size());
  return b;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void Buffer::Reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  size_t rounded = (capacity + kAlignment - 1) / kAlignment * kAlignment;
  auto* fresh = static_cast<char*>(std::aligned_alloc(kAlignment, rounded));
  if (fresh == nullptr) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(fresh, data_, size_);
  std::free(data_);
  data_ = fresh;
  capacity_ = rounded;
}

void Buffer::Resize(size_t size) {
  if (size > capacity_) Reserve(size);
  size_ = size;
}

void Buffer::Append(const void* bytes, size_t n) {
  if (n == 0) return;
  if (size_ + n > capacity_) Reserve(std::max(size_ + n, capacity_ * 2));
  std::memcpy(data_ + size_, bytes, n);
  size_ += n;
}

}  // namespace nimbus
