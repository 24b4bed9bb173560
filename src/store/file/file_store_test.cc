#include "store/file/file_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/testing/conformance.h"

namespace nimbus::store {
namespace {

namespace fs = std::filesystem;

// One scratch directory per test process, removed when the process's tests end.
class ScratchRoot : public testing::Environment {
 public:
  static const std::string& Path() {
    static const std::string path = [] {
      std::string pattern = (fs::temp_directory_path() / "nimbus-file-store-XXXXXX").string();
      char* made = ::mkdtemp(pattern.data());
      if (made == nullptr) std::abort();
      return pattern;
    }();
    return path;
  }
  // A fresh, empty, not yet existing directory (the store creates it on first put).
  static std::string FreshDir() {
    static std::atomic<int> counter{0};
    return Path() + "/store-" + std::to_string(counter++);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(Path(), ec);
  }
};
testing::Environment* const scratch_env = testing::AddGlobalTestEnvironment(new ScratchRoot);

INSTANTIATE_TEST_SUITE_P(
    File, StoreConformance,
    testing::Values(ConformanceParam{
        .name = "file",
        .make_store = [] { return std::make_shared<FileStore>(ScratchRoot::FreshDir()); },
        .slow_ok = true}),
    ConformanceParamName);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> TempFilesUnder(const std::string& root) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().filename().string().starts_with(FileStore::kTempPrefix)) {
      found.push_back(it->path().string());
    }
  }
  return found;
}

TEST(FileStoreTest, DescribeIsAFileUrl) {
  EXPECT_EQ(FileStore("/data/my dir/").Describe(), "file:///data/my%20dir");
  EXPECT_EQ(FileStore("/data/my dir/").root(), "/data/my dir");
}

TEST(FileStoreTest, RelativeRootBecomesAbsolute) {
  FileStore store("some/relative/dir");
  EXPECT_EQ(store.root().front(), '/');
  EXPECT_TRUE(store.root().ends_with("/some/relative/dir"));
}

TEST(FileStoreTest, RootIsCreatedOnFirstPut) {
  std::string root = ScratchRoot::FreshDir() + "/not/yet";
  FileStore store(root);
  auto listed = store.ListSync({});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->objects.empty());
  EXPECT_EQ(store.GetSync("k").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store.DeleteSync("k").ok());
  ASSERT_TRUE(store.PutSync("k", "v").ok());
  EXPECT_EQ(ReadFile(root + "/k"), "v");
}

TEST(FileStoreTest, KeysAreFilesUnderTheRoot) {
  std::string root = ScratchRoot::FreshDir();
  FileStore store(root);
  ASSERT_TRUE(store.PutSync("dir/sub/file name+%=.txt", "payload").ok());
  EXPECT_EQ(ReadFile(root + "/dir/sub/file name+%=.txt"), "payload");

  // Files placed by other tools are objects too.
  fs::create_directories(root + "/external");
  std::ofstream(root + "/external/made-by-hand") << "hand";
  auto got = store.GetSync("external/made-by-hand");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->data.ToString(), "hand");
  auto listed = store.ListSync({.prefix = "external/"});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->objects.size(), 1u);
  EXPECT_EQ(listed->objects[0].key, "external/made-by-hand");
}

