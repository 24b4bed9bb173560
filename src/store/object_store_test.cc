#include "store/object_store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nimbus::store {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
using Interval = std::pair<uint64_t, uint64_t>;

// --- ByteRange ---------------------------------------------------------------------------------

TEST(ByteRangeTest, ResolveAll) {
  EXPECT_EQ(ByteRange::All().Resolve(100), Interval(0, 100));
  EXPECT_EQ(ByteRange::All().Resolve(0), Interval(0, 0));
}

TEST(ByteRangeTest, ResolveRange) {
  EXPECT_EQ(ByteRange::Range(0, 10).Resolve(100), Interval(0, 10));
  EXPECT_EQ(ByteRange::Range(40, 20).Resolve(100), Interval(40, 60));
  EXPECT_EQ(ByteRange::Range(90, 10).Resolve(100), Interval(90, 100));
  EXPECT_EQ(ByteRange::Range(95, 10).Resolve(100), Interval(95, 100));    // clamped
  EXPECT_EQ(ByteRange::Range(100, 10).Resolve(100), Interval(100, 100));  // at the end: empty
  EXPECT_EQ(ByteRange::Range(500, 10).Resolve(100), Interval(100, 100));  // past the end: empty
  EXPECT_EQ(ByteRange::Range(5, 0).Resolve(100), Interval(5, 5));
  EXPECT_EQ(ByteRange::Range(3, 4).Resolve(0), Interval(0, 0));
  // offset + length overflows: saturates to the end instead of wrapping.
  EXPECT_EQ(ByteRange::Range(10, kMax).Resolve(100), Interval(10, 100));
  EXPECT_EQ(ByteRange::Range(kMax, kMax).Resolve(100), Interval(100, 100));
}

TEST(ByteRangeTest, ResolveFromAndSuffix) {
  EXPECT_EQ(ByteRange::From(0).Resolve(100), Interval(0, 100));
  EXPECT_EQ(ByteRange::From(30).Resolve(100), Interval(30, 100));
  EXPECT_EQ(ByteRange::From(100).Resolve(100), Interval(100, 100));
  EXPECT_EQ(ByteRange::From(kMax).Resolve(100), Interval(100, 100));
  EXPECT_EQ(ByteRange::Suffix(10).Resolve(100), Interval(90, 100));
  EXPECT_EQ(ByteRange::Suffix(100).Resolve(100), Interval(0, 100));
  EXPECT_EQ(ByteRange::Suffix(1000).Resolve(100), Interval(0, 100));
  EXPECT_EQ(ByteRange::Suffix(0).Resolve(100), Interval(100, 100));
  EXPECT_EQ(ByteRange::Suffix(5).Resolve(0), Interval(0, 0));
}

TEST(ByteRangeTest, ToString) {
  EXPECT_EQ(ByteRange::All().ToString(), "all");
  EXPECT_EQ(ByteRange::Range(10, 5).ToString(), "[10, 15)");
  EXPECT_EQ(ByteRange::Range(10, kMax).ToString(), "[10, end)");
  EXPECT_EQ(ByteRange::From(7).ToString(), "[7, end)");
  EXPECT_EQ(ByteRange::Suffix(64).ToString(), "last 64");
}

// --- StoreUrl ----------------------------------------------------------------------------------

