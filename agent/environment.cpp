// Environment class from cheap, unprivileged signals, in systemd detect_virt() order: DMI
// first, then CPUID, then hypervisor files; container markers recorded beside (not instead of)
// a VM, because a micro-VM image may carry /.dockerenv (reference/fingerprint.md §2).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "agent/identity_internal.h"

namespace licagent {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  if (needle.empty() || haystack.size() < needle.size()) return false;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

struct Marker {
  std::string_view needle;
  std::string_view label;
};

// DMI vendor strings of hypervisors (systemd src/basic/virt.c, dmi_vendor_table).
constexpr std::array<Marker, 14> kVmVendors = {{
    {"KVM", "KVM"},
    {"OpenStack", "OpenStack"},
    {"KubeVirt", "KubeVirt"},
    {"Amazon EC2", "Amazon EC2"},
    {"QEMU", "QEMU"},
    {"VMware", "VMware"},
    {"VMW", "VMware"},
    {"innotek GmbH", "VirtualBox"},
    {"VirtualBox", "VirtualBox"},
    {"Xen", "Xen"},
    {"Bochs", "Bochs"},
    {"Parallels", "Parallels"},
    {"BHYVE", "bhyve"},
    {"Apple Virtualization", "Apple Virtualization"},
}};

// Clouds recognised from public DMI strings. Huawei Cloud ECS sets the chassis asset tag
// (cloud-init's OpenStack datasource relies on the same value).
struct Cloud {
  std::string_view chassis_asset_tag;
  std::string_view vendor_or_product;
  std::string_view provider;
};
constexpr std::array<Cloud, 8> kClouds = {{
    {"HUAWEICLOUD", "", "huawei-cloud-ecs"},
    {"OpenTelekomCloud", "", "open-telekom-cloud"},
    {"7783-7084-3265-9085-8269-3286-77", "", "azure"},
    {"", "Amazon EC2", "aws-ec2"},
    {"", "Google Compute Engine", "gcp"},
    {"", "Alibaba Cloud", "alibaba-cloud"},
    {"", "Tencent Cloud", "tencent-cloud"},
    {"", "OpenStack Nova", "openstack"},
}};

std::string Describe(std::string_view what, std::string_view value) {
  return std::string(what) + ": " + std::string(value);
}

}  // namespace

EnvironmentVerdict ClassifyEnvironment(const platform::EnvironmentSignals& s) {
  EnvironmentVerdict v;
  bool vm = false;
  bool bare_metal_cloud = false;

  if (!s.dmi_available) v.signals.push_back("dmi: not available");
  const std::array<std::string_view, 4> vendor_fields = {s.sys_vendor, s.product_name,
                                                         s.board_vendor, s.bios_vendor};
  for (std::string_view field : vendor_fields) {
    for (const Marker& m : kVmVendors) {
      if (!vm && Contains(field, m.needle)) {
        vm = true;
        v.signals.push_back(Describe("dmi vendor", m.label));
      }
    }
  }
  // Hyper-V: Microsoft's DMI vendor with the product "Virtual Machine".
  if (!vm && Contains(s.sys_vendor, "Microsoft") && Contains(s.product_name, "Virtual Machine")) {
    vm = true;
    v.signals.push_back("dmi vendor: Hyper-V");
  }

  for (const Cloud& c : kClouds) {
    const bool hit =
        (!c.chassis_asset_tag.empty() && s.chassis_asset_tag == c.chassis_asset_tag) ||
        (!c.vendor_or_product.empty() && (Contains(s.sys_vendor, c.vendor_or_product) ||
                                          Contains(s.product_name, c.vendor_or_product)));
    if (hit) {
      v.cloud_provider = std::string(c.provider);
      v.signals.push_back(Describe("cloud", c.provider));
      break;
    }
  }
  // AWS Nitro puts the instance id in the public board asset tag.
  if (v.cloud_provider.empty() && platform::IsAwsInstanceId(s.board_asset_tag)) {
    v.cloud_provider = "aws-ec2";
    v.signals.push_back("cloud: aws-ec2 (instance id in board asset tag)");
  }
  // EC2 bare-metal instances share the VM's DMI strings; only ".metal" tells them apart.
  if (v.cloud_provider == "aws-ec2" && Contains(s.product_name, ".metal")) {
    bare_metal_cloud = true;
    v.signals.push_back("dmi product: EC2 bare-metal instance");
  }

  if (s.cpuid_hypervisor_bit) {
    v.signals.push_back(
        s.cpuid_hypervisor_vendor.empty()
            ? std::string("cpuid: hypervisor bit set")
            : Describe("cpuid: hypervisor bit set, vendor", s.cpuid_hypervisor_vendor));
    vm = true;
  }
  if (!s.hypervisor_type.empty()) {
    v.signals.push_back(Describe("hypervisor type", s.hypervisor_type));
    vm = true;
  }
  if (bare_metal_cloud && !s.cpuid_hypervisor_bit) vm = false;

  const bool container = !s.container_marker.empty();
  if (container) v.signals.push_back(Describe("container marker", s.container_marker));

  const bool cloud_vm = !v.cloud_provider.empty() && !bare_metal_cloud;
  if (container && (vm || cloud_vm)) {
    v.environment = Environment::kVmContainer;
  } else if (container) {
    v.environment = Environment::kContainer;
  } else if (cloud_vm) {
    v.environment = Environment::kCloudVm;
  } else if (vm) {
    v.environment = Environment::kVm;
  } else {
    v.environment = Environment::kBareMetal;
  }
  return v;
}

}  // namespace licagent
