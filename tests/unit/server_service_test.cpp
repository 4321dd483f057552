// The activation service's endpoint logic (no HTTP): seats, matching, states, errors and the
// signed licenses it answers with, verified by the agent's own verifier.
#include <nlohmann/json.hpp>
#include <string>

#include "tests/unit/server_service_fixture.h"

using namespace licagent;
using namespace licagent::server;

using namespace licagent::server::testing;

TEST_CASE("Service: activation issues a signed license for the machine", "[server][service]") {
  Fixture f;
  const std::string key = f.AddCredential(2);
  const auto machine = MachineWith(0x1000);
  const Reply r = f.service->Activate(ActivateBody(key, machine));
  const LicensePayload p = PayloadOf(f, r);
  CHECK(p.license_id.rfind("lic-", 0) == 0);
  CHECK(p.license_id.size() == 20);
  CHECK(p.product_id == "prod");
  CHECK(p.key_id == "test-key");
  CHECK(p.customer == "ACME");
  REQUIRE(p.binding);
  CHECK(p.binding->identifier == machine.identifier);
  CHECK(p.binding->policy == MatchPolicy{});
  CHECK(p.issued_at == kNow);
  CHECK(p.not_before == kNow - kDay);  // created now; a day of slack for slow customer clocks
  CHECK(p.expires_at == kNow + 365 * kDay);
  CHECK(p.refresh_by == kNow + 14 * kDay);
  CHECK(p.status == LicenseStatus::kActive);
  CHECK(p.entitlements.features == std::map<std::string, std::string>{{"export", ""}});
  CHECK(p.entitlements.max_cores == 8);
  CHECK(p.entitlements.seats == 2);
  CHECK(p.server_time == kNow);
  CHECK(p.nonce == kNonce);
  auto answer = protocol::ParseLicenseAnswer(r.body);
  CHECK(answer->seats == 2);
  CHECK(answer->seats_used == 1);
  CHECK(r.credential_id == f.last_credential);
  CHECK(r.license_id == p.license_id);
  CHECK(r.body.find(key) == std::string::npos);
}

TEST_CASE("Service: the same machine gets its seat back, others fill the rest",
          "[server][service]") {
  Fixture f;
  const std::string key = f.AddCredential(2);
  const auto a = MachineWith(0x1000);
  const std::string first = PayloadOf(f, f.service->Activate(ActivateBody(key, a))).license_id;

  // Same machine with a replaced NIC: matched by the rule, not by string equality.
  auto a_new_nic = a;
  a_new_nic.identifier.tags[2] = 0x7777;
  a_new_nic.candidates[2] = {0x7777};
  f.now += 3600;
  const Reply again = f.service->Activate(ActivateBody(key, a_new_nic));
  CHECK(PayloadOf(f, again).license_id == first);
  CHECK(protocol::ParseLicenseAnswer(again.body)->seats_used == 1);

  const Reply b = f.service->Activate(ActivateBody(key, MachineWith(0x2000)));
  CHECK(PayloadOf(f, b).license_id != first);
  const Reply c = f.service->Activate(ActivateBody(key, MachineWith(0x3000)));
  CHECK(c.status == 409);
  CHECK(CodeOf(c) == "seat_limit");
}

TEST_CASE("Service: activation refusals", "[server][service]") {
  Fixture f("", R"("min_agent_version":"0.2.0",)");
  const std::string key = f.AddCredential(1);
  const auto m = MachineWith(0x1000);
  const auto refused = [&](const std::string& body) { return f.service->Activate(body); };

  Reply r = refused(ActivateBody(key, m, "prod", "0.1.9"));
  CHECK(r.status == 400);
  CHECK(CodeOf(r) == "unsupported_version");
  r = refused(ActivateBody(key, m, "nope", "0.2.0"));
  CHECK(r.status == 404);
  CHECK(CodeOf(r) == "unknown_product");
  r = refused(ActivateBody("LK-00000-00000-00000-00000-00000", m, "prod", "0.2.0"));
  CHECK(r.status == 404);
  CHECK(CodeOf(r) == "unknown_credential");
  r = refused(ActivateBody("not a key", m, "prod", "0.2.0"));
  CHECK(CodeOf(r) == "unknown_credential");
  r = refused(ActivateBody(key, m, "other", "0.2.0"));  // a key of another product
  CHECK(CodeOf(r) == "unknown_credential");
  for (const char* body : {"", "[]", "{}", "{\"product_id\":1}", "not json"}) {
    r = refused(body);
    CHECK(r.status == 400);
    CHECK(CodeOf(r) == "malformed_request");
  }
}

