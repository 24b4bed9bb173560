#include "active/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

namespace nimbus::active {

int64_t StridedView::size() const {
  int64_t n = 1;
  for (int64_t c : counts) n *= c;
  return n;
}

StridedView MakeView(const std::vector<uint64_t>& shape, bool fortran_order,
                     const std::optional<std::vector<SliceSpec>>& selection) {
  const size_t nd = shape.size();
  std::vector<int64_t> memory_strides(nd);
  int64_t stride = 1;
  for (size_t k = 0; k < nd; ++k) {
    size_t d = fortran_order ? k : nd - 1 - k;
    memory_strides[d] = stride;
    stride *= static_cast<int64_t>(shape[d]);
  }
  StridedView view;
  view.counts.resize(nd);
  view.strides.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    const auto length = static_cast<int64_t>(shape[d]);
    DimSelection s = selection ? NormalizeSlice((*selection)[d], length)
                               : DimSelection{0, 1, length};
    view.counts[d] = s.count;
    view.strides[d] = s.step * memory_strides[d];
    if (s.count > 0) view.first += s.first * memory_strides[d];
  }
  return view;
}

namespace {

constexpr int kLanes = 8;

// An unsigned integer as wide as T: per-lane counters and NaN flags in the vectorised loops are
// kept as wide as the data, so that GCC can vectorise them together with it (mixing 1-byte flags
// or 8-byte counters with 4-byte floats defeats the vectoriser). Counters that narrow are flushed
// into 64-bit totals before they can overflow (FlushEvery).
template <typename T>
using SameWidthUint =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
template <typename T>
constexpr int64_t FlushEvery() {
  if constexpr (sizeof(T) >= 4) {
    return int64_t{1} << 30;
  } else {
    return static_cast<int64_t>(std::numeric_limits<SameWidthUint<T>>::max());
  }
}

// --- missing-data predicates: true when the element is missing ----------------------------
// operator() takes one element; Lanes() a GCC vector of them and returns a lane mask (-1 where
// missing), used by the explicitly vectorised float min/max loop below.
struct NoMissing {
  template <typename T>
  bool operator()(T) const { return false; }
  template <typename V>
  auto Lanes(V x) const {  // all lanes 0 (unused: the NoMissing loops never ask)
    return (x != x) & (x == x);
  }
};
template <typename T>
struct MissingEquals {
  T value;
  bool operator()(T x) const { return x == value; }
  template <typename V>
  auto Lanes(V x) const { return x == value; }
};
template <typename T>
struct MissingAnyOf {
  std::vector<T> values;
  bool operator()(T x) const {
    bool hit = false;
    for (T v : values) hit |= (x == v);
    return hit;
  }
  template <typename V>
  auto Lanes(V x) const {
    decltype(x == x) hit{};
    for (T v : values) hit |= (x == v);
    return hit;
  }
};
template <typename T>
struct MissingBelow {
  T min;
  bool operator()(T x) const { return x < min; }
  template <typename V>
  auto Lanes(V x) const { return x < min; }
};
template <typename T>
struct MissingAbove {
  T max;
  bool operator()(T x) const { return x > max; }
  template <typename V>
  auto Lanes(V x) const { return x > max; }
};
template <typename T>
struct MissingOutside {
  T min, max;
  bool operator()(T x) const { return x < min || x > max; }
  template <typename V>
  auto Lanes(V x) const { return (x < min) | (x > max); }
};

// --- operations: a Slot per output element; Run folds a strided run into one slot ---------
template <typename T>
using SumAccumulator = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

template <typename T>
inline SumAccumulator<T> Widen(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(x);
  } else if constexpr (std::is_signed_v<T>) {
    // Two's complement wrap-around: unsigned arithmetic has no undefined overflow.
    return static_cast<uint64_t>(static_cast<int64_t>(x));
  } else {
    return static_cast<uint64_t>(x);
  }
}

