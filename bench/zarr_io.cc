// zarr_io: bulk and sparse I/O of one float32 Zarr v3 array through nimbus's ZarrArray, printing
// MB/s (10^6 bytes/s) and the engine's I/O counters as JSON. bench/zarr_io.py runs it beside
// TensorStore, zarr-python and the raw store (bench/store_throughput) on the same MinIO and the
// same geometry, and prints the comparison.
//
// The array is (rows, cols) float32, chunks (chunk_rows, cols) -- or, with --shard-rows, shards of
// (shard_rows, cols) holding inner chunks (inner_rows, inner_cols). Element (r, c) holds
// Value(r * cols + c), a 24-bit hash stored exactly as float32, the same formula bench/zarr_io.py
// uses, so every client writes identical bytes and any reader can check any element.
//
// Phases (run in the order given, on one store and one shared TransferModel):
//   create   ZarrArray::Create (exclusive) of the array at --path
//   write    the whole array in slabs of --slab-mib (slab generation is not timed)
//   read     the whole array in slabs; a sample of rows of every slab is checked (not timed)
//   column   x[:, column]          one Read call, fully checked
//   rows     x[::row_step, :]      one Read call, fully checked
// Timing is the wall time of the ZarrArray calls only. For each phase the JSON has seconds, the
// logical bytes, MB/s, the IoStats delta, and CPU seconds of the calling thread and of the whole
// process (the difference is the HTTP client's threads), to show where the time goes.
#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "store/object_store.h"
#include "store/store_factory.h"
#include "zarr/array.h"
#include "zarr/metadata.h"
#include "zarr/planner.h"
#include "zarr/selection.h"

namespace nimbus::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using zarr::DimSelection;
using zarr::Selection;
using zarr::ZarrArray;

struct Options {
  std::string url;
  std::vector<std::string> sets;
  std::string path = "array";
  uint64_t rows = 0;
  uint64_t cols = 1024;
  uint64_t chunk_rows = 1024;
  uint64_t shard_rows = 0;  // 0: unsharded
  uint64_t inner_rows = 128;
  uint64_t inner_cols = 128;
  std::string codec = "raw";
  int zstd_level = 1;
  int concurrency = 8;
  int window = 0;  // ArrayOptions::max_in_flight; 0: = concurrency
  double slab_mib = 256;
  uint64_t column = 7;
  uint64_t row_step = 100;
  std::vector<std::string> phases = {"create", "write", "read", "column", "rows"};
  bool verify = true;
};

// The element at flat index i: a multiplicative hash reduced to 24 bits (exact in float32).
inline float Value(uint64_t i) {
  uint32_t h = static_cast<uint32_t>(i) * 2654435761u;
  return static_cast<float>(h >> 8);
}

Json CodecsJson(const Options& o) {
  Json bytes = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  Json chain = Json::array({bytes});
  if (o.codec == "zstd") {
    chain.push_back({{"name", "zstd"}, {"configuration", {{"level", o.zstd_level}, {"checksum", false}}}});
  }
  if (o.shard_rows == 0) return chain;
  Json index = Json::array({bytes, {{"name", "crc32c"}}});
  return Json::array({{{"name", "sharding_indexed"},
                       {"configuration",
                        {{"chunk_shape", {o.inner_rows, o.inner_cols}},
                         {"codecs", chain},
                         {"index_codecs", index},
                         {"index_location", "end"}}}}});
}