TEST_CASE("Service: credential states and environments refuse activation", "[server][service]") {
  Fixture f(R"(,"environments":["bare-metal","vm"])");
  const std::string key = f.AddCredential(1);
  Reply r = f.service->Activate(ActivateBody(key, MachineWith(0x1000, Environment::kContainer)));
  CHECK(r.status == 403);
  CHECK(CodeOf(r) == "environment_not_allowed");
  CHECK(r.credential_id == f.last_credential);

  REQUIRE(f.store->SetCredentialState(f.last_credential, CredentialState::kFrozen));
  r = f.service->Activate(ActivateBody(key, MachineWith(0x1000)));
  CHECK(r.status == 403);
  CHECK(CodeOf(r) == "credential_frozen");
  REQUIRE(f.store->SetCredentialState(f.last_credential, CredentialState::kReleased));
  CHECK(CodeOf(f.service->Activate(ActivateBody(key, MachineWith(0x1000)))) ==
        "credential_released");

  const std::string expired = f.AddCredential(1, "prod", kNow - 1);
  r = f.service->Activate(ActivateBody(expired, MachineWith(0x1000)));
  CHECK(r.status == 403);
  CHECK(CodeOf(r) == "credential_expired");

  const std::string perpetual = f.AddCredential(1, "prod", std::nullopt);
  CHECK_FALSE(
      PayloadOf(f, f.service->Activate(ActivateBody(perpetual, MachineWith(0x1000)))).expires_at);
}

TEST_CASE("Service: refresh renews, carries revocations and checks the machine",
          "[server][service]") {
  Fixture f;
  const std::string key = f.AddCredential(1);
  const auto m = MachineWith(0x1000);
  const std::string id = PayloadOf(f, f.service->Activate(ActivateBody(key, m))).license_id;

  f.now += kDay;
  LicensePayload p = PayloadOf(f, f.service->Refresh(SeatBody(id, m)));
  CHECK(p.license_id == id);
  CHECK(p.status == LicenseStatus::kActive);
  CHECK(p.issued_at == kNow + kDay);
  CHECK(p.refresh_by == kNow + 15 * kDay);
  CHECK(f.store->GetSeat(id)->last_seen_at == kNow + kDay);

  Reply r = f.service->Refresh(SeatBody(id, MachineWith(0x5000)));
  CHECK(r.status == 403);
  CHECK(CodeOf(r) == "wrong_machine");
  r = f.service->Refresh(SeatBody("lic-0000000000000000", m));
  CHECK(r.status == 404);
  CHECK(CodeOf(r) == "unknown_license");
  CHECK(CodeOf(f.service->Refresh(SeatBody(id, m, "other"))) == "unknown_license");
  CHECK(CodeOf(f.service->Refresh(SeatBody(id, m, "nope"))) == "unknown_product");

  REQUIRE(f.store->SetCredentialState(f.last_credential, CredentialState::kFrozen));
  CHECK(PayloadOf(f, f.service->Refresh(SeatBody(id, m))).status == LicenseStatus::kFrozen);
  REQUIRE(f.store->SetCredentialState(f.last_credential, CredentialState::kReleased));
  CHECK(PayloadOf(f, f.service->Refresh(SeatBody(id, m))).status == LicenseStatus::kReleased);
  REQUIRE(f.store->SetCredentialState(f.last_credential, CredentialState::kActive));
  CHECK(PayloadOf(f, f.service->Refresh(SeatBody(id, m))).status == LicenseStatus::kActive);

  f.now = kNow + 400 * kDay;  // past the credential's term
  r = f.service->Refresh(SeatBody(id, m));
  CHECK(CodeOf(r) == "credential_expired");
}