template <typename T>
struct SumOp {
  using Acc = SumAccumulator<T>;
  struct Slot {
    Acc sum = 0;
    int64_t count = 0;
  };
  template <typename M>
  static void Run(Slot& slot, const T* p, int64_t n, int64_t stride, const M& missing) {
    Acc acc[kLanes] = {};
    int64_t count[kLanes] = {};
    int64_t i = 0;
    if (stride == 1) {
      if constexpr (std::is_same_v<M, NoMissing>) {
        // Every element counts: no per-element count.
        for (; i + kLanes <= n; i += kLanes) {
          for (int k = 0; k < kLanes; ++k) acc[k] += Widen(p[i + k]);
        }
        count[0] += i;
      } else {
        for (; i + kLanes <= n; i += kLanes) {
          for (int k = 0; k < kLanes; ++k) {
            T x = p[i + k];
            bool valid = !missing(x);
            acc[k] += valid ? Widen(x) : Acc(0);
            count[k] += valid;
          }
        }
      }
    }
    for (; i < n; ++i) {
      T x = p[i * stride];
      bool valid = !missing(x);
      acc[0] += valid ? Widen(x) : Acc(0);
      count[0] += valid;
    }
    for (int k = 0; k < kLanes; ++k) {
      slot.sum += acc[k];
      slot.count += count[k];
    }
  }
  static void Element(Slot& slot, T x, bool valid) {
    if (valid) {
      slot.sum += Widen(x);
      ++slot.count;
    }
  }
  // Integers: the 64-bit sum modulo 2^bits (C++20 integral conversion), i.e. the dtype's
  // wrap-around result; floats: the float64 sum rounded to the dtype.
  static T Value(const Slot& slot) { return static_cast<T>(slot.sum); }
};

template <typename T, bool kMax>
struct ExtremeOp {
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  static constexpr T Start() {
    if constexpr (kFloat) {
      return kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    } else {
      return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    }
  }
  struct Slot {
    T best = Start();
    int64_t count = 0;
    bool nan = false;
  };
  static bool Better(T x, T best) { return kMax ? x > best : x < best; }
  template <typename M>
  static void Run(Slot& slot, const T* p, int64_t n, int64_t stride, const M& missing) {
    using U = SameWidthUint<T>;
    T best[kLanes];
    U nan[kLanes] = {};  // all ones in a lane that saw a NaN (floats)
    int64_t count = 0;
    for (int k = 0; k < kLanes; ++k) best[k] = Start();
    int64_t i = 0;
    if constexpr (kFloat) {
      // GCC does not vectorise `x < best ? x : best` on floats without -ffinite-math-only (it
      // reads it as a min reduction), so floats get explicit GCC vectors (lowered to SSE2 or
      // whatever the target has): two 16-byte vectors per step, NaNs tracked in a lane mask.
      if (stride == 1) RunFloatVectors(best, nan, count, i, p, n, missing);
    }
    if (stride == 1) {
      if constexpr (std::is_same_v<M, NoMissing>) {
        const int64_t start = i;
        for (; i + kLanes <= n; i += kLanes) {
          for (int k = 0; k < kLanes; ++k) {
            T x = p[i + k];
            best[k] = Better(x, best[k]) ? x : best[k];
            if constexpr (kFloat) nan[k] |= x != x ? U(~U(0)) : U(0);
          }
        }
        count += i - start;
      } else {
        while (i + kLanes <= n) {
          const int64_t steps = std::min((n - i) / kLanes, FlushEvery<T>());
          U lane_count[kLanes] = {};
          for (int64_t s = 0; s < steps; ++s, i += kLanes) {
            for (int k = 0; k < kLanes; ++k) {
              T x = p[i + k];
              bool valid = !missing(x);
              best[k] = (valid && Better(x, best[k])) ? x : best[k];
              lane_count[k] += valid ? U(1) : U(0);
              if constexpr (kFloat) nan[k] |= (valid && x != x) ? U(~U(0)) : U(0);
            }
          }
          for (int k = 0; k < kLanes; ++k) count += lane_count[k];
        }
      }
    }
    for (; i < n; ++i) {
      T x = p[i * stride];
      bool valid = !missing(x);
      best[0] = (valid && Better(x, best[0])) ? x : best[0];
      count += valid;
      if constexpr (kFloat) nan[0] |= (valid && x != x) ? U(~U(0)) : U(0);
    }
    for (int k = 0; k < kLanes; ++k) {
      if (Better(best[k], slot.best)) slot.best = best[k];
      slot.nan = slot.nan || nan[k] != 0;
    }
    slot.count += count;
  }
  // The vectorised part of Run for float and double; advances `i` past what it consumed and
  // folds its lanes into best[0] / nan[0] / count.
  template <typename M>
  static void RunFloatVectors(T* best, SameWidthUint<T>* nan, int64_t& count, int64_t& i,
                              const T* p, int64_t n, const M& missing) {
    using U = SameWidthUint<T>;
    using I = std::make_signed_t<U>;
    constexpr int W = 16 / sizeof(T);  // elements per vector (16 bytes: SSE2, NEON)
    typedef T V __attribute__((vector_size(16)));
    typedef I Mask __attribute__((vector_size(16)));
    if (n - i < 2 * W) return;
    V b0, b1;
    for (int k = 0; k < W; ++k) b0[k] = b1[k] = Start();
    Mask nan0{}, nan1{};
    int64_t total = 0;
    while (i + 2 * W <= n) {
      const int64_t steps = std::min((n - i) / (2 * W), int64_t{1} << 30);
      Mask c0{}, c1{};
      for (int64_t s = 0; s < steps; ++s, i += 2 * W) {
        V x0, x1;
        std::memcpy(&x0, p + i, sizeof(V));
        std::memcpy(&x1, p + i + W, sizeof(V));
        if constexpr (std::is_same_v<M, NoMissing>) {
          b0 = (kMax ? x0 > b0 : x0 < b0) ? x0 : b0;
          b1 = (kMax ? x1 > b1 : x1 < b1) ? x1 : b1;
          nan0 |= x0 != x0;
          nan1 |= x1 != x1;
        } else {
          const Mask v0 = ~Mask(missing.Lanes(x0));
          const Mask v1 = ~Mask(missing.Lanes(x1));
          b0 = (v0 & Mask(kMax ? x0 > b0 : x0 < b0)) ? x0 : b0;
          b1 = (v1 & Mask(kMax ? x1 > b1 : x1 < b1)) ? x1 : b1;
          nan0 |= v0 & Mask(x0 != x0);
          nan1 |= v1 & Mask(x1 != x1);
          c0 -= v0;  // -1 per valid lane
          c1 -= v1;
        }
      }
      if constexpr (std::is_same_v<M, NoMissing>) {
        total += steps * 2 * W;
      } else {
        for (int k = 0; k < W; ++k) total += static_cast<int64_t>(c0[k]) + c1[k];
      }
    }
    for (int k = 0; k < W; ++k) {
      if (Better(b0[k], best[0])) best[0] = b0[k];
      if (Better(b1[k], best[0])) best[0] = b1[k];
      if (nan0[k] != 0 || nan1[k] != 0) nan[0] = U(~U(0));
    }
    count += total;
  }
  static void Element(Slot& slot, T x, bool valid) {
    if (!valid) return;
    if (Better(x, slot.best)) slot.best = x;
    ++slot.count;
    if constexpr (kFloat) slot.nan = slot.nan || x != x;
  }
  static T Value(const Slot& slot) {
    if constexpr (kFloat) {
      if (slot.count == 0 || slot.nan) return std::numeric_limits<T>::quiet_NaN();
    }
    return slot.best;  // integers with count 0: the fold's start value (Reductionist's)
  }
};

