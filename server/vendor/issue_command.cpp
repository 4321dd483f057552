// `licagent-vendor issue`: sign a license for a machine identifier, an offline request file or
// (explicitly) any machine. Every payload field can be set; the result is verified with the
// agent's own verifier before it is written.
#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/protocol.h"
#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"
#include "server/vendor/files.h"
#include "server/vendor/signer.h"

namespace licagent::vendor {
namespace {

constexpr UnixTime kDay = 86400;
constexpr UnixTime kLastTime = 253402300799;  // 9999-12-31T23:59:59Z, the last license time
// A server_time further ahead of this machine's clock than this is probably a typo, and it
// would make agents believe their own clock was set back.
constexpr UnixTime kFutureServerTimeSlack = 300;

struct Options {
  std::string key_path;
  std::string key_id;
  std::string product;
  std::string customer;
  std::string identifier;
  std::string request_path;
  bool floating = false;
  std::string license_id;
  std::string issued_at;
  std::string server_time;
  std::string not_before;
  std::string expires;
  int days = 0;
  std::string refresh_by;
  int grace_days = 0;
  std::string status = "active";
  std::vector<std::string> features;
  int max_cores = 0;
  int max_sockets = 0;
  int seats = 0;
  std::string code;
  std::string order_id;
  std::string instance_id;
  std::string nonce;
  int threshold_percent = MatchPolicy{}.threshold_percent;
  int min_matched = MatchPolicy{}.min_matched;
  bool no_require_hardware = false;
  std::string environment = "no-leaving-bare-metal";
  std::string out;

  // Options whose presence matters (an empty value is not "absent").
  std::map<std::string, const CLI::Option*> given;
  bool Given(const std::string& name) const {
    const auto it = given.find(name);
    return it != given.end() && it->second->count() > 0;
  }
};

Error Usage(std::string message) { return Error{ErrorCode::kInvalidArgument, std::move(message)}; }

// Prefixes an error's message with where it came from, keeping its code.
Error In(const std::string& where, Error e) {
  e.message = where + ": " + e.message;
  return e;
}

Result<UnixTime> TimeOption(const std::string& flag, const std::string& text) {
  auto t = ParseTime(text);
  if (!t) return Usage(flag + ": " + t.error().message);
  return t;
}

std::string RandomLicenseId() {
  unsigned char bytes[8] = {};
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id = "L-";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xF];
  }
  return id;
}

std::string StripSuffix(const std::string& s, std::string_view suffix) {
  if (s.size() > suffix.size() &&
      s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0) {
    return s.substr(0, s.size() - suffix.size());
  }
  return {};
}

Result<SigningKey> LoadKey(const Options& o) {
  unsigned mode = 0;
  auto pem = ReadSecretFile(o.key_path, kMaxPrivateKeyFileSize, &mode);
  if (!pem) return pem.error();
  auto key = SigningKey::FromPem(pem->view());
  if (!key) return In(o.key_path, key.error());
  if ((mode & 077U) != 0) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    Warn(o.key_path + " can be read by other users (mode " + octal + "); run chmod 600 on it");
  }
  // keygen writes PREFIX.pub beside PREFIX.pem: if it is there, the key id must agree, or the
  // licenses would name a key that agents hold under another id and fail to verify.
  const std::string stem = StripSuffix(o.key_path, ".pem");
  if (!stem.empty()) {
    const std::string pub_path = stem + ".pub";
    auto text = ReadFile(pub_path, 4096);
    if (text) {
      while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
      auto pub = ParsePublicKey(*text);
      if (pub && pub->bytes == key->public_bytes() && pub->key_id != o.key_id) {
        return Usage(pub_path + " names this key '" + pub->key_id + "', not '" + o.key_id +
                     "' (--key-id): agents trust it under '" + pub->key_id + "'");
      }
      if (pub && pub->bytes != key->public_bytes()) {
        Warn(pub_path + " holds another public key than " + o.key_path);
      }
    }
  }
  return key;
}

