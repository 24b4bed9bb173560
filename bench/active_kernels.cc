// nimbus-active's reduction kernels (src/active/kernels.h, the server's own code path: MakeView +
// Reduce) against memcpy bandwidth measured in the same run on the same buffer.
//
// For every dtype and sum/min/max/count, over three selections of a --mib buffer (default 64 MiB,
// beyond the caches, so this is memory bandwidth, not L2):
// (count runs with a missing_value only: without one it is computed from the shape.)
//   contiguous  the whole buffer, 1-D                       (Reductionist's common case)
//   rows        [n0, n1] C order, every other row, whole rows  (contiguous runs, strided outer)
//   strided     [n0, n1] C order, every row, every 4th column  (inner stride 4: 1/4 of elements)
// GB/s counts the bytes of the *selected* elements (10^9) and "x memcpy" divides it by memcpy's
// rate (bytes copied / time), the best-case streaming rate of this machine. "span GB/s" counts
// the whole buffer instead: for `strided` the memory system must deliver every cache line of it
// (a 4-element stride is under a line), so that column is the fair one to compare with memcpy.
//
//   build/release/bin/active_kernels                 # every dtype
//   build/release/bin/active_kernels --dtypes float32,int64 --mib 256 --repeat 7
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "active/decode.h"
#include "active/kernels.h"
#include "core/buffer.h"

namespace {

using namespace nimbus::active;
using Clock = std::chrono::steady_clock;

template <typename Fn>
double BestSeconds(int repeat, Fn&& fn) {
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    fn();
    std::chrono::duration<double> dt = Clock::now() - t0;
    best = std::min(best, dt.count());
  }
  return best;
}

volatile uint64_t g_sink = 0;

void Fill(DType dtype, nimbus::Buffer& buffer) {
  std::mt19937_64 rng(7);
  const size_t n = buffer.size() / DTypeSize(dtype);
  char* p = buffer.data();
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = rng();
    switch (dtype) {
      case DType::kFloat32: {
        float f = static_cast<float>(r % 100000) / 7.0f;
        std::memcpy(p + 4 * i, &f, 4);
        break;
      }
      case DType::kFloat64: {
        double d = static_cast<double>(r % 100000) / 7.0;
        std::memcpy(p + 8 * i, &d, 8);
        break;
      }
      case DType::kFloat16: {
        uint16_t h = FloatToHalf(static_cast<float>(r % 1000) / 7.0f);
        std::memcpy(p + 2 * i, &h, 2);
        break;
      }
      default:
        std::memcpy(p + DTypeSize(dtype) * i, &r, DTypeSize(dtype));
        break;
    }
  }
}

struct Selection {
  const char* name;
  std::vector<uint64_t> shape;
  std::optional<std::vector<SliceSpec>> slices;
  double selected_fraction;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nimbus-active reduction kernels vs memcpy bandwidth"};
  double mib = 64;
  int repeat = 5;
  std::string dtypes_arg =
      "int8,int16,int32,int64,uint8,uint16,uint32,uint64,float16,float32,float64";
  std::string ops_arg = "sum,min,max,count";
  bool with_missing = false;
  app.add_option("--mib", mib, "buffer size in MiB (default 64)");
  app.add_option("--repeat", repeat, "runs per measurement; the best is reported (default 5)");
  app.add_option("--dtypes", dtypes_arg, "comma-separated dtypes");
  app.add_option("--ops", ops_arg, "comma-separated operations (sum,min,max,count)");
  app.add_flag(
      "--missing", with_missing,
      "sum/min/max also with a missing_value (per-element predicate); count always has one");
  CLI11_PARSE(app, argc, argv);

