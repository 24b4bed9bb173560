// StoreConformance: one GoogleTest suite that every ObjectStore driver runs, so memory, file, S3
// and Azure agree on bytes, ranges, errors, listing and conditional writes.
//
// A driver's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
//                            testing::Values(ConformanceParam{
//                                .name = "memory",
//                                .make_store = [] { return std::make_shared<MemoryStore>("t"); }}),
//                            ConformanceParamName);
//
// A driver whose server is not configured either does not instantiate the suite (allowed) or
// sets `skip_reason`, which reports every test as skipped with that reason.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/object_store.h"

namespace nimbus::store {

struct ConformanceParam {
  // Test-name suffix: letters, digits and '_' only.
  std::string name;
  // Returns a store scoped to a fresh, empty, unique prefix or directory on every call, so tests
  // never see each other's keys. May return nullptr only together with a skip_reason.
  std::function<std::shared_ptr<ObjectStore>()> make_store;
  // Runs the large-object test (> 100 MiB, where S3 and Azure switch to multipart uploads).
  bool slow_ok = true;
  // Non-empty: skip every test with this message (e.g. "NIMBUS_TEST_S3_ENDPOINT not set").
  std::string skip_reason;
};

// Names instantiations after ConformanceParam::name.
std::string ConformanceParamName(const testing::TestParamInfo<ConformanceParam>& info);

// Lets GoogleTest print a parameter in failure messages.
void PrintTo(const ConformanceParam& param, std::ostream* os);

class StoreConformance : public testing::TestWithParam<ConformanceParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ObjectStore& store() { return *store_; }

  std::shared_ptr<ObjectStore> store_;
};

}  // namespace nimbus::store
