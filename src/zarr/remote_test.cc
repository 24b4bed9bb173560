// Selection push-down and reductions in the array layer, with an in-process stand-in for the
// active storage server (it decodes the stored bytes with the engine's own codecs): which codec
// chains can be pushed, the cost rule, that pushed reads give exactly the normal path's values
// and move fewer bytes, that every failure falls back, and Reduce against a plain model.
#include "zarr/remote.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "store/memory/memory_store.h"
#include "zarr/testing_metadata.h"
#include "zarr/array.h"

namespace nimbus::zarr {
namespace {

using store::MemoryStore;

using test_util::Meta;

nlohmann::json Bytes(const std::string& endian = "little") {
  return {{"name", "bytes"}, {"configuration", {{"endian", endian}}}};
}
nlohmann::json Gzip() { return {{"name", "gzip"}, {"configuration", {{"level", 1}}}}; }
nlohmann::json Zstd() { return {{"name", "zstd"}, {"configuration", {{"level", 1}, {"checksum", false}}}}; }

CodecChain Chain(const nlohmann::json& codecs, const std::string& dtype = "float32") {
  auto type = DataType::FromName(dtype);
  auto chain = CodecChain::FromJson(codecs, ChunkSpec{{8, 8}, *type, std::string(type->item_size, '\0')});
  EXPECT_TRUE(chain.ok()) << chain.status().ToString();
  return std::move(chain).value();
}

TEST(RemotePlan, WhatTheServerCanDecode) {
  auto f32 = *DataType::FromName("float32");
  auto plan = PlanRemoteCodecs(Chain(nlohmann::json::array({Bytes(), Gzip()})), f32);
  EXPECT_TRUE(plan.supported) << plan.reason;
  EXPECT_EQ(plan.compression, "gzip");
  EXPECT_EQ(plan.dtype, "float32");
  EXPECT_FALSE(plan.big_endian);

  plan = PlanRemoteCodecs(
      Chain(nlohmann::json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}},
                                   Bytes("big"),
                                   {{"name", "numcodecs.shuffle"}, {"configuration", {{"elementsize", 4}}}},
                                   Zstd(), {{"name", "crc32c"}}})),
      f32);
  EXPECT_TRUE(plan.supported) << plan.reason;
  EXPECT_TRUE(plan.big_endian);
  EXPECT_EQ(plan.transpose, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(plan.shuffle, (std::vector<uint64_t>{4}));
  EXPECT_EQ(plan.compression, "zstd");
  EXPECT_EQ(plan.trailing_bytes, 4u);

  // Raw chunks are plannable (reductions use them); the read path only pushes compressed ones.
  plan = PlanRemoteCodecs(Chain(nlohmann::json::array({Bytes()})), f32);
  EXPECT_TRUE(plan.supported);
  EXPECT_EQ(plan.compression, "");

  // Not for the server: types it does not know, codecs it cannot undo.
  EXPECT_FALSE(PlanRemoteCodecs(Chain(nlohmann::json::array({{{"name", "bytes"}}, Gzip()}), "bool"),
                                *DataType::FromName("bool"))
                   .supported);
  EXPECT_FALSE(PlanRemoteCodecs(
                   Chain(nlohmann::json::array(
                       {Bytes(), {{"name", "numcodecs.lz4"}, {"configuration", {{"acceleration", 1}}}}})),
                   f32)
                   .supported);
  EXPECT_FALSE(PlanRemoteCodecs(Chain(nlohmann::json::array({Bytes(), Gzip(), Zstd()})), f32).supported);
}

TEST(RemotePlan, PushdownCostRule) {
  // 1 KiB selected out of a 64 KiB stored chunk: pushed; half the stored bytes: not at 0.5.
  EXPECT_TRUE(ChoosePushdown(1024, 65536, 0.5));
  EXPECT_FALSE(ChoosePushdown(32768, 65536, 0.5));
  EXPECT_TRUE(ChoosePushdown(32768, 65536 + 2 * kPushdownResponseOverhead, 0.5));
  // The envelope counts: tiny chunks are never worth a request.
  EXPECT_FALSE(ChoosePushdown(8, 200, 0.0));
  EXPECT_FALSE(ChoosePushdown(0, 1 << 20, 1.0));  // min_saving 1 disables push-down
  EXPECT_FALSE(ChoosePushdown(10, 0, 0.5));

  CompressionEstimate e;
  EXPECT_FALSE(e.observed());
  EXPECT_EQ(e.Estimate(1000), 500u);  // the prior: 2:1
  e.Observe(100, 1000);
  e.Observe(300, 1000);
  EXPECT_EQ(e.Estimate(1000), 200u);
}

