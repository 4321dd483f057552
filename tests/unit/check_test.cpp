// The check pipeline: one test per verdict, install rules and the clock mark, all on the
// FakePlatform (scripted machine, in-memory cache, settable clock).
#include "agent/check_internal.h"
#include "agent/identity_internal.h"
#include "platform/fake/fake_platform.h"
#include "tests/catch.h"
#include "tests/unit/machines.h"
#include "tests/unit/test_signer.h"

namespace licagent {
namespace {

using testing::TestSigner;
using testing::Values;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15

struct Fixture {
  Fixture() : signer("vendor-1") {
    fake.identity = testing::BareMetalServer();
    fake.topology = Topology{2, 16, 32, "GenuineIntel", "Xeon", "fake"};
    fake.now = kNow;
    config.product_id = "acme-cad";
    config.trusted_keys = {signer.Public()};
    config.store_dir = "/fake/store";
  }

  // A valid, machine-bound license for the scripted server.
  LicensePayload Payload() {
    LicensePayload p;
    p.license_id = "L-1";
    p.product_id = "acme-cad";
    p.key_id = "vendor-1";
    p.customer = "ACME";
    Binding b;
    b.identifier = CollectFingerprint(fake, BuiltinIdentityKey()).value().identifier;
    p.binding = b;
    p.issued_at = kNow - 10 * kDay;
    p.not_before = p.issued_at;
    p.expires_at = kNow + 30 * kDay;
    p.refresh_by = kNow + 5 * kDay;
    p.server_time = kNow - 10 * kDay;
    p.entitlements.features = {{"export", ""}};
    p.entitlements.max_cores = 16;
    return p;
  }

  CheckResult InstallAndCheck(const LicensePayload& p, CheckRequest request = {}) {
    const std::string text = signer.Sign(p);
    fake.files[std::filesystem::path(config.store_dir) / "license.lic"] = text;
    return CheckWith(fake, config, request);
  }

  platform::FakePlatform fake;
  TestSigner signer;
  CheckConfig config;
};

TEST_CASE("A valid machine-bound license passes with details for the UI", "[check]") {
  Fixture f;
  const CheckResult r = f.InstallAndCheck(f.Payload(), {{"export"}});
  CHECK(r.verdict == Verdict::kValid);
  CHECK(r.reason.find("valid for 30 days") != std::string::npos);
  REQUIRE(r.seconds_left);
  CHECK(*r.seconds_left == 30 * kDay);
  REQUIRE(r.grace_seconds_left);
  CHECK(*r.grace_seconds_left == 5 * kDay);
  REQUIRE(r.match);
  CHECK(r.match->score == 13);
  REQUIRE(r.topology);
  CHECK(r.topology->cores == 16);
  CHECK(r.refresh_due);  // last refreshed 10 days ago
  REQUIRE(r.license);
  CHECK(r.license->license_id == "L-1");
}

TEST_CASE("No license installed", "[check]") {
  Fixture f;
  const CheckResult r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kNoLicense);
  CHECK(r.reason.find("/fake/store") != std::string::npos);
}

TEST_CASE("Tampered, unsigned and foreign-key licenses are invalid", "[check]") {
  Fixture f;
  std::string text = f.signer.Sign(f.Payload());
  text[text.find("\n\n") + 10] ^= 1;
  f.fake.files["/fake/store/license.lic"] = text;
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kInvalid);

  TestSigner other("vendor-1", 99);
  f.fake.files["/fake/store/license.lic"] = other.Sign(f.Payload());
  const CheckResult r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kInvalid);
  CHECK(r.reason.find("does not verify") != std::string::npos);

  f.fake.files["/fake/store/license.lic"] = "garbage";
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kInvalid);
}

TEST_CASE("A license for another product is invalid", "[check]") {
  Fixture f;
  LicensePayload p = f.Payload();
  p.product_id = "other-product";
  const CheckResult r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kInvalid);
  CHECK(r.reason.find("'other-product'") != std::string::npos);
}

TEST_CASE("Frozen and released licenses", "[check]") {
  Fixture f;
  LicensePayload p = f.Payload();
  p.status = LicenseStatus::kFrozen;
  CHECK(f.InstallAndCheck(p).verdict == Verdict::kFrozen);
  p.status = LicenseStatus::kReleased;
  CHECK(f.InstallAndCheck(p).verdict == Verdict::kReleased);
}