TEST(FileStoreTest, RejectsKeysThatEscapeTheRoot) {
  std::string base = ScratchRoot::FreshDir();
  std::string root = base + "/root";
  FileStore store(root);
  ASSERT_TRUE(store.PutSync("inside", "x").ok());
  const std::string bad_keys[] = {
      "",
      "/abs",
      "/etc/passwd",
      "..",
      "../outside",
      "a/../../outside",
      "a/..",
      "a//b",
      "a/",
      ".",
      "./a",
      "a/./b",
      "a/b/.",
      std::string("nul\0byte", 8),
      std::string(FileStore::kTempPrefix) + "x",
      "d/" + std::string(FileStore::kTempPrefix) + "x",
      std::string(300, 'n'),
  };
  for (const std::string& key : bad_keys) {
    SCOPED_TRACE("key '" + key + "'");
    EXPECT_EQ(store.PutSync(key, "evil").status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(store.GetSync(key).status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(store.HeadSync(key).status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(store.DeleteSync(key).kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(base + "/outside"));
  // Harmless look-alikes are ordinary keys.
  for (const std::string key : {"a..b", "...", "..a", "a/..b/c", ".hidden"}) {
    EXPECT_TRUE(store.PutSync(key, "ok").ok()) << key;
  }

  // Prefixes that would walk out of the root list nothing.
  for (const char* prefix : {"../", "../root/", "/", "a//", "./"}) {
    auto listed = store.ListSync({.prefix = prefix});
    ASSERT_TRUE(listed.ok()) << prefix;
    EXPECT_TRUE(listed->objects.empty()) << prefix;
  }
}

TEST(FileStoreTest, NoTempFilesVisible) {
  std::string root = ScratchRoot::FreshDir();
  FileStore store(root);
  // A crashed writer's leftovers are invisible.
  fs::create_directories(root + "/d");
  std::ofstream(root + "/" + std::string(FileStore::kTempPrefix) + "crashed") << "junk";
  std::ofstream(root + "/d/" + std::string(FileStore::kTempPrefix) + "crashed") << "junk";

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::string big(256 * 1024, 'w');
    for (int i = 0; i < 200 && !stop; ++i) {
      if (!store.PutSync("d/obj" + std::to_string(i % 7), big).ok()) {
        ADD_FAILURE() << "put failed";
        break;
      }
    }
    stop = true;
  });
  int lists = 0;
  do {
    for (const char* delimiter : {"", "/"}) {
      auto listed = store.ListSync({.delimiter = delimiter});
      if (!listed.ok()) {
        ADD_FAILURE() << listed.status().ToString();
        continue;
      }
      for (const ObjectInfo& o : listed->objects) {
        EXPECT_EQ(o.key.find(FileStore::kTempPrefix), std::string::npos) << o.key;
      }
      for (const std::string& p : listed->common_prefixes) EXPECT_EQ(p, "d/");
    }
    ++lists;
  } while (!stop);
  writer.join();
  EXPECT_GT(lists, 0);

  auto listed = store.ListSync({});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->objects.size(), 7u);
  // Only the two planted leftovers remain on disk: writers clean up after themselves.
  EXPECT_EQ(TempFilesUnder(root).size(), 2u);
}

TEST(FileStoreTest, ConcurrentWritersLeaveOneWholeValue) {
  std::string root = ScratchRoot::FreshDir();
  FileStore store(root);
  constexpr int kWriters = 4;
  constexpr size_t kSize = 512 * 1024;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Different sizes too, so a torn write could not hide behind equal lengths.
      std::string value(kSize + static_cast<size_t>(w) * 1000, static_cast<char>('A' + w));
      for (int i = 0; i < 25; ++i) {
        auto put = store.PutSync("contended", value);
        if (!put.ok()) {
          ADD_FAILURE() << put.status().ToString();
          break;  // still counted as done below, so the reader loop ends
        }
      }
      ++writers_done;
    });
  }
  while (writers_done < kWriters) {
    // EXPECT only in this loop: returning early would leave the writer threads unjoined.
    auto got = store.GetSync("contended");
    if (!got.ok()) {
      EXPECT_EQ(got.status().kind(), ErrorKind::kNotFound);  // before the first rename
      continue;
    }
    std::string_view bytes = got->data.view();
    int w = bytes.empty() ? -1 : bytes[0] - 'A';
    if (w < 0 || w >= kWriters) {
      ADD_FAILURE() << "unexpected value of " << bytes.size() << " bytes";
      continue;
    }
    EXPECT_EQ(bytes.size(), kSize + static_cast<size_t>(w) * 1000);
    EXPECT_EQ(bytes.find_first_not_of(bytes[0]), std::string_view::npos) << "torn read";
  }
  for (auto& t : threads) t.join();

  auto final_value = store.GetSync("contended");
  ASSERT_TRUE(final_value.ok());
  std::string_view bytes = final_value->data.view();
  ASSERT_FALSE(bytes.empty());
  int w = bytes[0] - 'A';
  ASSERT_TRUE(w >= 0 && w < kWriters);
  EXPECT_EQ(bytes.size(), kSize + static_cast<size_t>(w) * 1000);
  EXPECT_EQ(bytes.find_first_not_of(bytes[0]), std::string_view::npos);
  EXPECT_TRUE(TempFilesUnder(root).empty());
}