template <typename T>
struct CountOp {
  struct Slot {
    int64_t count = 0;
  };
  template <typename M>
  static void Run(Slot& slot, const T* p, int64_t n, int64_t stride, const M& missing) {
    if constexpr (std::is_same_v<M, NoMissing>) {
      slot.count += n;
      return;
    }
    using U = SameWidthUint<T>;
    int64_t count = 0;
    int64_t i = 0;
    if (stride == 1) {
      while (i + kLanes <= n) {
        const int64_t steps = std::min((n - i) / kLanes, FlushEvery<T>());
        U lane_count[kLanes] = {};
        for (int64_t s = 0; s < steps; ++s, i += kLanes) {
          for (int k = 0; k < kLanes; ++k) lane_count[k] += missing(p[i + k]) ? U(0) : U(1);
        }
        for (int k = 0; k < kLanes; ++k) count += lane_count[k];
      }
    }
    for (; i < n; ++i) count += !missing(p[i * stride]);
    slot.count += count;
  }
  static void Element(Slot& slot, T, bool valid) { slot.count += valid; }
};

// Copies elements (select, axis=(), transposition); never folds.
template <typename T>
struct CopyOp {
  using Slot = T;
  template <typename M>
  static void Run(Slot&, const T*, int64_t, int64_t, const M&) {}
  static void Element(Slot& slot, T x, bool) { slot = x; }
};

// One loop level: `count` steps of `stride` elements in the input and `out_stride` slots in the
// output (0 when the dimension is reduced).
struct Loop {
  int64_t count;
  int64_t stride;
  int64_t out_stride;
};