TEST_CASE("Validity window: not yet valid, expired, perpetual", "[check]") {
  Fixture f;
  LicensePayload p = f.Payload();
  p.not_before = kNow + 60;
  CHECK(f.InstallAndCheck(p).verdict == Verdict::kNotYetValid);

  p = f.Payload();
  p.expires_at = kNow;  // expiry is exclusive
  const CheckResult expired = f.InstallAndCheck(p);
  CHECK(expired.verdict == Verdict::kExpired);
  CHECK(expired.reason.find(FormatTime(kNow)) != std::string::npos);

  p = f.Payload();
  p.expires_at.reset();
  p.refresh_by.reset();
  const CheckResult perpetual = f.InstallAndCheck(p);
  CHECK(perpetual.verdict == Verdict::kValid);
  CHECK_FALSE(perpetual.seconds_left);
  CHECK(perpetual.reason == "valid, perpetual");
  CHECK_FALSE(perpetual.refresh_due);
}

TEST_CASE("Refresh-by passed: the offline grace is over", "[check]") {
  Fixture f;
  LicensePayload p = f.Payload();
  p.refresh_by = kNow - 1;
  const CheckResult r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kRefreshOverdue);
  CHECK(*r.grace_seconds_left == -1);
}

TEST_CASE("Another machine is refused; a partial change within tolerance is accepted", "[check]") {
  Fixture f;
  const LicensePayload p = f.Payload();
  // Within tolerance: OS reinstalled on the same disk (10/13).
  f.fake.identity.slot(Slot::kOsInstallId) = Values({"ffff1c2a9b3d4e6f8a7b6c5d4e3f2a1b"});
  f.fake.identity.slot(Slot::kBootVolume) = Values({"99999999-4a5b-4c6d-8e7f-9a0b1c2d3e4f"});
  CheckResult r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kValid);
  CHECK(r.match->score == 10);
  CHECK(r.match->slots[4] == SlotVerdict::kChanged);
  // Another machine entirely.
  f.fake.identity.slot(Slot::kPlatformUuid) = Values({"11111111-2222-3333-4444-555555555555"});
  f.fake.identity.slot(Slot::kPlatformSerial) = Values({"OTHER1"});
  f.fake.identity.slot(Slot::kNic) = Values({"00:1b:21:00:00:01"});
  f.fake.identity.slot(Slot::kDisk) = Values({"OTHERDISK"});
  r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kWrongMachine);
  CHECK(r.reason.find("another machine") != std::string::npos);
  // Floating licenses do not care.
  LicensePayload floating = p;
  floating.binding.reset();
  CHECK(f.InstallAndCheck(floating).verdict == Verdict::kValid);
}

TEST_CASE("A clock set back beyond the tolerance is detected", "[check]") {
  Fixture f;
  LicensePayload p = f.Payload();
  // The license itself says the server signed it 3 days from "now": the clock is behind.
  p.server_time = kNow + 3 * kDay;
  p.issued_at = kNow - kDay;
  p.not_before = p.issued_at;
  CheckResult r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kClockTampered);
  // A day behind is within the 48-hour tolerance.
  p.server_time = kNow + kDay;
  CHECK(f.InstallAndCheck(p).verdict == Verdict::kValid);

  // A previous check saw a later time; then the clock went back a week.
  Fixture g;
  REQUIRE(g.InstallAndCheck(g.Payload()).verdict == Verdict::kValid);
  CHECK(g.fake.files.at("/fake/store/clock.mark") == std::to_string(kNow) + "\n");
  g.fake.now = kNow - 7 * kDay;
  r = CheckWith(g.fake, g.config, {});
  CHECK(r.verdict == Verdict::kClockTampered);
  CHECK(r.reason.find("set back") != std::string::npos);
  // A damaged mark is not silently reset.
  g.fake.files["/fake/store/clock.mark"] = "yesterday\n";
  CHECK(CheckWith(g.fake, g.config, {}).verdict == Verdict::kClockTampered);
}