// Fills the binding (or none) from --identifier, --request or --floating.
Status SetBinding(const Options& o, LicensePayload& p) {
  const int sources =
      (o.Given("--identifier") ? 1 : 0) + (o.Given("--request") ? 1 : 0) + (o.floating ? 1 : 0);
  if (sources == 0) {
    return Usage(
        "say which machine the license is for: --identifier HW1-... or --request FILE, or "
        "--floating for a license valid on any machine");
  }
  if (sources > 1) return Usage("--identifier, --request and --floating exclude each other");
  if (o.floating) {
    for (const char* flag :
         {"--threshold-percent", "--min-matched", "--no-require-hardware", "--environment"}) {
      if (o.Given(flag)) return Usage(std::string(flag) + " needs a bound license, not --floating");
    }
    return Status::Ok();
  }
  Binding b;
  if (o.Given("--identifier")) {
    auto id = ParseIdentifier(o.identifier);
    if (!id) return In("--identifier", id.error());
    b.identifier = *id;
    if (id->ToString() != o.identifier) Warn("--identifier read as " + id->ToString());
  } else {
    if (o.Given("--nonce")) {
      return Usage(
          "--nonce cannot be combined with --request: the license answers the "
          "request's own nonce");
    }
    auto text = ReadFile(o.request_path, protocol::kMaxOfflineRequestSize);
    if (!text) return text.error();
    auto request = protocol::ParseOfflineRequest(*text);
    if (!request) return Usage(o.request_path + ": " + request.error().message);
    if (request->product_id != o.product) {
      return Usage(o.request_path + " asks for product '" + request->product_id + "', not '" +
                   o.product + "' (--product)");
    }
    b.identifier = request->identifier;
    p.nonce = request->nonce;
  }
  if (b.identifier.PresentHardwareSlots() == 0) {
    Warn(b.identifier.ToString() +
         " has no hardware-anchored slot: the license follows the OS installation (a cloned "
         "disk carries it along, a reinstall loses it)");
  }
  b.policy.threshold_percent = o.threshold_percent;
  b.policy.min_matched = o.min_matched;
  b.policy.require_hardware = !o.no_require_hardware;
  b.policy.environment = o.environment == "exact" ? EnvironmentRule::kExact
                         : o.environment == "any" ? EnvironmentRule::kAny
                                                  : EnvironmentRule::kNoLeavingBareMetal;
  p.binding = b;
  return Status::Ok();
}

// Reads an optional time flag into `out`; leaves `out` alone when the flag is absent.
Status OptionalTime(const Options& o, const std::string& flag, const std::string& text,
                    UnixTime& out) {
  if (!o.Given(flag)) return Status::Ok();
  auto t = TimeOption(flag, text);
  if (!t) return t.error();
  out = *t;
  return Status::Ok();
}

Status SetTimes(const Options& o, LicensePayload& p, UnixTime now) {
  p.issued_at = now;
  p.server_time = now;
  LICAGENT_RETURN_IF_ERROR(OptionalTime(o, "--issued-at", o.issued_at, p.issued_at));
  LICAGENT_RETURN_IF_ERROR(OptionalTime(o, "--server-time", o.server_time, p.server_time));
  p.not_before = p.issued_at;
  LICAGENT_RETURN_IF_ERROR(OptionalTime(o, "--not-before", o.not_before, p.not_before));

  if (o.Given("--expires")) {
    UnixTime t = 0;
    LICAGENT_RETURN_IF_ERROR(OptionalTime(o, "--expires", o.expires, t));
    p.expires_at = t;
  } else if (o.Given("--days")) {
    p.expires_at = p.not_before + o.days * kDay;
  }
  if (p.expires_at && *p.expires_at <= p.not_before) {
    return Usage("the license would expire (" + FormatTime(*p.expires_at) +
                 ") before it becomes valid (" + FormatTime(p.not_before) + ")");
  }

  if (o.Given("--refresh-by")) {
    UnixTime t = 0;
    LICAGENT_RETURN_IF_ERROR(OptionalTime(o, "--refresh-by", o.refresh_by, t));
    p.refresh_by = t;
  } else if (o.Given("--grace-days")) {
    p.refresh_by = p.issued_at + o.grace_days * kDay;
  }
  if (p.refresh_by && *p.refresh_by <= p.not_before) {
    return Usage("the refresh deadline (" + FormatTime(*p.refresh_by) +
                 ") must be later than the start of validity (" + FormatTime(p.not_before) + ")");
  }
  if (p.expires_at.value_or(0) > kLastTime || p.refresh_by.value_or(0) > kLastTime) {
    return Usage("--days or --grace-days reaches past the year 9999");
  }

  if (p.expires_at && *p.expires_at <= now) {
    Warn("the license expired already (" + FormatTime(*p.expires_at) + ")");
  }
  if (p.server_time > now + kFutureServerTimeSlack) {
    Warn(
        "--server-time is ahead of this machine's clock; agents take it as the earliest "
        "possible current time");
  }
  return Status::Ok();
}

