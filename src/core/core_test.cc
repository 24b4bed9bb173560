// core: config parsing, Buffer, Future/Promise ordering, ThreadPool.
#include <gtest/gtest.h>

#include <cstring>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/buffer.h"
#include "core/config.h"
#include "core/future.h"
#include "core/thread_pool.h"

namespace nimbus {
namespace {

TEST(Config, ParsesKeyValueStrings) {
  auto m = ParseConfigString(" store = s3://b/p ; region=garage;;tls=false ");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["store"], "s3://b/p");
  EXPECT_EQ((*m)["region"], "garage");
  EXPECT_EQ((*m)["tls"], "false");
  auto sas = ParseConfigString("sas_token=sv=2021&sig=ab%3D=");
  ASSERT_TRUE(sas.ok());
  EXPECT_EQ((*sas)["sas_token"], "sv=2021&sig=ab%3D=") << "only the first '=' splits";
  EXPECT_FALSE(ParseConfigString("novalue").ok());
  EXPECT_FALSE(ParseConfigString("=x").ok());
}

TEST(Config, SetArgumentsKeepCommasInValues) {
  ConfigMap m;
  ASSERT_TRUE(ParseSetArguments({"a=1,b=2", "c=x,y,z", "d="}, &m).ok());
  EXPECT_EQ(m["a"], "1");
  EXPECT_EQ(m["b"], "2");
  EXPECT_EQ(m["c"], "x,y,z");
  EXPECT_EQ(m["d"], "");
  Status bad = ParseSetArguments({"oops"}, &m);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'oops'"), std::string::npos) << bad.message();
  EXPECT_FALSE(ParseSetArguments({"=1"}, &m).ok());
}

TEST(Config, TypedValuesNameTheKey) {
  EXPECT_TRUE(*ParseBool("tls", "Yes"));
  EXPECT_FALSE(*ParseBool("tls", "off"));
  auto b = ParseBool("tls", "maybe");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("tls"), std::string::npos);
  EXPECT_EQ(*ParseInt("n", " 42 "), 42);
  EXPECT_FALSE(ParseInt("n", "4x").ok());
  EXPECT_FALSE(ParseInt("n", "").ok());
}

TEST(Config, MapEnvTreatsEmptyAsUnset) {
  EnvFn env = MapEnv({{"A", "1"}, {"B", ""}});
  EXPECT_EQ(env("A"), "1");
  EXPECT_FALSE(env("B").has_value());
  EXPECT_FALSE(env("C").has_value());
}

TEST(BufferTest, AlignedGrowsAndMoves) {
  Buffer b = Buffer::Allocate(3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % Buffer::kAlignment, 0u);
  std::memcpy(b.data(), "abc", 3);
  for (int i = 0; i < 1000; ++i) b.Append("x", 1);
  EXPECT_EQ(b.size(), 1003u);
  EXPECT_EQ(b.view().substr(0, 4), "abcx");
  Buffer moved = std::move(b);
  EXPECT_EQ(moved.size(), 1003u);
  EXPECT_EQ(b.size(), 0u);  // NOLINT: moved-from is empty by contract
}

TEST(FutureTest, WaiterSeesValueOnlyAfterContinuationFinished) {
  // The continuation reads the value; a waiter that moved it out meanwhile would race.
  for (int i = 0; i < 200; ++i) {
    Promise<std::string> p;
    Future<std::string> f = p.future();
    std::atomic<bool> continuation_done{false};
    f.Then([&](std::string& v) {
      std::this_thread::yield();
      EXPECT_EQ(v, "value");
      continuation_done = true;
    });
    std::thread setter([&] { p.Set("value"); });
    std::string got = f.Get();
    EXPECT_TRUE(continuation_done.load());
    EXPECT_EQ(got, "value");
    setter.join();
  }
}

TEST(FutureTest, ThenOnReadyFutureRunsNow) {
  auto f = ReadyFuture(7);
  int seen = 0;
  f.Then([&](int& v) { seen = v; });
  EXPECT_EQ(seen, 7);
  EXPECT_TRUE(f.ready());
}

TEST(ThreadPoolTest, RunsEveryTaskAndDrainsOnDestruction) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Submit([&] { n++; });
  }
  EXPECT_EQ(n.load(), 1000);
}

TEST(ThreadPoolTest, WorksInAForkedChild) {
  ThreadPool pool(2);
  Promise<int> warm;
  pool.Submit([warm] { warm.Set(1); });
  ASSERT_EQ(warm.future().Get(), 1);  // workers now run in the parent
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Promise<int> p;
    pool.Submit([p] { p.Set(2); });
    _exit(p.future().Get() == 2 ? 0 : 1);
  }
  int status = -1;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(child, &status, WNOHANG) == child) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!WIFEXITED(status)) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL() << "the forked child's task never ran";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace nimbus