StoreUrl ParseOk(std::string_view url) {
  auto parsed = StoreUrl::Parse(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : StoreUrl{};
}

void ExpectUrl(std::string_view url, std::string scheme, std::string bucket, std::string prefix) {
  SCOPED_TRACE(std::string(url));
  StoreUrl u = ParseOk(url);
  EXPECT_EQ(u.scheme, scheme);
  EXPECT_EQ(u.bucket, bucket);
  EXPECT_EQ(u.prefix, prefix);
}

TEST(StoreUrlTest, ParsesCloudUrls) {
  ExpectUrl("s3://bucket", "s3", "bucket", "");
  ExpectUrl("s3://bucket/", "s3", "bucket", "");
  ExpectUrl("s3://bucket/a/b", "s3", "bucket", "a/b");
  ExpectUrl("s3://bucket/a/b/", "s3", "bucket", "a/b");
  ExpectUrl("s3://my.bucket-1/data set/x=1", "s3", "my.bucket-1", "data set/x=1");
  ExpectUrl("S3://bucket/p", "s3", "bucket", "p");
  ExpectUrl("az://container/prefix", "az", "container", "prefix");
  ExpectUrl("memory://scratch", "memory", "scratch", "");
  ExpectUrl("memory://scratch/sub", "memory", "scratch", "sub");
}

TEST(StoreUrlTest, ParsesFileUrlsAndPaths) {
  ExpectUrl("file:///data/dir", "file", "", "/data/dir");
  ExpectUrl("file:///data/dir/", "file", "", "/data/dir");
  ExpectUrl("file://localhost/data", "file", "", "/data");
  ExpectUrl("file:/data/dir", "file", "", "/data/dir");
  ExpectUrl("file:///", "file", "", "/");
  ExpectUrl("file:///data/my%20dir/%25x", "file", "", "/data/my dir/%x");
  ExpectUrl("file:///data/./a/../b//c", "file", "", "/data/b/c");
  ExpectUrl("/abs/path", "file", "", "/abs/path");
  ExpectUrl("/abs/with space/and:colon", "file", "", "/abs/with space/and:colon");

  std::string cwd = std::filesystem::current_path().string();
  ExpectUrl("relative/dir", "file", "", cwd + "/relative/dir");
  ExpectUrl("./here/", "file", "", cwd + "/here");
  ExpectUrl(".", "file", "", cwd);
}

void ExpectInvalid(std::string_view url, std::string_view message_part) {
  SCOPED_TRACE(std::string(url));
  auto parsed = StoreUrl::Parse(url);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().kind(), ErrorKind::kInvalidArgument) << parsed.status().ToString();
  EXPECT_NE(parsed.status().message().find(message_part), std::string::npos)
      << parsed.status().ToString();
}

TEST(StoreUrlTest, RejectsBadUrls) {
  ExpectInvalid("", "empty store URL");
  ExpectInvalid("s3://", "empty bucket");
  ExpectInvalid("s3:///prefix", "empty bucket");
  ExpectInvalid("az://", "empty container");
  ExpectInvalid("memory://", "empty store name");
  ExpectInvalid("gs://bucket/x", "unknown scheme 'gs'");
  ExpectInvalid("http://host/x", "unknown scheme 'http'");
  ExpectInvalid("file://server/share", "names host 'server'");
  ExpectInvalid("file://relative/dir", "names host 'relative'");
  ExpectInvalid("file://localhost", "no path");
  ExpectInvalid("file:relative", "absolute path");
  ExpectInvalid("file:///bad%zzescape", "percent escape");
  ExpectInvalid("file:///x%00y", "NUL");
  ExpectInvalid("file:///a?b", "query or fragment");
  ExpectInvalid("s3:bucket/x", "expected s3://");
  ExpectInvalid("s3://bu cket/x", "invalid bucket");
  ExpectInvalid("s3://user@bucket/x", "invalid bucket");
  ExpectInvalid("1s3://bucket", "unknown scheme");
  ExpectInvalid("s 3://bucket", "malformed scheme");
}

TEST(StoreUrlTest, ToStringRoundTrips) {
  for (std::string_view url :
       {"s3://bucket", "s3://bucket/a/b", "az://c/p", "memory://m", "memory://m/x",
        "file:///data/dir", "file:///", "file:///data/my%20dir/%25x%3F%23/%C3%BC"}) {
    StoreUrl u = ParseOk(url);
    EXPECT_EQ(u.ToString(), url);
    StoreUrl again = ParseOk(u.ToString());
    EXPECT_EQ(again.scheme, u.scheme);
    EXPECT_EQ(again.bucket, u.bucket);
    EXPECT_EQ(again.prefix, u.prefix);
  }
  StoreUrl odd{"file", "", "/tmp/a b?#%ü"};
  EXPECT_EQ(odd.ToString(), "file:///tmp/a%20b%3F%23%25%C3%BC");
  EXPECT_EQ(ParseOk(odd.ToString()).prefix, odd.prefix);
}

// --- default DeleteMany / GetRanges ------------------------------------------------------------

// Completes nothing until told to, then in reverse order of issue, so the defaults cannot rely
// on completion order or on futures being ready.
class DeferredStore : public ObjectStore {
 public:
  std::string Describe() const override { return "deferred://"; }