Result<zarr::ArrayMetadata> MakeMetadata(const Options& o) {
  uint64_t outer_rows = o.shard_rows > 0 ? o.shard_rows : o.chunk_rows;
  Json j = {{"zarr_format", 3},
            {"node_type", "array"},
            {"shape", {o.rows, o.cols}},
            {"data_type", "float32"},
            {"chunk_grid",
             {{"name", "regular"}, {"configuration", {{"chunk_shape", {outer_rows, o.cols}}}}}},
            {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
            {"fill_value", 0.0},
            {"codecs", CodecsJson(o)},
            {"attributes", Json::object()}};
  return zarr::ArrayMetadata::FromJson(j);
}

double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ProcessCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Accumulates the time (wall, caller-thread CPU, process CPU) spent inside timed sections only.
struct Timer {
  double wall = 0, thread_cpu = 0, process_cpu = 0;
  template <typename Fn>
  auto Time(Fn&& fn) {
    auto w0 = Clock::now();
    double t0 = ThreadCpu(), p0 = ProcessCpu();
    auto result = fn();
    thread_cpu += ThreadCpu() - t0;
    process_cpu += ProcessCpu() - p0;
    wall += std::chrono::duration<double>(Clock::now() - w0).count();
    return result;
  }
};

Json StatsDelta(const zarr::IoStats& a, const zarr::IoStats& b) {
  return Json{{"bytes_read", b.bytes_read - a.bytes_read},
              {"bytes_written", b.bytes_written - a.bytes_written},
              {"get_requests", b.get_requests - a.get_requests},
              {"put_requests", b.put_requests - a.put_requests},
              {"delete_requests", b.delete_requests - a.delete_requests}};
}

Json PhaseJson(const Timer& t, uint64_t bytes) {
  return Json{{"seconds", t.wall},
              {"bytes", bytes},
              {"mb_per_s", t.wall > 0 ? static_cast<double>(bytes) / t.wall / 1e6 : 0.0},
              {"caller_cpu_seconds", t.thread_cpu},
              {"process_cpu_seconds", t.process_cpu}};
}

Json ModelJson(const zarr::TransferModel& m) {
  return Json{{"latency_ms", m.latency_s() * 1e3}, {"bandwidth_mb_per_s", m.bandwidth_bps() / 1e6}};
}

void FillSlab(const Options& o, uint64_t row0, uint64_t nrows, float* out) {
  uint64_t base = row0 * o.cols;
  uint64_t n = nrows * o.cols;
  for (uint64_t k = 0; k < n; ++k) out[k] = Value(base + k);
}

// Checks up to 8 rows spread over a slab (first, last and evenly between).
Status CheckSlab(const Options& o, uint64_t row0, uint64_t nrows, const float* got) {
  const int samples = 8;
  for (int s = 0; s < samples; ++s) {
    uint64_t r = nrows == 1 ? 0 : (nrows - 1) * static_cast<uint64_t>(s) / (samples - 1);
    for (uint64_t c = 0; c < o.cols; ++c) {
      float want = Value((row0 + r) * o.cols + c);
      float have = got[r * o.cols + c];
      if (std::memcmp(&want, &have, sizeof(float)) != 0) {
        return PermanentError("element (" + std::to_string(row0 + r) + ", " + std::to_string(c) +
                              ") reads " + std::to_string(have) + ", expected " +
                              std::to_string(want));
      }
    }
  }
  return Status::Ok();
}

int Fail(const Status& status) {
  std::fprintf(stderr, "zarr_io: %s\n", status.ToString().c_str());
  return 1;
}

int Run(Options o) {
  if (o.rows == 0 || o.cols == 0 || o.chunk_rows == 0) {
    std::fprintf(stderr, "zarr_io: --rows, --cols and --chunk-rows must be positive\n");
    return 2;
  }
  if (o.codec != "raw" && o.codec != "zstd") {
    std::fprintf(stderr, "zarr_io: --codec must be raw or zstd\n");
    return 2;
  }
  if (o.shard_rows > 0 && (o.shard_rows % o.inner_rows != 0 || o.cols % o.inner_cols != 0)) {
    std::fprintf(stderr, "zarr_io: the shard shape must be a multiple of the inner chunk shape\n");
    return 2;
  }
  if (o.column >= o.cols || o.row_step == 0) {
    std::fprintf(stderr, "zarr_io: --column must be < --cols and --row-step positive\n");
    return 2;
  }
  ConfigMap config;
  if (Status parsed = ParseSetArguments(o.sets, &config); !parsed.ok()) return Fail(parsed);
  if (config.find("max_connections") == config.end()) {
    config["max_connections"] = std::to_string(o.concurrency);
  }
  // Credentials from the environment go into the explicit settings (the command line has none).
  for (auto [env, key] : {std::pair{"AWS_ACCESS_KEY_ID", "access_key_id"},
                          std::pair{"AWS_SECRET_ACCESS_KEY", "secret_access_key"}}) {
    const char* value = std::getenv(env);
    if (value != nullptr && *value != '\0' && config.find(key) == config.end()) config[key] = value;
  }
  auto opened = store::OpenStore(o.url, config);
  if (!opened.ok()) return Fail(opened.status());
  std::shared_ptr<store::ObjectStore> store = *opened;

  auto model = std::make_shared<zarr::TransferModel>();
  zarr::ArrayOptions array_options;
  array_options.model = model;
  array_options.max_in_flight = static_cast<size_t>(o.window > 0 ? o.window : o.concurrency);

  // Slabs: whole outer chunks (or shards) of rows, about --slab-mib each.
  const uint64_t outer_rows = o.shard_rows > 0 ? o.shard_rows : o.chunk_rows;
  const uint64_t row_bytes = o.cols * sizeof(float);
  uint64_t slab_rows = static_cast<uint64_t>(o.slab_mib * 1048576.0) / row_bytes;
  slab_rows = std::max<uint64_t>(outer_rows, slab_rows / outer_rows * outer_rows);
  slab_rows = std::min(slab_rows, o.rows);
  const uint64_t total_bytes = o.rows * row_bytes;

  Json report{{"tool", "zarr_io"},
              {"store", store->Describe()},
              {"path", o.path},
              {"shape", {o.rows, o.cols}},
              {"chunk_shape", {outer_rows, o.cols}},
              {"codec", o.codec},
              {"codecs", CodecsJson(o)},
              {"array_bytes", total_bytes},
              {"concurrency", o.concurrency},
              {"max_connections", config["max_connections"]},
              {"max_in_flight", array_options.max_in_flight},
              {"slab_rows", slab_rows},
              {"slab_bytes", slab_rows * row_bytes},
              {"verified", o.verify}};
  if (o.shard_rows > 0) report["inner_chunk_shape"] = {o.inner_rows, o.inner_cols};

  std::shared_ptr<ZarrArray> array;
  auto open = [&]() -> Status {
    if (array) return Status::Ok();
    auto a = ZarrArray::Open(store, o.path, array_options);
    if (!a.ok()) return a.status();
    array = *a;
    return Status::Ok();
  };

  for (const std::string& phase : o.phases) {
    Json model_before = ModelJson(*model);
    if (phase == "create") {
      auto metadata = MakeMetadata(o);
      if (!metadata.ok()) return Fail(metadata.status());
      auto a = ZarrArray::Create(store, o.path, *metadata, ZarrArray::CreateMode::kExclusive,
                                 array_options);
      if (!a.ok()) return Fail(a.status());
      array = *a;
      continue;
    }
    if (Status s = open(); !s.ok()) return Fail(s);
    const zarr::IoStats before = array->stats();
    Timer timer;
    uint64_t bytes = 0;
    Json extra = Json::object();
    if (phase == "write" || phase == "read") {
      std::vector<float> slab(slab_rows * o.cols);
      for (uint64_t row0 = 0; row0 < o.rows; row0 += slab_rows) {
        uint64_t n = std::min(slab_rows, o.rows - row0);
        std::vector<uint64_t> start = {row0, 0}, count = {n, o.cols};
        Selection box = Selection::Box(start, count);
        Status s;
        if (phase == "write") {
          FillSlab(o, row0, n, slab.data());
          s = timer.Time([&] { return array->Write(box, slab.data()); });
        } else {
          s = timer.Time([&] { return array->Read(box, slab.data()); });
          if (s.ok() && o.verify) s = CheckSlab(o, row0, n, slab.data());
        }
        if (!s.ok()) return Fail(s.WithContext(phase + " of rows " + std::to_string(row0) + "+" +
                                               std::to_string(n)));
      }
      bytes = total_bytes;
    } else if (phase == "column" || phase == "rows") {
      Selection selection;
      uint64_t n_rows = 0, n_cols = 0;
      if (phase == "column") {
        n_rows = o.rows;
        n_cols = 1;
        selection = Selection::Orthogonal(
            {DimSelection::Range(0, o.rows), DimSelection::Range(o.column, 1)});
      } else {
        n_rows = (o.rows + o.row_step - 1) / o.row_step;
        n_cols = o.cols;
        selection = Selection::Orthogonal({DimSelection::Hyperslab(0, o.row_step, n_rows, 1),
                                           DimSelection::Range(0, o.cols)});
      }
      std::vector<float> out(n_rows * n_cols, -1.0f);
      Status s = timer.Time([&] { return array->Read(selection, out.data()); });
      if (!s.ok()) return Fail(s.WithContext(phase));
      if (o.verify) {
        for (uint64_t i = 0; i < n_rows; ++i) {
          for (uint64_t j = 0; j < n_cols; ++j) {
            uint64_t r = phase == "column" ? i : i * o.row_step;
            uint64_t c = phase == "column" ? o.column : j;
            float want = Value(r * o.cols + c);
            if (std::memcmp(&want, &out[i * n_cols + j], sizeof(float)) != 0) {
              return Fail(PermanentError(phase + ": element (" + std::to_string(r) + ", " +
                                         std::to_string(c) + ") is wrong"));
            }
          }
        }
      }
      bytes = n_rows * n_cols * sizeof(float);
      extra["selected_elements"] = n_rows * n_cols;
    } else {
      std::fprintf(stderr, "zarr_io: unknown phase '%s' (create, write, read, column, rows)\n",
                   phase.c_str());
      return 2;
    }
    Json result = PhaseJson(timer, bytes);
    result["io"] = StatsDelta(before, array->stats());
    result["model_before"] = model_before;
    result.update(extra);
    report[phase] = result;
  }
  report["model_after"] = ModelJson(*model);
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"Bulk and sparse I/O of a float32 Zarr v3 array through ZarrArray; JSON out",
               "zarr_io"};
  app.add_option("--url", o.url, "Store URL (s3://bucket/prefix, file:///dir, ...)")->required();
  app.add_option("--set", o.sets, "Store setting key=value (repeatable; commas separate)");
  app.add_option("--path", o.path, "Array path inside the store");
  app.add_option("--rows", o.rows, "Array rows")->required();
  app.add_option("--cols", o.cols, "Array columns (one chunk spans all of them)");
  app.add_option("--chunk-rows", o.chunk_rows, "Chunk rows (unsharded)");
  app.add_option("--shard-rows", o.shard_rows, "Shard rows (0: unsharded)");
  app.add_option("--inner-rows", o.inner_rows, "Inner chunk rows (sharded)");
  app.add_option("--inner-cols", o.inner_cols, "Inner chunk columns (sharded)");
  app.add_option("--codec", o.codec, "raw (bytes only) or zstd");
  app.add_option("--zstd-level", o.zstd_level, "zstd level");
  app.add_option("-c,--concurrency", o.concurrency, "max_connections (and max_in_flight)")
      ->check(CLI::PositiveNumber);
  app.add_option("--window", o.window, "ArrayOptions::max_in_flight (default = concurrency)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--slab-mib", o.slab_mib, "MiB per Read/Write call in the bulk phases");
  app.add_option("--column", o.column, "Column of the 'column' phase");
  app.add_option("--row-step", o.row_step, "Row step of the 'rows' phase");
  app.add_option("--phases", o.phases, "create,write,read,column,rows")->delimiter(',');
  app.add_flag("!--no-verify", o.verify, "Skip checking what is read");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return Run(o);
}

}  // namespace
}  // namespace nimbus::bench

int main(int argc, char** argv) {
  try {
    return nimbus::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zarr_io: %s\n", e.what());
    return 1;
  }
}