// Decodes what a request names with the engine's codecs and answers select and full sums; counts
// what it was asked. Anything else (axis reductions, min, max, count) it refuses.
class FakeServer : public RemoteSelector {
 public:
  explicit FakeServer(std::shared_ptr<store::ObjectStore> store) : store_(std::move(store)) {}

  Future<Result<RemoteResult>> Submit(RemoteRequest r) override {
    requests++;
    if (fail) return ReadyFuture<Result<RemoteResult>>(TransientError("fake server is down"));
    return ReadyFuture(Answer(r));
  }
  std::string Describe() const override { return "fake active storage"; }

  int requests = 0;
  bool fail = false;

 private:
  Result<RemoteResult> Answer(const RemoteRequest& r) {
    auto got = store_->GetSync(r.key, r.size ? store::ByteRange::Range(r.offset, *r.size)
                                             : store::ByteRange::All());
    if (!got.ok()) return got.status();
    nlohmann::json codecs = nlohmann::json::array({Bytes(r.big_endian ? "big" : "little")});
    for (uint64_t s : r.shuffle) {
      codecs.push_back({{"name", "numcodecs.shuffle"}, {"configuration", {{"elementsize", s}}}});
    }
    if (!r.compression.empty()) codecs.push_back({{"name", r.compression}});
    auto type = *DataType::FromName(r.dtype);
    auto chain = CodecChain::FromJson(codecs, ChunkSpec{r.shape, type, std::string(type.item_size, '\0')});
    if (!chain.ok()) return chain.status();
    auto chunk = chain->Decode(std::move(got->data));
    if (!chunk.ok()) return chunk.status();
    // The selected elements, C order.
    const size_t rank = r.shape.size(), item = type.item_size;
    std::vector<uint64_t> stride(rank, 1), idx(rank, 0), count(rank);
    for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * r.shape[d];
    uint64_t n = 1;
    for (size_t d = 0; d < rank; ++d) {
      const auto& s = r.selection[d];
      count[d] = (s.end - s.start + s.stride - 1) / s.stride;
      n *= count[d];
    }
    std::string out;
    for (uint64_t e = 0; e < n; ++e) {
      uint64_t pos = 0;
      for (size_t d = 0; d < rank; ++d) pos += (r.selection[d].start + idx[d] * r.selection[d].stride) * stride[d];
      out.append(chunk->data.data() + pos * item, item);
      for (size_t d = rank; d-- > 0;) {
        if (++idx[d] < count[d]) break;
        idx[d] = 0;
      }
    }
    RemoteResult res;
    res.count = {static_cast<int64_t>(n)};
    if (r.op == RemoteOp::kSelect) {
      res.bytes = Buffer::CopyOf(out);
      res.dtype = r.dtype;
      res.shape = count;
      return res;
    }
    if (r.op == RemoteOp::kSum && !r.axis && r.dtype == "float32") {
      double sum = 0;
      for (uint64_t e = 0; e < n; ++e) {
        float f;
        std::memcpy(&f, out.data() + e * 4, 4);
        sum += f;
      }
      const float f = static_cast<float>(sum);
      res.bytes = Buffer::CopyOf(std::string_view(reinterpret_cast<const char*>(&f), 4));
      res.dtype = "float32";
      return res;
    }
    return UnimplementedError("fake server: only select and full float32 sums");
  }

  std::shared_ptr<store::ObjectStore> store_;
};

struct Fixture {
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>("remote");
  std::shared_ptr<FakeServer> server = std::make_shared<FakeServer>(store);
  std::shared_ptr<ZarrArray> plain, pushed;
  std::vector<float> model;