// Loop levels outermost first, the smallest input stride innermost, with dimensions that continue
// each other (in input and output alike) merged so that runs are as long as possible.
std::vector<Loop> PlanLoops(const StridedView& view, const std::vector<int64_t>& out_strides) {
  const size_t nd = view.counts.size();
  std::vector<size_t> order(nd);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::llabs(view.strides[a]) > std::llabs(view.strides[b]);
  });
  std::vector<Loop> inner_first;
  for (size_t k = nd; k-- > 0;) {
    size_t d = order[k];
    Loop next{view.counts[d], view.strides[d], out_strides[d]};
    if (next.count == 1) continue;  // contributes nothing to the iteration
    if (!inner_first.empty()) {
      Loop& cur = inner_first.back();
      if (next.stride == cur.stride * cur.count && next.out_stride == cur.out_stride * cur.count) {
        cur.count *= next.count;
        continue;
      }
    }
    inner_first.push_back(next);
  }
  // Every dimension has one element: one step, written element-wise (correct for folds and for
  // copies alike; a fold's output index is 0 then).
  if (inner_first.empty()) inner_first.push_back({1, 1, 1});
  return {inner_first.rbegin(), inner_first.rend()};
}

template <typename T, typename Op, typename M>
void Iterate(const T* data, const StridedView& view, const std::vector<int64_t>& out_strides,
             typename Op::Slot* slots, const M& missing) {
  for (int64_t c : view.counts) {
    if (c == 0) return;
  }
  std::vector<Loop> loops = PlanLoops(view, out_strides);
  Loop inner = loops.back();
  loops.pop_back();
  int64_t in_adjust = 0;
  int64_t out_adjust = 0;
  if (inner.stride < 0) {  // walk the run forwards; the output index follows it
    in_adjust = (inner.count - 1) * inner.stride;
    inner.stride = -inner.stride;
    out_adjust = (inner.count - 1) * inner.out_stride;
    inner.out_stride = -inner.out_stride;
  }
  std::vector<int64_t> index(loops.size(), 0);
  int64_t in = view.first + in_adjust;
  int64_t out = out_adjust;
  while (true) {
    const T* p = data + in;
    if (inner.out_stride == 0) {
      Op::Run(slots[out], p, inner.count, inner.stride, missing);
    } else if constexpr (std::is_same_v<Op, CopyOp<T>>) {
      if (inner.stride == 1 && inner.out_stride == 1) {
        std::memcpy(slots + out, p, static_cast<size_t>(inner.count) * sizeof(T));
      } else {
        for (int64_t i = 0; i < inner.count; ++i) {
          slots[out + i * inner.out_stride] = p[i * inner.stride];
        }
      }
    } else {
      for (int64_t i = 0; i < inner.count; ++i) {
        T x = p[i * inner.stride];
        Op::Element(slots[out + i * inner.out_stride], x, !missing(x));
      }
    }
    size_t k = loops.size();
    bool done = true;
    while (k-- > 0) {
      const Loop& loop = loops[k];
      in += loop.stride;
      out += loop.out_stride;
      if (++index[k] < loop.count) {
        done = false;
        break;
      }
      in -= loop.stride * loop.count;
      out -= loop.out_stride * loop.count;
      index[k] = 0;
    }
    if (done) break;
  }
}

// Output strides (in slots) for a result of `out_shape` laid out in C or F order, spread over the
// view's dimensions: 0 for the reduced ones.
std::vector<int64_t> OutputStrides(const std::vector<int64_t>& counts,
                                   const std::vector<bool>& reduced, bool fortran) {
  const size_t nd = counts.size();
  std::vector<int64_t> strides(nd, 0);
  int64_t stride = 1;
  for (size_t k = 0; k < nd; ++k) {
    size_t d = fortran ? k : nd - 1 - k;
    if (reduced[d]) continue;
    strides[d] = stride;
    stride *= counts[d];
  }
  return strides;
}

// Gathers the view's elements into a new buffer laid out in C or F order over the view's counts.
template <typename T>
Buffer Gather(const T* data, const StridedView& view, bool fortran) {
  Buffer out = Buffer::Allocate(static_cast<size_t>(view.size()) * sizeof(T));
  std::vector<bool> none(view.counts.size(), false);
  Iterate<T, CopyOp<T>>(data, view, OutputStrides(view.counts, none, fortran),
                        reinterpret_cast<T*>(out.data()), NoMissing{});
  return out;
}