  const size_t bytes = static_cast<size_t>(mib * (1 << 20)) / 64 * 64;
  nimbus::Buffer src = nimbus::Buffer::Allocate(bytes);
  nimbus::Buffer dst = nimbus::Buffer::Allocate(bytes);
  std::memset(src.data(), 1, bytes);
  std::memset(dst.data(), 2, bytes);
  const double memcpy_s = BestSeconds(repeat, [&] {
    std::memcpy(dst.data(), src.data(), bytes);
    g_sink = g_sink + static_cast<unsigned char>(dst.data()[bytes / 2]);
  });
  const double memcpy_gbs = bytes / memcpy_s / 1e9;
  // A plain read of the same buffer (64-bit XOR, vectorised): the memory system's read rate.
  const double read_s = BestSeconds(repeat, [&] {
    const auto* words = reinterpret_cast<const uint64_t*>(src.data());
    uint64_t acc[8] = {};
    for (size_t i = 0; i + 8 <= bytes / 8; i += 8) {
      for (int k = 0; k < 8; ++k) acc[k] ^= words[i + k];
    }
    g_sink = g_sink + (acc[0] ^ acc[1] ^ acc[2] ^ acc[3] ^ acc[4] ^ acc[5] ^ acc[6] ^ acc[7]);
  });
  std::printf(
      "active_kernels: buffer %.0f MiB, best of %d; memcpy %.2f GB/s (bytes copied / time), "
      "plain read %.2f GB/s\n",
      bytes / double(1 << 20), repeat, memcpy_gbs, bytes / read_s / 1e9);
  // The shuffle filter's inverse (decode.h), per element size: output bytes per second.
  for (uint64_t width : {2u, 4u, 8u}) {
    double best = 1e30;
    for (int i = 0; i < repeat; ++i) {
      nimbus::Buffer input = nimbus::Buffer::CopyOf(src.view());
      auto t0 = Clock::now();
      auto out = Unshuffle(std::move(input), width);
      std::chrono::duration<double> dt = Clock::now() - t0;
      if (!out.ok()) return 1;
      g_sink = g_sink + static_cast<unsigned char>(out->data()[1]);
      best = std::min(best, dt.count());
    }
    std::printf("unshuffle element_size %llu: %.2f GB/s (%.2f x memcpy)\n",
                static_cast<unsigned long long>(width), bytes / best / 1e9,
                bytes / best / 1e9 / memcpy_gbs);
  }
  std::printf("%-8s %-6s %-11s %-8s %9s %9s %10s %11s\n", "dtype", "op", "selection", "missing",
              "GB/s", "x memcpy", "span GB/s", "Gelem/s");

  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      if (comma > start) out.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  };
  std::vector<double> ratios_contiguous;
  for (const std::string& dtype_name : split(dtypes_arg)) {
    auto dtype = ParseDType(dtype_name);
    if (!dtype) {
      std::fprintf(stderr, "unknown dtype %s\n", dtype_name.c_str());
      return 2;
    }
    const size_t itemsize = DTypeSize(*dtype);
    const uint64_t n = bytes / itemsize;
    Fill(*dtype, src);
    const uint64_t cols = 1024;
    const uint64_t rows = n / cols;
    const std::vector<Selection> selections = {
        {"contiguous", {n}, std::nullopt, 1.0},
        {"rows",
         {rows, cols},
         std::vector<SliceSpec>{{0, static_cast<int64_t>(rows), 2},
                                {0, static_cast<int64_t>(cols), 1}},
         0.5},
        {"strided",
         {rows, cols},
         std::vector<SliceSpec>{{0, static_cast<int64_t>(rows), 1},
                                {0, static_cast<int64_t>(cols), 4}},
         0.25},
    };
    for (const std::string& op_name : split(ops_arg)) {
      auto op = ParseOperation(op_name);
      if (!op || *op == Operation::kSelect) {
        std::fprintf(stderr, "unsupported operation %s\n", op_name.c_str());
        return 2;
      }
      for (const Selection& sel : selections) {
        // count without missing data is computed from the shape (nothing is read): measure it
        // with a missing value only.
        const int first_m = *op == Operation::kCount ? 1 : 0;
        const int last_m = *op == Operation::kCount || with_missing ? 1 : 0;
        for (int m = first_m; m <= last_m; ++m) {
          MissingSpec missing;
          if (m == 1) {
            missing.kind = MissingSpec::Kind::kValue;
            if (IsFloat(*dtype))
              missing.floats = {-1.0};
            else if (IsSigned(*dtype))
              missing.ints = {-1};
            else
              missing.uints = {1};
          }
          const StridedView view = MakeView(sel.shape, false, sel.slices);
          const double selected_bytes = static_cast<double>(view.size()) * itemsize;
          bool ok = true;
          const double s = BestSeconds(repeat, [&] {
            auto r = Reduce(*op, *dtype, src.data(), n, view, std::nullopt, false, missing);
            if (!r.ok()) {
              ok = false;
              return;
            }
            g_sink = g_sink + static_cast<unsigned char>(r->bytes.data()[0]);
          });
          if (!ok) {
            std::fprintf(stderr, "%s %s failed\n", dtype_name.c_str(), op_name.c_str());
            return 1;
          }
          const double gbs = selected_bytes / s / 1e9;
          const double span_gbs = bytes / s / 1e9;
          if (sel.selected_fraction == 1.0 && m == 0) ratios_contiguous.push_back(gbs / memcpy_gbs);
          std::printf("%-8s %-6s %-11s %-8s %9.2f %9.2f %10.2f %11.2f\n", dtype_name.c_str(),
                      op_name.c_str(), sel.name, m ? "value" : "none", gbs, gbs / memcpy_gbs,
                      span_gbs, view.size() / s / 1e9);
        }
      }
    }
  }
  if (!ratios_contiguous.empty()) {
    std::sort(ratios_contiguous.begin(), ratios_contiguous.end());
    std::printf(
        "contiguous, no missing: median %.2f x memcpy (min %.2f, max %.2f) over %zu cases\n",
        ratios_contiguous[ratios_contiguous.size() / 2], ratios_contiguous.front(),
        ratios_contiguous.back(), ratios_contiguous.size());
  }
  return 0;
}
