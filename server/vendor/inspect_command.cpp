// `licagent-vendor inspect`: decode any license file, show every field, and verify the
// signature against the public keys given.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"
#include "server/vendor/files.h"

namespace licagent::vendor {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxKeyFileSize = 64 * 1024;

struct Options {
  std::string file;
  std::vector<std::string> keys;
  bool json = false;
};

enum class SignatureState { kValid, kInvalid, kUnchecked };

const char* ToString(SignatureState s) {
  switch (s) {
    case SignatureState::kValid:
      return "valid";
    case SignatureState::kInvalid:
      return "invalid";
    case SignatureState::kUnchecked:
      return "unchecked";
  }
  return "invalid";
}

Error Usage(std::string message) { return Error{ErrorCode::kInvalidArgument, std::move(message)}; }

// One --key argument: a KEY_ID:BASE64 line, or a file of such lines (a keygen .pub file, or a
// list of several keys; empty lines and lines starting with # are skipped).
Status AddKeys(const std::string& arg, std::vector<PublicKey>& keys) {
  std::vector<PublicKey> found;
  if (auto line = ParsePublicKey(arg)) {
    found.push_back(*line);
  } else {
    auto text = ReadFile(arg, kMaxKeyFileSize);
    if (!text) {
      if (text.error().code == ErrorCode::kNotFound && arg.find(':') != std::string::npos) {
        return Usage("--key " + arg.substr(0, 100) + ": " + line.error().message);
      }
      Error e = text.error();
      e.message = "--key " + e.message;
      return e;
    }
    std::size_t pos = 0;
    for (int number = 1; pos < text->size(); ++number) {
      std::size_t end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      std::string l = text->substr(pos, end - pos);
      pos = end + 1;
      while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.pop_back();
      if (l.empty() || l[0] == '#') continue;
      auto key = ParsePublicKey(l);
      if (!key) {
        return Usage(arg + " line " + std::to_string(number) + ": " + key.error().message);
      }
      found.push_back(*key);
    }
    if (found.empty()) return Usage(arg + ": no public key in the file");
  }
  for (const PublicKey& k : found) {
    bool duplicate = false;
    for (const PublicKey& have : keys) {
      if (have.key_id != k.key_id) continue;
      if (have.bytes != k.bytes) {
        return Usage("two different public keys are named '" + k.key_id + "'");
      }
      duplicate = true;
    }
    if (!duplicate) keys.push_back(k);
  }
  return Status::Ok();
}

std::string Relative(UnixTime t, UnixTime now) {
  const UnixTime days = (t > now ? t - now : now - t) / 86400;
  if (days == 0) return t > now ? " (within a day)" : " (less than a day ago)";
  return t > now ? " (in " + std::to_string(days) + " days)"
                 : " (" + std::to_string(days) + " days ago)";
}

std::string Hex16(std::uint16_t tag) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(tag));
  return buf;
}

const char* RuleName(EnvironmentRule rule) {
  switch (rule) {
    case EnvironmentRule::kNoLeavingBareMetal:
      return "no-leaving-bare-metal";
    case EnvironmentRule::kExact:
      return "exact";
    case EnvironmentRule::kAny:
      return "any";
  }
  return "no-leaving-bare-metal";
}

void Line(const char* label, const std::string& value) {
  std::printf("%-20s %s\n", label, Printable(value).c_str());
}

std::string OrNone(const std::optional<std::string>& s) { return s ? *s : "none"; }
std::string Limit(const std::optional<int>& n) { return n ? std::to_string(*n) : "no limit"; }

