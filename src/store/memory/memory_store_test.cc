#include "store/memory/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/testing/conformance.h"

namespace nimbus::store {
namespace {

// A new MemoryStore per test is already a fresh, empty namespace.
INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         testing::Values(ConformanceParam{
                             .name = "memory",
                             .make_store = [] { return std::make_shared<MemoryStore>("conf"); },
                             .slow_ok = true}),
                         ConformanceParamName);

TEST(MemoryStoreTest, DescribeUsesName) {
  EXPECT_EQ(MemoryStore("scratch").Describe(), "memory://scratch");
}

TEST(MemoryStoreTest, InstancesAreIndependent) {
  MemoryStore a("a"), b("b");
  ASSERT_TRUE(a.PutSync("k", "v").ok());
  EXPECT_EQ(b.GetSync("k").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 0u);
}

TEST(MemoryStoreTest, FuturesAreReady) {
  MemoryStore store("ready");
  auto put = store.Put("k", Buffer::CopyOf("v"));
  EXPECT_TRUE(put.ready());
  auto get = store.Get("k");
  EXPECT_TRUE(get.ready());
}

TEST(MemoryStoreTest, RejectsBadArguments) {
  MemoryStore store("bad");
  EXPECT_EQ(store.PutSync("", "v").status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(store.GetSync("").status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(store.ListSync({.page_size = 0}).status().kind(), ErrorKind::kInvalidArgument);
  PutOptions both{.if_none_match_any = true, .if_match = "\"1\""};
  EXPECT_EQ(store.PutSync("k", "v", both).status().kind(), ErrorKind::kInvalidArgument);
}

TEST(MemoryStoreTest, EtagsNeverRepeat) {
  MemoryStore store("etags");
  auto first = store.PutSync("k", "same");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store.DeleteSync("k").ok());
  auto second = store.PutSync("k", "same");
  ASSERT_TRUE(second.ok());
  // A stale etag from before the delete must not match the recreated object.
  EXPECT_NE(first->etag, second->etag);
  EXPECT_EQ(store.PutSync("k", "new", {.if_match = first->etag}).status().kind(),
            ErrorKind::kPreconditionFailed);
}

TEST(MemoryStoreTest, ConcurrentCreateOnlyHasOneWinner) {
  MemoryStore store("race");
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto put = store.PutSync("lock", std::to_string(t), {.if_none_match_any = true});
      if (put.ok()) {
        ++winners;
      } else {
        EXPECT_EQ(put.status().kind(), ErrorKind::kPreconditionFailed);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST(MemoryStoreTest, ConcurrentIfMatchHasOneWinner) {
  MemoryStore store("cas");
  auto base = store.PutSync("counter", "0");
  ASSERT_TRUE(base.ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      if (store.PutSync("counter", std::to_string(t + 1), {.if_match = base->etag}).ok()) {
        ++winners;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST(MemoryStoreTest, ReaderKeepsDataAcrossOverwrite) {
  // Overwrites swap the stored buffer; a read copies from the one it found.
  MemoryStore store("swap");
  ASSERT_TRUE(store.PutSync("k", std::string(1 << 20, 'a')).ok());
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(store.PutSync("k", std::string(1 << 20, static_cast<char>('a' + i % 26))).ok());
    }
  });
  for (int i = 0; i < 50; ++i) {
    auto got = store.GetSync("k");
    ASSERT_TRUE(got.ok());
    std::string_view bytes = got->data.view();
    ASSERT_EQ(bytes.size(), 1u << 20);
    EXPECT_EQ(bytes.find_first_not_of(bytes[0]), std::string_view::npos);
  }
  writer.join();
}

}  // namespace
}  // namespace nimbus::store