  Fixture(const nlohmann::json& codecs, std::vector<uint64_t> shape, std::vector<uint64_t> chunks,
          const std::string& path) {
    auto a = ZarrArray::Create(store, path, Meta(shape, chunks, codecs, "float32", 0.5));
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    uint64_t n = 1;
    for (uint64_t s : shape) n *= s;
    model.resize(n);
    std::mt19937 rng(7);
    for (auto& v : model) v = static_cast<float>(rng() % 100000) / 7.0f;
    // Leave the last chunk row unwritten: missing chunks must read as fill.
    std::vector<uint64_t> start(shape.size(), 0), count = shape;
    count[0] = shape[0] - chunks[0];
    std::vector<float> part(model.begin(), model.begin() + static_cast<long>(n / shape[0] * count[0]));
    EXPECT_TRUE((*a)->Write(Selection::Box(start, count), part.data()).ok());
    for (uint64_t i = n / shape[0] * count[0]; i < n; ++i) model[i] = 0.5f;
    plain = *ZarrArray::Open(store, path);
    ArrayOptions options;
    options.remote = server;
    pushed = *ZarrArray::Open(store, path, options);
  }
};

// Element-wise equality of what both paths return for `sel`.
void ExpectSame(Fixture& f, const Selection& sel, Layout layout = Layout::kC) {
  std::vector<float> a(sel.num_elements()), b(sel.num_elements());
  ASSERT_TRUE(f.plain->Read(sel, a.data(), layout).ok());
  Status s = f.pushed->Read(sel, b.data(), layout);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

TEST(RemoteRead, SparseSelectionOfCompressedChunksIsPushedAndIdentical) {
  Fixture f(nlohmann::json::array({Bytes(), Gzip()}), {200, 120}, {50, 40}, "g");
  // A column every 7th row, plus a strided block crossing chunks, in C and F layout.
  auto sel = Selection::Orthogonal({DimSelection::Hyperslab(3, 7, 28, 1), DimSelection::Range(55, 1)});
  ExpectSame(f, sel);
  EXPECT_GT(f.server->requests, 0);
  const IoStats st = f.pushed->stats();
  EXPECT_EQ(st.remote_requests, 3u);  // three stored chunks in that column; the missing row is fill
  EXPECT_EQ(st.remote_fallbacks, 0u);
  EXPECT_LT(st.remote_bytes + st.bytes_read, f.plain->stats().bytes_read);
  ExpectSame(f, Selection::Orthogonal({DimSelection::Hyperslab(10, 13, 14, 1),
                                       DimSelection::Hyperslab(1, 9, 13, 1)}),
             Layout::kF);
  // Dense selections are not worth it: the normal path, no requests.
  const int before = f.server->requests;
  ExpectSame(f, Selection::Box(std::vector<uint64_t>{0, 0}, std::vector<uint64_t>{200, 120}));
  EXPECT_EQ(f.server->requests, before);
}

TEST(RemoteRead, ShardInnerChunksArePushedWithTheirByteRange) {
  nlohmann::json sharding = {
      {"name", "sharding_indexed"},
      {"configuration",
       {{"chunk_shape", {25, 40}},
        {"codecs", nlohmann::json::array({Bytes(), Zstd()})},
        {"index_codecs", nlohmann::json::array({Bytes(), {{"name", "crc32c"}}})},
        {"index_location", "end"}}}};
  Fixture f(nlohmann::json::array({sharding}), {200, 120}, {50, 120}, "s");
  ExpectSame(f, Selection::Orthogonal({DimSelection::Hyperslab(0, 5, 40, 1), DimSelection::Range(7, 2)}));
  const IoStats st = f.pushed->stats();
  EXPECT_GT(st.remote_requests, 0u);
  EXPECT_EQ(st.remote_fallbacks, 0u);
  EXPECT_GT(st.remote_stored_bytes, st.remote_bytes);
}

TEST(RemoteRead, EveryFailureFallsBackToTheNormalPath) {
  Fixture f(nlohmann::json::array({Bytes(), Zstd()}), {100, 100}, {50, 50}, "z");
  f.server->fail = true;
  ExpectSame(f, Selection::Orthogonal({DimSelection::Hyperslab(0, 9, 11, 1), DimSelection::Range(3, 1)}));
  const IoStats st = f.pushed->stats();
  EXPECT_EQ(st.remote_requests, 0u);
  EXPECT_GT(st.remote_fallbacks, 0u);
  EXPECT_EQ(f.server->fallbacks(), st.remote_fallbacks);
}

// The model's reduction over a box selection, every axis.
double ModelSum(const Fixture& f, uint64_t cols, uint64_t r0, uint64_t r1, uint64_t c0, uint64_t c1) {
  double s = 0;
  for (uint64_t r = r0; r < r1; ++r) {
    for (uint64_t c = c0; c < c1; ++c) s += f.model[r * cols + c];
  }
  return s;
}

TEST(Reduce, LocalAndRemoteAgreeWithTheModel) {
  Fixture f(nlohmann::json::array({Bytes(), Gzip()}), {200, 120}, {50, 40}, "r");
  auto sel = Selection::Box(std::vector<uint64_t>{10, 5}, std::vector<uint64_t>{180, 100});
  const double expected = ModelSum(f, 120, 10, 190, 5, 105);
  for (auto& array : {f.plain, f.pushed}) {
    auto r = array->Reduce(ReduceOp::kSum, sel);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    float v;
    std::memcpy(&v, r->values.data(), 4);
    EXPECT_NEAR(v, expected, std::abs(expected) * 1e-5);
    EXPECT_EQ(r->count, (std::vector<int64_t>{180 * 100}));
    EXPECT_TRUE(r->shape.empty());
  }
  auto r = f.pushed->Reduce(ReduceOp::kSum, sel);
  EXPECT_GT(r->remote_chunks, 0u);
  EXPECT_GT(r->fill_chunks, 0u);  // the unwritten chunk row

  // Axis reductions: the fake refuses them, so every chunk falls back, with the same result.
  auto local = f.plain->Reduce(ReduceOp::kMax, sel, std::vector<size_t>{0});
  auto remote = f.pushed->Reduce(ReduceOp::kMax, sel, std::vector<size_t>{0});
  ASSERT_TRUE(local.ok() && remote.ok());
  EXPECT_EQ(local->shape, (std::vector<uint64_t>{100}));
  EXPECT_EQ(local->values.ToString(), remote->values.ToString());
  EXPECT_EQ(local->count, remote->count);
  for (uint64_t c = 0; c < 100; ++c) {
    float m = -INFINITY;
    for (uint64_t row = 10; row < 190; ++row) m = std::max(m, f.model[row * 120 + 5 + c]);
    float v;
    std::memcpy(&v, local->values.data() + c * 4, 4);
    EXPECT_EQ(v, m);
  }
  EXPECT_GT(remote->local_chunks, 0u);
}

TEST(Reduce, IntegerSumsWrapLikeNumpyAndEmptyMinIsAnError) {
  auto store = std::make_shared<MemoryStore>("ints");
  auto a = *ZarrArray::Create(store, "i", Meta({300}, {64}, nlohmann::json::array({Bytes()}), "int8", 0));
  std::vector<int8_t> values(300);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int8_t>(i * 37);
  ASSERT_TRUE(a->Write(Selection::All(std::vector<uint64_t>{300}), values.data()).ok());
  auto r = a->Reduce(ReduceOp::kSum, Selection::All(std::vector<uint64_t>{300}));
  ASSERT_TRUE(r.ok());
  int8_t expected = 0;
  for (int8_t v : values) expected = static_cast<int8_t>(expected + v);
  EXPECT_EQ(static_cast<int8_t>(r->values.data()[0]), expected);
  auto mn = a->Reduce(ReduceOp::kMin, Selection::All(std::vector<uint64_t>{300}));
  EXPECT_EQ(static_cast<int8_t>(mn->values.data()[0]), *std::min_element(values.begin(), values.end()));
  auto cnt = a->Reduce(ReduceOp::kCount, Selection::Box(std::vector<uint64_t>{5}, std::vector<uint64_t>{10}));
  int64_t c;
  std::memcpy(&c, cnt->values.data(), 8);
  EXPECT_EQ(c, 10);
  EXPECT_EQ(cnt->dtype, "int64");
  auto empty = a->Reduce(ReduceOp::kMin, Selection::Box(std::vector<uint64_t>{5}, std::vector<uint64_t>{0}));
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(a->Reduce(ReduceOp::kSum, Selection::All(std::vector<uint64_t>{300}), std::vector<size_t>{1})
                .status()
                .kind(),
            ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace nimbus::zarr