Status SetEntitlements(const Options& o, LicensePayload& p) {
  for (const std::string& f : o.features) {
    const auto eq = f.find('=');
    std::string name = f.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (!ValidKeyId(name)) {
      return Usage("--feature '" + f.substr(0, 80) +
                   "': a feature name is 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    if (!p.entitlements.features.emplace(name, std::move(value)).second) {
      return Usage("--feature " + name + " is given twice");
    }
  }
  if (o.Given("--max-cores")) p.entitlements.max_cores = o.max_cores;
  if (o.Given("--max-sockets")) p.entitlements.max_sockets = o.max_sockets;
  if (o.Given("--seats")) p.entitlements.seats = o.seats;
  return Status::Ok();
}

Result<LicensePayload> BuildPayload(const Options& o, UnixTime now) {
  LicensePayload p;
  p.format = 1;
  p.key_id = o.key_id;
  p.product_id = o.product;
  p.customer = o.customer;
  if (o.Given("--license-id")) {
    p.license_id = o.license_id;
  } else {
    p.license_id = RandomLicenseId();
    if (p.license_id.empty()) return Error{ErrorCode::kInternal, "RAND_bytes failed"};
  }
  if (o.Given("--code")) p.authorization_code = o.code;
  if (o.Given("--order-id")) p.order_id = o.order_id;
  if (o.Given("--instance-id")) p.instance_id = o.instance_id;
  if (o.Given("--nonce")) p.nonce = o.nonce;
  p.status = o.status == "frozen"     ? LicenseStatus::kFrozen
             : o.status == "released" ? LicenseStatus::kReleased
                                      : LicenseStatus::kActive;
  LICAGENT_RETURN_IF_ERROR(SetBinding(o, p));
  LICAGENT_RETURN_IF_ERROR(SetTimes(o, p, now));
  LICAGENT_RETURN_IF_ERROR(SetEntitlements(o, p));
  return p;
}

std::string Summary(const LicensePayload& p, const std::string& out) {
  std::string s = "issued license " + p.license_id + " for product " + p.product_id + " to '" +
                  p.customer + "', ";
  s += p.binding ? "bound to " + p.binding->identifier.ToString() : "floating (any machine)";
  s += ", valid from " + FormatTime(p.not_before);
  s += p.expires_at ? " until " + FormatTime(*p.expires_at) : ", perpetual";
  if (p.refresh_by) s += ", refresh by " + FormatTime(*p.refresh_by);
  if (p.status != LicenseStatus::kActive) s += std::string(", status ") + ToString(p.status);
  s += ", signed with key " + p.key_id;
  s += out == "-" ? "" : "; written to " + out;
  return s;
}

int Run(const Options& o) {
  if (!ValidKeyId(o.key_id)) {
    return Fail(Usage("--key-id must be 1 to 64 of A-Z a-z 0-9 . _ -"));
  }
  auto payload = BuildPayload(o, static_cast<UnixTime>(std::time(nullptr)));
  if (!payload) return Fail(payload.error());
  auto key = LoadKey(o);
  if (!key) return Fail(key.error());
  auto license = IssueLicense(*key, *payload);
  if (!license) return Fail(license.error());

  const Status written = o.out == "-" ? WriteStdout(*license) : ReplaceFile(o.out, *license, 0644);
  if (!written) return Fail(written.error());
  std::fprintf(stderr, "licagent-vendor: %s\n", Printable(Summary(*payload, o.out)).c_str());
  return kExitOk;
}

}  // namespace