  Future<Result<GetResult>> Get(std::string key, ByteRange range) override {
    Promise<Result<GetResult>> promise;
    Defer([this, promise, key, range] {
      if (key != "obj") return promise.Set(NotFoundError("no " + key));
      if (range.kind == ByteRange::Kind::kRange && range.offset == 999) {
        return promise.Set(TransientError("flaky range"));
      }
      auto [begin, end] = range.Resolve(object_.size());
      GetResult out;
      out.data = Buffer::CopyOf(std::string_view(object_).substr(begin, end - begin));
      out.info.size = object_.size();
      promise.Set(std::move(out));
    });
    return promise.future();
  }
  Future<Result<PutResult>> Put(std::string, Buffer, PutOptions) override {
    return ReadyFuture(Result<PutResult>(UnimplementedError("put")));
  }
  Future<Result<ObjectInfo>> Head(std::string) override {
    return ReadyFuture(Result<ObjectInfo>(UnimplementedError("head")));
  }
  Future<Status> Delete(std::string key) override {
    Promise<Status> promise;
    Defer([this, promise, key] {
      std::lock_guard lock(mu_);
      deleted_.push_back(key);
      auto it = delete_errors_.find(key);
      promise.Set(it == delete_errors_.end() ? Status::Ok() : it->second);
    });
    return promise.future();
  }
  Future<Result<ListResult>> List(ListOptions) override {
    return ReadyFuture(Result<ListResult>(UnimplementedError("list")));
  }

  // Runs the deferred completions, newest first, on another thread.
  void CompleteAllReversed() {
    std::vector<std::function<void()>> work;
    {
      std::lock_guard lock(mu_);
      work.swap(pending_);
    }
    std::thread([&] {
      for (auto it = work.rbegin(); it != work.rend(); ++it) (*it)();
    }).join();
  }

  std::string object_ = "0123456789abcdefghij";
  std::map<std::string, Status> delete_errors_;
  std::vector<std::string> deleted_;

 private:
  void Defer(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(fn));
  }
  std::mutex mu_;
  std::vector<std::function<void()>> pending_;
};

TEST(DefaultDeleteManyTest, IssuesEveryDeleteAndSucceeds) {
  DeferredStore store;
  auto done = store.DeleteMany({"a", "b", "c"});
  EXPECT_FALSE(done.ready());  // did not block waiting for the deletes
  store.CompleteAllReversed();
  ASSERT_TRUE(done.ready());
  EXPECT_TRUE(done.Get().ok());
  EXPECT_EQ(store.deleted_, (std::vector<std::string>{"c", "b", "a"}));
}

TEST(DefaultDeleteManyTest, ReturnsFirstErrorInRequestOrder) {
  DeferredStore store;
  store.delete_errors_["b"] = Status(ErrorKind::kAccessDenied, "b refused");
  store.delete_errors_["d"] = Status(ErrorKind::kTransient, "d flaked");
  auto done = store.DeleteMany({"a", "b", "c", "d"});
  store.CompleteAllReversed();  // d fails before b
  Status status = done.Get();
  EXPECT_EQ(status.kind(), ErrorKind::kAccessDenied);
  EXPECT_NE(status.message().find("'b'"), std::string::npos) << status.ToString();
  EXPECT_EQ(store.deleted_.size(), 4u);  // later deletes still ran
}

TEST(DefaultDeleteManyTest, EmptyIsReadyOk) {
  DeferredStore store;
  auto done = store.DeleteMany({});
  ASSERT_TRUE(done.ready());
  EXPECT_TRUE(done.Get().ok());
}

TEST(DefaultGetRangesTest, ValuesInRequestOrder) {
  DeferredStore store;
  auto done =
      store.GetRanges("obj", {ByteRange::Range(10, 3), ByteRange::Range(0, 2), ByteRange::Suffix(4),
                              ByteRange::From(18), ByteRange::Range(50, 5), ByteRange::All()});
  EXPECT_FALSE(done.ready());
  store.CompleteAllReversed();
  auto result = done.Get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> got;
  for (const Buffer& b : *result) got.push_back(b.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{"abc", "01", "ghij", "ij", "", store.object_}));
}

TEST(DefaultGetRangesTest, ReturnsFirstErrorInRequestOrder) {
  DeferredStore store;
  auto done =
      store.GetRanges("obj", {ByteRange::Range(0, 1), ByteRange::Range(999, 1), ByteRange::All()});
  store.CompleteAllReversed();
  EXPECT_EQ(done.Get().status().kind(), ErrorKind::kTransient);

  auto missing = store.GetRanges("nope", {ByteRange::Range(0, 1), ByteRange::Suffix(1)});
  store.CompleteAllReversed();
  EXPECT_EQ(missing.Get().status().kind(), ErrorKind::kNotFound);
}

TEST(DefaultGetRangesTest, EmptyIsReady) {
  DeferredStore store;
  auto done = store.GetRanges("obj", {});
  ASSERT_TRUE(done.ready());
  auto result = done.Get();
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->empty());
}

}  // namespace
}  // namespace nimbus::store
