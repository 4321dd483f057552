// Environment classes from DMI, CPUID and marker signals (docs/identity.md "Environment").
#include "agent/identity_internal.h"
#include "tests/catch.h"
#include "tests/unit/machines.h"

namespace licagent {
namespace {

bool Mentions(const EnvironmentVerdict& v, std::string_view text) {
  for (const std::string& s : v.signals) {
    if (s.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("A server with vendor DMI and no hypervisor is bare metal", "[environment]") {
  const auto v = ClassifyEnvironment(testing::BareMetalServer().environment);
  CHECK(v.environment == Environment::kBareMetal);
  CHECK(v.cloud_provider.empty());
}

TEST_CASE("The CI micro-VM is a VM with a container marker", "[environment]") {
  const auto v = ClassifyEnvironment(testing::FirecrackerVm().environment);
  CHECK(v.environment == Environment::kVmContainer);
  CHECK(Mentions(v, "KVMKVMKVM"));
  CHECK(Mentions(v, "/.dockerenv"));
  CHECK(Mentions(v, "dmi: not available"));
}

TEST_CASE("Huawei Cloud ECS is recognised from its chassis asset tag", "[environment]") {
  platform::EnvironmentSignals s;
  s.dmi_available = true;
  s.sys_vendor = "OpenStack Foundation";
  s.product_name = "OpenStack Nova";
  s.chassis_asset_tag = "HUAWEICLOUD";
  s.cpuid_hypervisor_bit = true;
  s.cpuid_hypervisor_vendor = "KVMKVMKVM";
  const auto v = ClassifyEnvironment(s);
  CHECK(v.environment == Environment::kCloudVm);
  CHECK(v.cloud_provider == "huawei-cloud-ecs");
  CHECK(Mentions(v, "huawei-cloud-ecs"));
}

TEST_CASE("Clouds and hypervisors from DMI strings", "[environment]") {
  struct Case {
    platform::EnvironmentSignals signals;
    Environment expected;
    std::string provider;
  };
  auto dmi = [](std::string vendor, std::string product) {
    platform::EnvironmentSignals s;
    s.dmi_available = true;
    s.sys_vendor = std::move(vendor);
    s.product_name = std::move(product);
    return s;
  };
  platform::EnvironmentSignals aws = dmi("Amazon EC2", "m5.large");
  platform::EnvironmentSignals aws_metal = dmi("Amazon EC2", "m5.metal");
  platform::EnvironmentSignals nitro = dmi("", "");
  nitro.board_asset_tag = "i-0123456789abcdef0";
  platform::EnvironmentSignals azure = dmi("Microsoft Corporation", "Virtual Machine");
  azure.chassis_asset_tag = "7783-7084-3265-9085-8269-3286-77";
  platform::EnvironmentSignals docker_on_metal = dmi("Dell Inc.", "PowerEdge R650");
  docker_on_metal.container_marker = "/.dockerenv";
  platform::EnvironmentSignals xen = dmi("", "");
  xen.hypervisor_type = "xen";

  const std::vector<Case> cases = {
      {dmi("QEMU", "Standard PC (Q35 + ICH9, 2009)"), Environment::kVm, ""},
      {dmi("VMware, Inc.", "VMware Virtual Platform"), Environment::kVm, ""},
      {dmi("innotek GmbH", "VirtualBox"), Environment::kVm, ""},
      {dmi("Microsoft Corporation", "Virtual Machine"), Environment::kVm, ""},
      {dmi("Google", "Google Compute Engine"), Environment::kCloudVm, "gcp"},
      {aws, Environment::kCloudVm, "aws-ec2"},
      {aws_metal, Environment::kBareMetal, "aws-ec2"},
      {nitro, Environment::kCloudVm, "aws-ec2"},
      {azure, Environment::kCloudVm, "azure"},
      {docker_on_metal, Environment::kContainer, ""},
      {xen, Environment::kVm, ""},
      {dmi("LENOVO", "20XW0055GE"), Environment::kBareMetal, ""},
  };
  for (const Case& c : cases) {
    INFO(c.signals.sys_vendor << " / " << c.signals.product_name);
    const auto v = ClassifyEnvironment(c.signals);
    CHECK(v.environment == c.expected);
    CHECK(v.cloud_provider == c.provider);
  }
}

}  // namespace
}  // namespace licagent