TEST(FileStoreTest, CreateOnlyIsAtomicAcrossInstances) {
  std::string root = ScratchRoot::FreshDir();
  // Separate instances share no mutex: link() alone must make create-only exclusive.
  std::vector<std::unique_ptr<FileStore>> stores;
  for (int i = 0; i < 6; ++i) stores.push_back(std::make_unique<FileStore>(root));
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto put = stores[i]->PutSync("lock/owner", std::to_string(i), {.if_none_match_any = true});
      if (put.ok()) {
        ++winners;
      } else {
        EXPECT_EQ(put.status().kind(), ErrorKind::kPreconditionFailed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_TRUE(TempFilesUnder(root).empty());
}

TEST(FileStoreTest, IfMatchHasOneWinner) {
  FileStore store(ScratchRoot::FreshDir());
  auto base = store.PutSync("counter", "0");
  ASSERT_TRUE(base.ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (store.PutSync("counter", std::to_string(i + 1), {.if_match = base->etag}).ok()) {
        ++winners;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST(FileStoreTest, EtagSurvivesReopening) {
  std::string root = ScratchRoot::FreshDir();
  auto put = FileStore(root).PutSync("k", "v");
  ASSERT_TRUE(put.ok());
  auto head = FileStore(root).HeadSync("k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->etag, put->etag);
  // ... so a later process can still update conditionally.
  EXPECT_TRUE(FileStore(root).PutSync("k", "w", {.if_match = put->etag}).ok());
}

TEST(FileStoreTest, DeletePrunesEmptyDirectories) {
  std::string root = ScratchRoot::FreshDir();
  FileStore store(root);
  ASSERT_TRUE(store.PutSync("a/b/c/d", "1").ok());
  ASSERT_TRUE(store.PutSync("a/x", "2").ok());
  ASSERT_TRUE(store.DeleteSync("a/b/c/d").ok());
  EXPECT_FALSE(fs::exists(root + "/a/b"));
  EXPECT_TRUE(fs::exists(root + "/a/x"));
  ASSERT_TRUE(store.DeleteSync("a/x").ok());
  EXPECT_FALSE(fs::exists(root + "/a"));
  EXPECT_TRUE(fs::is_directory(root));  // the root itself stays

  // An emptied directory no longer shows up as a common prefix.
  auto listed = store.ListSync({.delimiter = "/"});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->common_prefixes.empty());
}

TEST(FileStoreTest, EmptyDirectoriesAreNotCommonPrefixes) {
  std::string root = ScratchRoot::FreshDir();
  FileStore store(root);
  ASSERT_TRUE(store.PutSync("real/k", "v").ok());
  fs::create_directories(root + "/hollow/deeper");
  std::ofstream(root + "/hollow/deeper/" + std::string(FileStore::kTempPrefix) + "x") << "t";
  auto listed = store.ListSync({.delimiter = "/"});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->common_prefixes, (std::vector<std::string>{"real/"}));
}

TEST(FileStoreTest, ObjectAndDirectoryConflict) {
  FileStore store(ScratchRoot::FreshDir());
  ASSERT_TRUE(store.PutSync("a", "file").ok());
  EXPECT_EQ(store.PutSync("a/b", "v").status().kind(), ErrorKind::kPermanent);
  EXPECT_EQ(store.GetSync("a/b").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store.HeadSync("a/b").status().kind(), ErrorKind::kNotFound);

  ASSERT_TRUE(store.PutSync("x/y", "v").ok());
  EXPECT_EQ(store.PutSync("x", "v").status().kind(), ErrorKind::kPermanent);
  EXPECT_EQ(store.PutSync("x", "v", {.if_none_match_any = true}).status().kind(),
            ErrorKind::kPermanent);
  EXPECT_EQ(store.GetSync("x").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store.HeadSync("x").status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store.DeleteSync("x").ok());
  EXPECT_TRUE(store.GetSync("x/y").ok());  // deleting "x" left the keys under it alone
}

TEST(FileStoreTest, RejectsBadOptions) {
  FileStore store(ScratchRoot::FreshDir());
  EXPECT_EQ(store.ListSync({.page_size = 0}).status().kind(), ErrorKind::kInvalidArgument);
  PutOptions both{.if_none_match_any = true, .if_match = "e"};
  EXPECT_EQ(store.PutSync("k", "v", both).status().kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace nimbus::store