TEST_CASE("Service: deactivation releases the seat, idempotently", "[server][service]") {
  Fixture f;
  const std::string key = f.AddCredential(1);
  const auto a = MachineWith(0x1000);
  const std::string id = PayloadOf(f, f.service->Activate(ActivateBody(key, a))).license_id;
  CHECK(CodeOf(f.service->Deactivate(SeatBody(id, MachineWith(0x5000)))) == "wrong_machine");

  Reply r = f.service->Deactivate(SeatBody(id, a));
  CHECK(PayloadOf(f, r).status == LicenseStatus::kReleased);
  CHECK(PayloadOf(f, r).nonce == kNonce);
  CHECK(protocol::ParseLicenseAnswer(r.body)->seats_used == 0);
  CHECK(PayloadOf(f, f.service->Deactivate(SeatBody(id, a))).status == LicenseStatus::kReleased);
  CHECK(PayloadOf(f, f.service->Refresh(SeatBody(id, a))).status == LicenseStatus::kReleased);

  // The seat is free for another machine.
  CHECK(f.service->Activate(ActivateBody(key, MachineWith(0x2000))).status == 200);
}

TEST_CASE("Service: an offline request file takes a seat and gets its nonce back",
          "[server][service]") {
  Fixture f;
  const std::string key = f.AddCredential(1);
  protocol::OfflineRequest request;
  request.product_id = "prod";
  request.identifier = MachineWith(0x1000).identifier;
  request.nonce = "offline-nonce-1";
  request.created_at = kNow - 60;
  protocol::OfflineAnswerRequest outer{key, protocol::Serialize(request)};
  const LicensePayload p = PayloadOf(f, f.service->Offline(protocol::Serialize(outer)));
  CHECK(p.nonce == "offline-nonce-1");
  CHECK(p.binding->identifier == request.identifier);
  // The same machine online later gets the same seat.
  CHECK(PayloadOf(f, f.service->Activate(ActivateBody(key, MachineWith(0x1000)))).license_id ==
        p.license_id);
  CHECK(CodeOf(f.service->Offline(protocol::Serialize(protocol::OfflineAnswerRequest{
            key, protocol::Serialize(protocol::OfflineRequest{
                     "prod", MachineWith(0x2000).identifier, "n2", kNow})}))) == "seat_limit");

  nlohmann::json newer = nlohmann::json::parse(outer.request);
  newer["request_format"] = 2;
  Reply r =
      f.service->Offline(protocol::Serialize(protocol::OfflineAnswerRequest{key, newer.dump()}));
  CHECK(CodeOf(r) == "unsupported_version");
  r = f.service->Offline(protocol::Serialize(protocol::OfflineAnswerRequest{key, "{}"}));
  CHECK(CodeOf(r) == "malformed_request");
}

TEST_CASE("Service: activations per credential are rate limited", "[server][service]") {
  Fixture f("", R"("rate_limit":{"activations_per_credential_per_minute":3},)");
  const std::string key = f.AddCredential(5);
  for (int i = 0; i < 3; ++i) {
    CHECK(f.service->Activate(ActivateBody(key, MachineWith(0x1000))).status == 200);
  }
  const Reply r = f.service->Activate(ActivateBody(key, MachineWith(0x1000)));
  CHECK(r.status == 429);
  CHECK(CodeOf(r) == "rate_limited");
  CHECK(r.retry_after >= 1);
  CHECK(r.retry_after <= 20);
  // Another credential has its own bucket.
  CHECK(f.service->Activate(ActivateBody(f.AddCredential(1), MachineWith(0x2000))).status == 200);
}

TEST_CASE("Service: health", "[server][service]") {
  Fixture f;
  const Reply ok = f.service->Health(false);
  CHECK(ok.status == 200);
  const auto j = nlohmann::json::parse(ok.body);
  CHECK(j["status"] == "ok");
  CHECK(j["time"] == FormatTime(kNow));
  const Reply stopping = f.service->Health(true);
  CHECK(stopping.status == 503);
  CHECK(CodeOf(stopping) == "unavailable");
}