void PrintHuman(const Options& o, const LicenseEnvelope& e, const LicensePayload& p,
                SignatureState state, const std::string& why) {
  const auto now = static_cast<UnixTime>(std::time(nullptr));
  Line("File", o.file == "-" ? "- (standard input)" : o.file);
  switch (state) {
    case SignatureState::kValid:
      Line("Signature", "valid (key " + e.key_id + ")");
      break;
    case SignatureState::kInvalid:
      Line("Signature", "INVALID: " + why);
      break;
    case SignatureState::kUnchecked:
      Line("Signature", "unchecked (no --key given)");
      break;
  }
  Line("Key id", e.key_id);
  Line("Format", std::to_string(p.format));
  Line("License id", p.license_id);
  Line("Product", p.product_id);
  Line("Customer", p.customer);
  Line("Status", ToString(p.status));
  Line("Issued at", FormatTime(p.issued_at));
  Line("Not before", FormatTime(p.not_before) + Relative(p.not_before, now));
  Line("Expires at",
       p.expires_at ? FormatTime(*p.expires_at) + Relative(*p.expires_at, now) : "perpetual");
  Line("Refresh by", p.refresh_by ? FormatTime(*p.refresh_by) + Relative(*p.refresh_by, now)
                                  : "no refresh needed");
  Line("Server time", FormatTime(p.server_time));
  if (p.binding) {
    const Identifier& id = p.binding->identifier;
    const MatchPolicy& m = p.binding->policy;
    Line("Binding", id.ToString());
    Line("  Platform", ToString(id.os));
    Line("  Environment", ToString(id.environment));
    std::string tags;
    for (std::uint16_t t : id.tags) tags += (tags.empty() ? "" : " ") + (t ? Hex16(t) : "----");
    Line("  Tags", tags);
    Line("  Slots present", std::to_string(id.PresentSlots()) + " of 7 (" +
                                std::to_string(id.PresentHardwareSlots()) + " hardware-anchored)");
    Line("  Match policy", "threshold " + std::to_string(m.threshold_percent) + "%, at least " +
                               std::to_string(m.min_matched) + " slots, hardware match " +
                               (m.require_hardware ? "required" : "not required") +
                               ", environment " + RuleName(m.environment));
  } else {
    Line("Binding", "floating (any machine)");
  }
  std::string features;
  for (const auto& [name, value] : p.entitlements.features) {
    features += (features.empty() ? "" : ", ") + name + (value.empty() ? "" : "=" + value);
  }
  Line("Features", features.empty() ? "none" : features);
  Line("Max cores", Limit(p.entitlements.max_cores));
  Line("Max sockets", Limit(p.entitlements.max_sockets));
  Line("Seats", Limit(p.entitlements.seats));
  Line("Authorization code", OrNone(p.authorization_code));
  Line("Order id", OrNone(p.order_id));
  Line("Instance id", OrNone(p.instance_id));
  Line("Nonce", OrNone(p.nonce));
}

int Run(const Options& o) {
  std::vector<PublicKey> keys;
  for (const std::string& arg : o.keys) {
    if (Status s = AddKeys(arg, keys); !s) return Fail(s.error(), o.json);
  }
  // Larger files are malformed licenses (exit 11), not usage errors.
  auto text = o.file == "-" ? ReadStdin(kMaxLicenseSize, ErrorCode::kCorrupt)
                            : ReadFile(o.file, kMaxLicenseSize, ErrorCode::kCorrupt);
  if (!text) return Fail(text.error(), o.json);

  auto envelope = ParseArmoredLicense(*text);
  if (!envelope) {
    return Fail({ErrorCode::kCorrupt, o.file + ": malformed license: " + envelope.error().message},
                o.json);
  }
  auto payload = ParsePayload(envelope->payload);
  if (!payload) {
    return Fail({ErrorCode::kCorrupt, o.file + ": malformed payload: " + payload.error().message},
                o.json);
  }
  if (payload->key_id != envelope->key_id) {
    return Fail({ErrorCode::kCorrupt, o.file + ": the payload names key '" + payload->key_id +
                                          "' but the armour says '" + envelope->key_id + "'"},
                o.json);
  }

  SignatureState state = SignatureState::kUnchecked;
  std::string why;
  if (!keys.empty()) {
    bool known = false;
    for (const PublicKey& k : keys) known = known || k.key_id == envelope->key_id;
    if (!known) {
      state = SignatureState::kInvalid;
      why = "signed with key '" + envelope->key_id + "', which is not among the keys given";
    } else if (auto verified = VerifyLicense(*text, keys); !verified) {
      state = SignatureState::kInvalid;
      why = verified.error().message;
    } else {
      state = SignatureState::kValid;
    }
  }

  if (o.json) {
    json out = json::parse(envelope->payload);  // already validated by ParsePayload
    out["signature"] = ToString(state);
    out["key_id"] = envelope->key_id;
    if (state == SignatureState::kInvalid) out["signature_error"] = why;
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    PrintHuman(o, *envelope, *payload, state, why);
  }
  std::cout.flush();
  if (state == SignatureState::kInvalid) {
    std::fprintf(stderr, "licagent-vendor: %s: the signature does not verify: %s\n",
                 Printable(o.file).c_str(), Printable(why).c_str());
    return kExitLicenseInvalid;
  }
  return kExitOk;
}

}  // namespace

Command AddInspectCommand(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Decode a license file and show every field; with --key, verify its signature. Exit 0 if "
      "valid (or unchecked without --key), 11 if malformed or the signature does not verify");
  cmd->add_option("file", options->file, "The license file; - for standard input")->required();
  cmd->add_option("--key", options->keys,
                  "A public key KEY_ID:BASE64, or a file of them (e.g. keygen's .pub); repeat "
                  "for several keys")
      ->allow_extra_args(false);
  cmd->add_flag("--json", options->json,
                "Machine-readable: the payload's fields plus \"signature\" "
                "(valid/invalid/unchecked) and \"key_id\"");
  return [options] { return Run(*options); };
}

}  // namespace licagent::vendor