Command AddIssueCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "issue",
      "Sign a license for a machine (--identifier HW1-... or --request FILE) or, explicitly, for "
      "any machine (--floating). The license is verified before it is written.");
  auto add = [&](const std::string& name, auto& value, const std::string& help) {
    CLI::Option* opt = cmd->add_option(name, value, help);
    o->given[name.substr(0, name.find(','))] = opt;
    return opt;
  };
  add("--key", o->key_path, "Private key file (PEM, from keygen or openssl genpkey)")->required();
  add("--key-id", o->key_id, "Id of that key, as agents trust it (e.g. acme-2026)")->required();
  add("--product", o->product, "Product id the license is for (1-64 characters)")->required();
  add("--customer", o->customer, "Customer label shown to humans (1-256 bytes)")->required();
  auto* identifier = add("--identifier", o->identifier,
                         "The customer's machine identifier (HW1-..., as `licagent fingerprint` "
                         "prints it; case, spaces and dashes are forgiven)");
  auto* request = add("--request", o->request_path,
                      "An offline request file; binds to its identifier and answers its nonce");
  auto* floating =
      cmd->add_flag("--floating", o->floating, "Not bound to a machine: valid on any machine");
  o->given["--floating"] = floating;
  identifier->excludes(request)->excludes(floating);
  request->excludes(floating);

  add("--license-id", o->license_id, "License id (default: L- and 16 random hex digits)");
  add("--issued-at", o->issued_at, "Signing time YYYY-MM-DDTHH:MM:SSZ (default: now)");
  add("--server-time", o->server_time,
      "The issuer's clock, YYYY-MM-DDTHH:MM:SSZ (default: now); agents treat it as a lower "
      "bound for the current time, so never set it in the future");
  add("--not-before", o->not_before, "Start of validity (default: the issue time)");
  auto* expires = add("--expires", o->expires, "End of validity YYYY-MM-DDTHH:MM:SSZ");
  auto* days =
      add("--days", o->days, "Valid for N days from --not-before")->check(CLI::Range(1, 36500));
  expires->excludes(days);
  auto* refresh =
      add("--refresh-by", o->refresh_by, "Offline grace: agents must have refreshed by this time");
  auto* grace = add("--grace-days", o->grace_days, "Offline grace of N days from the issue time")
                    ->check(CLI::Range(1, 36500));
  refresh->excludes(grace);
  add("--status", o->status, "active (default), frozen or released")
      ->check(CLI::IsMember({"active", "frozen", "released"}));
  add("--feature", o->features, "Entitlement NAME or NAME=VALUE; repeat for several")
      ->allow_extra_args(false);
  add("--max-cores", o->max_cores, "Maximum CPU cores")->check(CLI::Range(1, 1 << 20));
  add("--max-sockets", o->max_sockets, "Maximum CPU sockets")->check(CLI::Range(1, 1 << 20));
  add("--seats", o->seats, "Number of seats")->check(CLI::Range(1, 1 << 20));
  add("--code", o->code, "KooGallery authorization code (PL...)");
  add("--order-id", o->order_id, "Marketplace order id");
  add("--instance-id", o->instance_id, "Marketplace instance id");
  add("--nonce", o->nonce, "Request nonce the license answers (set by --request)");
  add("--threshold-percent", o->threshold_percent,
      "Match policy: share of the identifier's weight that must match (default 60)")
      ->check(CLI::Range(1, 100));
  add("--min-matched", o->min_matched, "Match policy: minimum matching slots (default 2)")
      ->check(CLI::Range(1, kSlotCount));
  o->given["--no-require-hardware"] =
      cmd->add_flag("--no-require-hardware", o->no_require_hardware,
                    "Match policy: accept a machine on which no hardware-anchored slot matches");
  add("--environment", o->environment,
      "Match policy: no-leaving-bare-metal (default), exact or any")
      ->check(CLI::IsMember({"no-leaving-bare-metal", "exact", "any"}));
  add("--out", o->out, "Where to write the license file; - for standard output")->required();
  return [o] { return Run(*o); };
}

}  // namespace licagent::vendor
