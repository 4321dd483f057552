// Credential and seat administration on the store. Keys are printed once, at creation, and
// never stored or shown again.
#include "server/activation/admin_commands.h"

#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "licagent/license.h"
#include "server/activation/config.h"
#include "server/activation/credential_key.h"
#include "server/activation/exit_codes.h"
#include "server/activation/sqlite_store.h"
#include "server/vendor/files.h"

namespace licagent::server {
namespace {

using nlohmann::json;

constexpr UnixTime kDay = 86400;

int Fail(const Error& e, ExitCode code) {
  std::fprintf(stderr, "licagent-server: %s\n", e.message.c_str());
  return code;
}
int Fail(const Error& e) { return Fail(e, ExitCodeFor(e.code)); }

// A store call on an id: kNotFound means "no such id" here, not a missing file.
int FailId(const Error& e) {
  return Fail(e, e.code == ErrorCode::kNotFound ? kExitNotFound : ExitCodeFor(e.code));
}

UnixTime Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Opened {
  ServerConfig config;
  std::unique_ptr<Store> store;
};

Result<Opened> Open(const std::string& config_path) {
  auto config = LoadConfig(config_path);
  if (!config) return config.error();
  auto store = OpenSqliteStore(config->storage_path, 1);
  if (!store) return store.error();
  return Opened{std::move(*config), std::move(*store)};
}

int OpenFail(const Error& e) { return Fail(e); }

bool ValidFeatureName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "YYYY-MM-DD" (midnight UTC at the start of that day) or "YYYY-MM-DDTHH:MM:SSZ".
Result<UnixTime> ParseExpiry(const std::string& text) {
  if (text.size() == 10) return ParseTime(text + "T00:00:00Z");
  return ParseTime(text);
}

std::string TimeOrDash(const std::optional<UnixTime>& t) { return t ? FormatTime(*t) : "-"; }

json CredentialJson(const Credential& c) {
  json j = {{"id", c.id},
            {"product_id", c.product_id},
            {"customer", c.customer},
            {"state", ToString(c.state)},
            {"seats", c.seats},
            {"seats_used", c.seats_used},
            {"features", c.features},
            {"created_at", FormatTime(c.created_at)}};
  j["expires_at"] = c.expires_at ? json(FormatTime(*c.expires_at)) : json(nullptr);
  j["max_cores"] = c.max_cores ? json(*c.max_cores) : json(nullptr);
  j["max_sockets"] = c.max_sockets ? json(*c.max_sockets) : json(nullptr);
  // A KooGallery authorization code, masked like in the logs (docs/koogallery.md).
  if (c.market) {
    j["market"] = {{"code", MaskCode(c.market->code)},
                   {"order_id", c.market->order_id},
                   {"test", c.market->test},
                   {"synced_at", c.market->synced_at > 0 ? json(FormatTime(c.market->synced_at))
                                                         : json(nullptr)}};
  } else {
    j["market"] = nullptr;
  }
  return j;
}

json SeatJson(const Seat& s) {
  json candidates = json::object();
  for (int i = 0; i < kSlotCount; ++i) {
    const auto& c = s.candidates[static_cast<std::size_t>(i)];
    if (!c.empty()) candidates[SlotName(SlotAt(i))] = c;
  }
  return {{"license_id", s.license_id},
          {"credential_id", s.credential_id},
          {"identifier", s.identifier},
          {"environment", s.environment},
          {"state", ToString(s.state)},
          {"created_at", FormatTime(s.created_at)},
          {"last_seen_at", FormatTime(s.last_seen_at)},
          {"agent_version", s.agent_version},
          {"candidates", candidates}};
}

int PrintJson(const json& j) {
  auto written = vendor::WriteStdout(j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  return written ? kExitOk : Fail(written.error());
}

struct CreateOptions {
  std::string product;
  int seats = 0;
  std::string customer;
  std::string expires;
  bool perpetual = false;
  std::vector<std::string> features;
  int max_cores = 0;
  int max_sockets = 0;
  bool json = false;
};

int Create(const std::string& config_path, const CreateOptions& o) {
  auto opened = Open(config_path);
  if (!opened) return OpenFail(opened.error());
  const ProductConfig* product = opened->config.FindProduct(o.product);
  if (product == nullptr) {
    return Fail(Error{ErrorCode::kInvalidArgument,
                      "--product: '" + o.product + "' is not a product in " + config_path});
  }
  const UnixTime now = Now();
  Credential c;
  auto id = RandomId("cred-", 8);
  if (!id) return Fail(id.error());
  c.id = *id;
  c.product_id = product->id;
  c.customer = o.customer;
  if (c.customer.size() > 256) {
    return Fail(Error{ErrorCode::kInvalidArgument, "--customer: at most 256 characters"});
  }
  c.seats = o.seats > 0 ? o.seats : product->seats;
  for (const std::string& f : o.features) {
    const auto eq = f.find('=');
    const std::string name = f.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (!ValidFeatureName(name) || value.size() > 256) {
      return Fail(Error{ErrorCode::kInvalidArgument,
                        "--feature '" + f +
                            "': NAME is 1-64 of A-Z a-z 0-9 . _ -, VALUE at most 256 characters"});
    }
    c.features[name] = value;
  }
  if (o.max_cores > 0) c.max_cores = o.max_cores;
  if (o.max_sockets > 0) c.max_sockets = o.max_sockets;
  if (!o.expires.empty()) {
    auto t = ParseExpiry(o.expires);
    if (!t) {
      return Fail(Error{ErrorCode::kInvalidArgument, "--expires: " + t.error().message +
                                                         " (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"});
    }
    if (*t <= now) std::fprintf(stderr, "licagent-server: warning: --expires is in the past\n");
    c.expires_at = *t;
  } else if (!o.perpetual && product->default_validity_days > 0) {
    c.expires_at = now + static_cast<UnixTime>(product->default_validity_days) * kDay;
  }
  c.state = CredentialState::kActive;
  c.created_at = now;
  auto key = NewCredentialKey();
  if (!key) return Fail(key.error());
  auto hash = CredentialKeyHash(key->view());
  if (!hash) return Fail(Error{ErrorCode::kInternal, "a new key does not normalise"});
  if (auto created = opened->store->CreateCredential(c, *hash); !created) {
    return Fail(created.error());
  }
  std::string out;
  if (o.json) {
    json j = CredentialJson(c);
    j["seats_used"] = 0;
    j["key"] = std::string(key->view());
    out = j.dump(2) + "\n";
    // The dumped copy of the key lives in `j` until here.
    std::string& k = j["key"].get_ref<std::string&>();
    OPENSSL_cleanse(k.data(), k.size());
  } else {
    out = std::string(key->view()) + "\n";
  }
  auto written = vendor::WriteStdout(out);
  OPENSSL_cleanse(out.data(), out.size());
  if (!written) return Fail(written.error());
  std::fprintf(stderr,
               "licagent-server: created credential %s for product %s: %d seat%s, %s%s%s; the key "
               "is shown only this once and cannot be recovered: hand it to the customer now\n",
               c.id.c_str(), c.product_id.c_str(), c.seats, c.seats == 1 ? "" : "s",
               c.expires_at ? "expires " : "perpetual",
               c.expires_at ? FormatTime(*c.expires_at).c_str() : "",
               c.customer.empty() ? "" : (", customer '" + c.customer + "'").c_str());
  return kExitOk;
}

int List(const std::string& config_path, bool as_json) {
  auto opened = Open(config_path);
  if (!opened) return OpenFail(opened.error());
  auto list = opened->store->ListCredentials();
  if (!list) return Fail(list.error());
  if (as_json) {
    json j = json::array();
    for (const auto& c : *list) j.push_back(CredentialJson(c));
    return PrintJson(j);
  }
  std::string out =
      "ID                     PRODUCT              STATE     SEATS   EXPIRES               "
      "MARKET CODE  SYNCED                CUSTOMER\n";
  for (const auto& c : *list) {
    char line[512];
    const std::string seats = std::to_string(c.seats_used) + "/" + std::to_string(c.seats);
    const std::string code = c.market ? MaskCode(c.market->code) : "-";
    const std::string synced =
        c.market && c.market->synced_at > 0 ? FormatTime(c.market->synced_at) : "-";
    std::snprintf(line, sizeof line, "%-22s %-20s %-9s %-7s %-21s %-12s %-21s %s\n", c.id.c_str(),
                  c.product_id.c_str(), ToString(c.state), seats.c_str(),
                  TimeOrDash(c.expires_at).c_str(), code.c_str(), synced.c_str(),
                  c.customer.c_str());
    out += line;
  }
  auto written = vendor::WriteStdout(out);
  return written ? kExitOk : Fail(written.error());
}

int SetState(const std::string& config_path, const std::string& id, CredentialState state) {
  auto opened = Open(config_path);
  if (!opened) return OpenFail(opened.error());
  if (auto set = opened->store->SetCredentialState(id, state); !set) return FailId(set.error());
  std::fprintf(
      stderr, "licagent-server: credential %s is now %s%s\n", id.c_str(), ToString(state),
      state == CredentialState::kActive ? "" : "; machines learn it at their next refresh");
  return kExitOk;
}

int SeatList(const std::string& config_path, const std::string& credential, bool as_json) {
  auto opened = Open(config_path);
  if (!opened) return OpenFail(opened.error());
  std::optional<std::string> filter;
  if (!credential.empty()) {
    auto c = opened->store->GetCredential(credential);
    if (!c) return FailId(c.error());
    filter = credential;
  }
  auto seats = opened->store->ListSeats(filter);
  if (!seats) return Fail(seats.error());
  if (as_json) {
    json j = json::array();
    for (const auto& s : *seats) j.push_back(SeatJson(s));
    return PrintJson(j);
  }
  std::string out =
      "LICENSE_ID            CREDENTIAL             STATE     ENVIRONMENT   LAST_SEEN             "
      "IDENTIFIER\n";
  for (const auto& s : *seats) {
    char line[512];
    std::snprintf(line, sizeof line, "%-21s %-22s %-9s %-13s %-21s %s\n", s.license_id.c_str(),
                  s.credential_id.c_str(), ToString(s.state), s.environment.c_str(),
                  FormatTime(s.last_seen_at).c_str(), s.identifier.c_str());
    out += line;
  }
  auto written = vendor::WriteStdout(out);
  return written ? kExitOk : Fail(written.error());
}

int SeatRelease(const std::string& config_path, const std::string& license_id) {
  auto opened = Open(config_path);
  if (!opened) return OpenFail(opened.error());
  auto seat = opened->store->ReleaseSeat(license_id, Now());
  if (!seat) return FailId(seat.error());
  std::fprintf(stderr,
               "licagent-server: seat %s of credential %s is released; its machine learns it at "
               "its next refresh\n",
               license_id.c_str(), seat->credential_id.c_str());
  return kExitOk;
}

}  // namespace

Command AddCredentialCommands(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("credential", "Create, list, freeze and release license keys");
  cmd->require_subcommand(1);
  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = cmd->add_subcommand("create", "Create a license key (printed once, never stored)");
  c->add_option("--product", create->product, "Product id from the configuration")->required();
  c->add_option("--seats", create->seats, "Machines at once (default: the product's seats)")
      ->check(CLI::Range(1, 1000000));
  c->add_option("--customer", create->customer, "A label for humans, written into licenses");
  auto* expires = c->add_option("--expires", create->expires,
                                "End of the term: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: "
                                "the product's default_validity_days from now)");
  c->add_flag("--perpetual", create->perpetual, "No end of term")->excludes(expires);
  c->add_option("--feature", create->features, "NAME or NAME=VALUE (repeatable)");
  c->add_option("--max-cores", create->max_cores, "Core limit")->check(CLI::Range(1, 1 << 20));
  c->add_option("--max-sockets", create->max_sockets, "Socket limit")
      ->check(CLI::Range(1, 1 << 20));
  c->add_flag("--json", create->json, "JSON output (with the key)");

  auto list_json = std::make_shared<bool>(false);
  CLI::App* l = cmd->add_subcommand("list", "List credentials (never keys)");
  l->add_flag("--json", *list_json, "JSON output");

  auto id = std::make_shared<std::string>();
  CLI::App* freeze = cmd->add_subcommand("freeze", "Freeze a credential: refreshes answer frozen");
  CLI::App* unfreeze =
      cmd->add_subcommand("unfreeze", "Make a frozen or released credential active");
  CLI::App* release =
      cmd->add_subcommand("release", "Release (revoke) a credential: refreshes answer released");
  for (CLI::App* sub : {freeze, unfreeze, release}) {
    sub->add_option("ID", *id, "Credential id (cred-...)")->required();
  }
  return [=](const std::string& config_path) {
    if (c->parsed()) return Create(config_path, *create);
    if (l->parsed()) return List(config_path, *list_json);
    if (freeze->parsed()) return SetState(config_path, *id, CredentialState::kFrozen);
    if (unfreeze->parsed()) return SetState(config_path, *id, CredentialState::kActive);
    if (release->parsed()) return SetState(config_path, *id, CredentialState::kReleased);
    return static_cast<int>(kExitUsage);
  };
}

Command AddSeatCommands(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("seat", "List and release seats (activated machines)");
  cmd->require_subcommand(1);
  auto credential = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  CLI::App* l = cmd->add_subcommand("list", "List seats, newest first");
  l->add_option("--credential", *credential, "Only this credential's seats");
  l->add_flag("--json", *as_json, "JSON output");
  auto license_id = std::make_shared<std::string>();
  CLI::App* r = cmd->add_subcommand("release", "Release a seat so another machine can take it");
  r->add_option("LICENSE_ID", *license_id, "The seat's license id (lic-...)")->required();
  return [=](const std::string& config_path) {
    if (l->parsed()) return SeatList(config_path, *credential, *as_json);
    if (r->parsed()) return SeatRelease(config_path, *license_id);
    return static_cast<int>(kExitUsage);
  };
}

}  // namespace licagent::server