TEST_CASE("The clock mark is rewritten at most hourly by checks", "[check]") {
  Fixture f;
  REQUIRE(f.InstallAndCheck(f.Payload()).verdict == Verdict::kValid);
  f.fake.now = kNow + 600;
  REQUIRE(CheckWith(f.fake, f.config, {}).verdict == Verdict::kValid);
  CHECK(f.fake.files.at("/fake/store/clock.mark") == std::to_string(kNow) + "\n");
  f.fake.now = kNow + 3601;
  REQUIRE(CheckWith(f.fake, f.config, {}).verdict == Verdict::kValid);
  CHECK(f.fake.files.at("/fake/store/clock.mark") == std::to_string(kNow + 3601) + "\n");
  // A read-only cache does not fail a valid license.
  f.fake.now = kNow + 9000;
  f.fake.fail_writes_with = Error{ErrorCode::kPermissionDenied, "read-only"};
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kValid);
}

TEST_CASE("Entitlements: features, cores and sockets", "[check]") {
  Fixture f;
  CheckResult r = f.InstallAndCheck(f.Payload(), {{"render"}});
  CHECK(r.verdict == Verdict::kEntitlementMissing);
  CHECK(r.reason.find("'render'") != std::string::npos);
  LicensePayload p = f.Payload();
  p.entitlements.max_cores = 8;
  r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kEntitlementMissing);
  CHECK(r.reason.find("16 CPU cores") != std::string::npos);
  p = f.Payload();
  p.entitlements.max_cores.reset();
  p.entitlements.max_sockets = 1;
  r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kEntitlementMissing);
  CHECK(r.reason.find("2 CPU sockets") != std::string::npos);
  // No core or socket limit: the topology is not loaded at all.
  p = f.Payload();
  p.entitlements.max_cores.reset();
  r = f.InstallAndCheck(p);
  CHECK(r.verdict == Verdict::kValid);
  CHECK_FALSE(r.topology);
}

TEST_CASE("System errors are not judgements on the license", "[check]") {
  Fixture f;
  f.fake.fail_reads_with = Error{ErrorCode::kIoError, "disk on fire"};
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kSystemError);
}

TEST_CASE("Install verifies, refuses what cannot pass, and keeps newer answers", "[check]") {
  Fixture f;
  const LicensePayload p = f.Payload();
  CheckResult r = InstallWith(f.fake, f.config, f.signer.Sign(p));
  REQUIRE(r.verdict == Verdict::kValid);
  CHECK(f.fake.files.count("/fake/store/license.lic") == 1);
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kValid);

  // Refused, and the installed license stays: tampered, expired, another machine.
  const std::string installed = f.fake.files.at("/fake/store/license.lic");
  CHECK(InstallWith(f.fake, f.config, "junk").verdict == Verdict::kInvalid);
  LicensePayload expired = p;
  expired.license_id = "L-2";
  expired.expires_at = kNow - 1;
  CHECK(InstallWith(f.fake, f.config, f.signer.Sign(expired)).verdict == Verdict::kExpired);
  LicensePayload elsewhere = p;
  elsewhere.binding->identifier.tags = {1, 2, 3, 4, 5, 6, 7};
  CHECK(InstallWith(f.fake, f.config, f.signer.Sign(elsewhere)).verdict == Verdict::kWrongMachine);
  CHECK(f.fake.files.at("/fake/store/license.lic") == installed);

  // A newer signed "frozen" answer installs; the older active copy cannot undo it.
  LicensePayload frozen = p;
  frozen.status = LicenseStatus::kFrozen;
  frozen.server_time = kNow - kDay;
  CHECK(InstallWith(f.fake, f.config, f.signer.Sign(frozen)).verdict == Verdict::kFrozen);
  r = InstallWith(f.fake, f.config, f.signer.Sign(p));
  CHECK(r.verdict == Verdict::kInvalid);
  CHECK(r.reason.find("newer") != std::string::npos);
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kFrozen);

  // Uninstall removes it; the clock mark stays.
  REQUIRE(UninstallWith(f.fake, f.config));
  CHECK(CheckWith(f.fake, f.config, {}).verdict == Verdict::kNoLicense);
  CHECK(f.fake.files.count("/fake/store/clock.mark") == 1);
}