// A C-order buffer of `shape` re-laid out in F order.
Buffer CToF(const Buffer& c_order, size_t element_size, const std::vector<uint64_t>& shape) {
  StridedView view;
  std::vector<int64_t> counts(shape.begin(), shape.end());
  view.counts = counts;
  view.strides = OutputStrides(counts, std::vector<bool>(counts.size(), false), false);
  auto gather = [&](auto type_tag) {
    using U = decltype(type_tag);
    return Gather(reinterpret_cast<const U*>(c_order.data()), view, /*fortran=*/true);
  };
  switch (element_size) {
    case 1: return gather(uint8_t{});
    case 2: return gather(uint16_t{});
    case 4: return gather(uint32_t{});
    default: return gather(uint64_t{});
  }
}

Buffer CountsToBytes(const std::vector<int64_t>& counts) {
  return Buffer::CopyOf(std::string_view(reinterpret_cast<const char*>(counts.data()),
                                         counts.size() * sizeof(int64_t)));
}

template <typename T, typename M>
ReductionResult Compute(Operation op, DType dtype, const T* data, const StridedView& view,
                        const std::optional<std::vector<size_t>>& axis, bool fortran_output,
                        const M& missing) {
  const size_t nd = view.counts.size();
  ReductionResult result;
  result.dtype = op == Operation::kCount ? DType::kInt64 : dtype;

  std::vector<bool> reduced(nd, true);
  if (axis && op != Operation::kSelect) {
    std::fill(reduced.begin(), reduced.end(), false);
    for (size_t a : *axis) reduced[a] = true;
  }
  const bool reduce_nothing = op == Operation::kSelect || (axis && axis->empty());
  if (reduce_nothing) std::fill(reduced.begin(), reduced.end(), false);

  for (size_t d = 0; d < nd; ++d) {
    if (!reduced[d]) result.shape.push_back(static_cast<uint64_t>(view.counts[d]));
  }
  const bool relayout = fortran_output && result.shape.size() >= 2;
  const std::vector<int64_t> c_strides = OutputStrides(view.counts, reduced, false);
  int64_t out_size = 1;
  for (uint64_t s : result.shape) out_size *= static_cast<int64_t>(s);

  if (op == Operation::kSelect) {
    result.bytes = Gather(data, view, fortran_output);
    typename CountOp<T>::Slot total;
    Iterate<T, CountOp<T>>(data, view, std::vector<int64_t>(nd, 0), &total, missing);
    result.counts = {total.count};
    return result;
  }

  // Per-output counts (C order), from the count slots or the value slots below.
  auto finish = [&](auto& slots, auto value_of) {
    result.counts.resize(static_cast<size_t>(out_size));
    for (int64_t i = 0; i < out_size; ++i) result.counts[i] = slots[i].count;
    if (op == Operation::kCount) {
      result.bytes = CountsToBytes(result.counts);
    } else {
      result.bytes = Buffer::Allocate(static_cast<size_t>(out_size) * sizeof(T));
      T* values = reinterpret_cast<T*>(result.bytes.data());
      for (int64_t i = 0; i < out_size; ++i) values[i] = value_of(slots[i]);
    }
    if (relayout) {
      result.bytes = CToF(result.bytes, op == Operation::kCount ? 8 : sizeof(T), result.shape);
    }
  };

  if (reduce_nothing && op != Operation::kCount) {
    // numpy axis=(): the selection unchanged (missing elements keep their raw values).
    result.bytes = Gather(data, view, fortran_output);
    std::vector<typename CountOp<T>::Slot> slots(static_cast<size_t>(out_size));
    Iterate<T, CountOp<T>>(data, view, c_strides, slots.data(), missing);
    result.counts.resize(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) result.counts[i] = slots[i].count;
    return result;
  }

  switch (op) {
    case Operation::kCount: {
      std::vector<typename CountOp<T>::Slot> slots(static_cast<size_t>(out_size));
      Iterate<T, CountOp<T>>(data, view, c_strides, slots.data(), missing);
      finish(slots, [](const auto&) { return T{}; });
      break;
    }
    case Operation::kSum: {
      std::vector<typename SumOp<T>::Slot> slots(static_cast<size_t>(out_size));
      Iterate<T, SumOp<T>>(data, view, c_strides, slots.data(), missing);
      finish(slots, [](const auto& s) { return SumOp<T>::Value(s); });
      break;
    }
    case Operation::kMin: {
      std::vector<typename ExtremeOp<T, false>::Slot> slots(static_cast<size_t>(out_size));
      Iterate<T, ExtremeOp<T, false>>(data, view, c_strides, slots.data(), missing);
      finish(slots, [](const auto& s) { return ExtremeOp<T, false>::Value(s); });
      break;
    }
    case Operation::kMax: {
      std::vector<typename ExtremeOp<T, true>::Slot> slots(static_cast<size_t>(out_size));
      Iterate<T, ExtremeOp<T, true>>(data, view, c_strides, slots.data(), missing);
      finish(slots, [](const auto& s) { return ExtremeOp<T, true>::Value(s); });
      break;
    }
    case Operation::kSelect: break;  // handled above
  }
  return result;
}

