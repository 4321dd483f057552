// hwloc topology: real values, and HWLOC_* overrides cannot feed it a fake machine.
#include <stdlib.h>

#include <fstream>

#include "licagent/identity.h"
#include "platform/common/topology_hwloc.h"
#include "tests/catch.h"

namespace licagent {
namespace {

TEST_CASE("hwloc describes this machine", "[topology]") {
  auto t = LoadTopology();
  REQUIRE(t);
  CHECK(t->packages >= 1);
  CHECK(t->cores >= t->packages);
  CHECK(t->pus >= t->cores);
  CHECK(t->backend.rfind("hwloc", 0) == 0);
}

TEST_CASE("HWLOC_* environment overrides cannot change the topology", "[topology]") {
  auto real = LoadTopology();
  REQUIRE(real);
  const std::string xml = "/tmp/licagent-fake-topology.xml";
  std::ofstream(xml)
      << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
         "<topology version=\"2.0\"><object type=\"Machine\" os_index=\"0\" "
         "cpuset=\"0x0000000f\" complete_cpuset=\"0x0000000f\" "
         "allowed_cpuset=\"0x0000000f\" nodeset=\"0x00000001\" "
         "complete_nodeset=\"0x00000001\" allowed_nodeset=\"0x00000001\">"
         "<info name=\"DMIProductUUID\" value=\"deadbeef-0000-1111-2222-333344445555\"/>"
         "</object></topology>\n";
  for (const char* spec : {"HWLOC_XMLFILE", "HWLOC_SYNTHETIC", "HWLOC_FSROOT", "HWLOC_COMPONENTS",
                           "HWLOC_THISSYSTEM"}) {
    INFO(spec);
    ::setenv("HWLOC_XMLFILE", xml.c_str(), 1);
    ::setenv("HWLOC_SYNTHETIC", "pack:64 core:4 pu:2", 1);
    ::setenv("HWLOC_FSROOT", "/nonexistent", 1);
    ::setenv("HWLOC_COMPONENTS", "synthetic", 1);
    ::setenv("HWLOC_THISSYSTEM", "1", 1);
    auto t = LoadTopology();
    REQUIRE(t);
    CHECK(t->packages == real->packages);
    CHECK(t->cores == real->cores);
    CHECK(t->pus == real->pus);
    CHECK(t->cpu_model == real->cpu_model);
    CHECK(::getenv(spec) == nullptr);  // scrubbed from the process environment
  }
  std::remove(xml.c_str());
}

TEST_CASE("without hwloc the topology is a clear kUnsupported error", "[topology]") {
  // hwloc is loaded at run time (never linked): a machine without it still checks licenses
  // that do not limit cores, and gets this error only for those that do.
  auto t = platform::LoadHwlocTopology("libhwloc-absent-for-licagent-tests.so.15");
  REQUIRE_FALSE(t);
  CHECK(t.error().code == ErrorCode::kUnsupported);
  CHECK(t.error().message.find("hwloc") != std::string::npos);
  CHECK(t.error().message.find("libhwloc-absent-for-licagent-tests.so.15") != std::string::npos);
  // A library that is not hwloc: the first symbol is missing.
  auto other = platform::LoadHwlocTopology("libc.so.6");
  REQUIRE_FALSE(other);
  CHECK(other.error().code == ErrorCode::kUnsupported);
  CHECK(other.error().message.find("hwloc_get_api_version") != std::string::npos);
  // The real library still loads afterwards.
  CHECK(LoadTopology());
}

}  // namespace
}  // namespace licagent