TEST_CASE("A user without a license of their own gets the machine-wide one", "[check]") {
  Fixture f;
  f.config.store_dir.clear();  // the platform's default directories
  const std::filesystem::path user = f.fake.user_state_dir / "license.lic";
  const std::filesystem::path machine = f.fake.system_state_dir / "license.lic";

  CheckResult r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kNoLicense);
  CHECK(r.reason.find(f.fake.user_state_dir.string()) != std::string::npos);
  CHECK(r.reason.find("nor in the machine-wide cache") != std::string::npos);
  CHECK_FALSE(r.system_scope);

  // Installed by root at install time: a user's check judges it.
  const LicensePayload p = f.Payload();
  f.fake.files[machine] = f.signer.Sign(p);
  r = CheckWith(f.fake, f.config, {{"export"}});
  CHECK(r.verdict == Verdict::kValid);
  CHECK(r.system_scope);
  // Its verdict is final, whatever it is: a frozen machine-wide license is frozen for users.
  LicensePayload frozen = p;
  frozen.status = LicenseStatus::kFrozen;
  f.fake.files[machine] = f.signer.Sign(frozen);
  r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kFrozen);
  CHECK(r.system_scope);

  // The user's own license comes first.
  LicensePayload own = p;
  own.license_id = "L-user";
  f.fake.files[user] = f.signer.Sign(own);
  r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kValid);
  CHECK_FALSE(r.system_scope);
  REQUIRE(r.license);
  CHECK(r.license->license_id == "L-user");

  // No fallback the other way, nor from an explicit directory.
  f.fake.files.erase(machine);
  f.config.system_scope = true;
  r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kNoLicense);
  CHECK(r.system_scope);
  f.fake.files[machine] = f.signer.Sign(p);
  f.fake.files.erase(user);
  f.config.system_scope = false;
  f.config.store_dir = "/fake/store";
  r = CheckWith(f.fake, f.config, {});
  CHECK(r.verdict == Verdict::kNoLicense);
  CHECK_FALSE(r.system_scope);
}

TEST_CASE("A failed write during install leaves the old license", "[check]") {
  Fixture f;
  REQUIRE(InstallWith(f.fake, f.config, f.signer.Sign(f.Payload())).verdict == Verdict::kValid);
  const std::string installed = f.fake.files.at("/fake/store/license.lic");
  LicensePayload next = f.Payload();
  next.license_id = "L-9";
  f.fake.fail_writes_with = Error{ErrorCode::kIoError, "disk full"};
  const CheckResult r = InstallWith(f.fake, f.config, f.signer.Sign(next));
  CHECK(r.verdict == Verdict::kSystemError);
  CHECK(r.reason.find("disk full") != std::string::npos);
  CHECK(f.fake.files.at("/fake/store/license.lic") == installed);
}

TEST_CASE("Verdict names are stable", "[check]") {
  CHECK(std::string(ToString(Verdict::kValid)) == "valid");
  CHECK(std::string(ToString(Verdict::kWrongMachine)) == "wrong-machine");
  CHECK(std::string(ToString(Verdict::kClockTampered)) == "clock-tampered");
  CHECK(std::string(ToString(Verdict::kEntitlementMissing)) == "entitlement-missing");
}

}  // namespace
}  // namespace licagent

namespace licagent {
namespace {

TEST_CASE("The identity cache reuses one reading of the machine within its lifetime", "[check]") {
  platform::FakePlatform fake;
  fake.identity = testing::BareMetalServer();
  fake.topology = Topology{1, 4, 8, "GenuineIntel", "Xeon", "fake"};
  IdentityCache cache;
  const Fingerprint first = cache.Get(fake).value();
  REQUIRE(cache.GetTopology(fake).value().cores == 4);
  fake.identity = testing::FirecrackerVm();  // the machine "changes" within five minutes
  fake.topology.cores = 64;
  CHECK(cache.Get(fake).value().identifier == first.identifier);
  CHECK(cache.GetTopology(fake).value().cores == 4);
  CHECK(cache.GetTopology(fake).value().cores == 4);
  // Without a cache every call reads the machine again.
  CHECK_FALSE(CollectFingerprint(fake, BuiltinIdentityKey()).value().identifier ==
              first.identifier);
  // A failed first reading is not cached.
  IdentityCache failing;
  fake.fail_with = Error{ErrorCode::kIoError, "sysfs gone"};
  CHECK_FALSE(failing.Get(fake));
  fake.fail_with.reset();
  CHECK(failing.Get(fake));
}

}  // namespace
}  // namespace licagent