template <typename T>
std::vector<T> MissingValues(const MissingSpec& spec) {
  std::vector<T> out;
  if constexpr (std::is_floating_point_v<T>) {
    for (double v : spec.floats) out.push_back(static_cast<T>(v));
  } else if constexpr (std::is_signed_v<T>) {
    for (int64_t v : spec.ints) out.push_back(static_cast<T>(v));
  } else {
    for (uint64_t v : spec.uints) out.push_back(static_cast<T>(v));
  }
  return out;
}

template <typename T>
ReductionResult ComputeTyped(Operation op, DType dtype, const T* data, const StridedView& view,
                             const std::optional<std::vector<size_t>>& axis, bool fortran_output,
                             const MissingSpec& spec) {
  std::vector<T> values = MissingValues<T>(spec);
  switch (spec.kind) {
    case MissingSpec::Kind::kNone: break;
    case MissingSpec::Kind::kValue:
      return Compute(op, dtype, data, view, axis, fortran_output, MissingEquals<T>{values.at(0)});
    case MissingSpec::Kind::kValues:
      return Compute(op, dtype, data, view, axis, fortran_output, MissingAnyOf<T>{values});
    case MissingSpec::Kind::kValidMin:
      return Compute(op, dtype, data, view, axis, fortran_output, MissingBelow<T>{values.at(0)});
    case MissingSpec::Kind::kValidMax:
      return Compute(op, dtype, data, view, axis, fortran_output, MissingAbove<T>{values.at(0)});
    case MissingSpec::Kind::kValidRange:
      return Compute(op, dtype, data, view, axis, fortran_output,
                     MissingOutside<T>{values.at(0), values.at(1)});
  }
  return Compute(op, dtype, data, view, axis, fortran_output, NoMissing{});
}

}  // namespace

Result<ReductionResult> Reduce(Operation op, DType dtype, const char* data, size_t element_count,
                               const StridedView& view,
                               const std::optional<std::vector<size_t>>& axis,
                               bool fortran_output, const MissingSpec& missing) {
  // A full-axis list is the same as no axis (v2 allows len(axis) == ndim).
  std::optional<std::vector<size_t>> effective_axis = axis;
  if (axis && !axis->empty() && axis->size() == view.counts.size()) effective_axis.reset();

  if (dtype == DType::kFloat16) {
    // Widen to float32, compute, round back (count stays int64).
    Buffer wide = Buffer::Allocate(element_count * sizeof(float));
    const auto* half = reinterpret_cast<const uint16_t*>(data);
    auto* f = reinterpret_cast<float*>(wide.data());
    for (size_t i = 0; i < element_count; ++i) f[i] = HalfToFloat(half[i]);
    ReductionResult r = ComputeTyped<float>(op, DType::kFloat32, f, view, effective_axis,
                                            fortran_output, missing);
    if (op != Operation::kCount) {
      size_t n = r.bytes.size() / sizeof(float);
      Buffer narrow = Buffer::Allocate(n * sizeof(uint16_t));
      const auto* src = reinterpret_cast<const float*>(r.bytes.data());
      auto* dst = reinterpret_cast<uint16_t*>(narrow.data());
      for (size_t i = 0; i < n; ++i) dst[i] = FloatToHalf(src[i]);
      r.bytes = std::move(narrow);
      r.dtype = DType::kFloat16;
    }
    return r;
  }
  return VisitDType(dtype, [&](auto type_tag) -> Result<ReductionResult> {
    using T = decltype(type_tag);
    return ComputeTyped<T>(op, dtype, reinterpret_cast<const T*>(data), view, effective_axis,
                           fortran_output, missing);
  });
}

}  // namespace nimbus::active
