// `licagent install FILE`, `check`, `status`, `uninstall`: the license cache and the offline
// check (docs/check.md). No command here touches the network.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/cli/commands.h"
#include "agent/cli/exit_codes.h"
#include "licagent/check.h"
#include "licagent/online.h"

namespace licagent::cli {
namespace {

using nlohmann::json;

struct Options {
  bool json = false;
  bool system = false;
  bool no_background_refresh = false;
  std::string store_dir;
  std::string file;
  std::vector<std::string> features;
};

// Common options of every license command.
void AddStoreOptions(CLI::App* cmd, Options* o) {
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->add_flag("--system", o->system,
                "Use the machine-wide license cache (/var/lib/licagent) instead of this user's");
  cmd->add_option("--store-dir", o->store_dir,
                  "Use this directory as the license cache (overrides $LICAGENT_STATE_DIR)");
}

Result<CheckConfig> Config(const Options& o) {
  auto config = BuiltinCheckConfig();
  if (!config) return config;
  config->system_scope = o.system;
  config->store_dir = o.store_dir;
  return config;
}

}  // namespace

json CheckResultJson(const CheckResult& r) {
  json out{{"verdict", ToString(r.verdict)},
           {"valid", r.verdict == Verdict::kValid},
           {"reason", r.reason},
           {"exit_code", static_cast<int>(ExitCodeFor(r.verdict))}};
  if (r.license) {
    const LicensePayload& p = *r.license;
    out["license"] = {{"license_id", p.license_id},
                      {"product_id", p.product_id},
                      {"customer", p.customer},
                      {"status", ToString(p.status)},
                      {"issued_at", FormatTime(p.issued_at)},
                      {"expires_at", p.expires_at ? json(FormatTime(*p.expires_at)) : json()},
                      {"refresh_by", p.refresh_by ? json(FormatTime(*p.refresh_by)) : json()},
                      {"bound", p.binding.has_value()},
                      {"features", p.entitlements.features}};
  }
  if (r.seconds_left) out["seconds_left"] = *r.seconds_left;
  if (r.grace_seconds_left) out["grace_seconds_left"] = *r.grace_seconds_left;
  if (r.match) {
    json slots = json::object();
    for (int i = 0; i < kSlotCount; ++i) slots[SlotName(SlotAt(i))] = ToString(r.match->slots[i]);
    out["match"] = {{"accepted", r.match->accepted},
                    {"score", r.match->score},
                    {"possible", r.match->possible},
                    {"slots", slots}};
  }
  if (r.topology) {
    out["topology"] = {{"packages", r.topology->packages}, {"cores", r.topology->cores}};
  }
  out["refresh_due"] = r.refresh_due;
  out["system_scope"] = r.system_scope;
  return out;
}

namespace {

std::string Days(std::int64_t seconds) { return std::to_string(seconds / 86400) + " day(s)"; }

}  // namespace

int ReportCheck(bool json, const CheckResult& r, bool details) {
  if (json) {
    std::cout << CheckResultJson(r).dump(2) << "\n";
    return ExitCodeFor(r.verdict);
  }
  std::printf("%s: %s\n", ToString(r.verdict), r.reason.c_str());
  if (details && r.license) {
    const LicensePayload& p = *r.license;
    std::printf("license     %s (%s) for %s\n", p.license_id.c_str(), p.product_id.c_str(),
                p.customer.c_str());
    std::printf("status      %s\n", ToString(p.status));
    std::printf("expires     %s\n",
                p.expires_at
                    ? (FormatTime(*p.expires_at) + ", " + Days(*r.seconds_left) + " left").c_str()
                    : "never (perpetual)");
    std::printf("refresh by  %s\n", p.refresh_by ? (FormatTime(*p.refresh_by) + ", " +
                                                    Days(*r.grace_seconds_left) + " of grace left")
                                                       .c_str()
                                                 : "not needed");
    std::printf("machine     %s\n",
                !p.binding ? "any (floating license)"
                : r.match
                    ? (std::string(r.match->accepted ? "matches" : "does not match") + ", score " +
                       std::to_string(r.match->score) + "/" + std::to_string(r.match->possible))
                          .c_str()
                    : "not compared");
    std::string features;
    for (const auto& [name, value] : p.entitlements.features) {
      features += (features.empty() ? "" : ", ") + name + (value.empty() ? "" : "=" + value);
    }
    std::printf("features    %s\n", features.empty() ? "-" : features.c_str());
  }
  return ExitCodeFor(r.verdict);
}

namespace {

int RunInstall(const Options& o) {
  auto config = Config(o);
  if (!config) return ReportError(o.json, config.error());
  // Read at most one byte more than a license may have: the verifier rejects the oversize
  // file, and a huge file is never loaded whole.
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return ReportError(o.json, {ErrorCode::kNotFound, "cannot open " + o.file});
  std::string text(kMaxLicenseSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  const std::optional<PendingRequest> pending = PendingOfflineRequest(*config);
  const CheckResult r = Install(*config, text);
  const bool installed = r.verdict == Verdict::kValid || r.verdict == Verdict::kNotYetValid ||
                         r.verdict == Verdict::kFrozen || r.verdict == Verdict::kReleased;
  // Does it answer the offline request this machine made (`licagent request`)?
  const bool answers = installed && ResolvePendingRequest(*config, *r.license);
  if (o.json) {
    json out = CheckResultJson(r);
    out["answers_request"] = pending ? json(answers) : json();
    std::cout << out.dump(2) << "\n";
    return ExitCodeFor(r.verdict);
  }
  if (installed) {
    std::printf("installed %s\n", r.license->license_id.c_str());
    if (answers) {
      std::printf("it answers the offline request made here at %s\n",
                  FormatTime(pending->created_at).c_str());
    } else if (pending) {
      std::fprintf(stderr,
                   "licagent: note: this license does not answer the offline request made here "
                   "at %s (it was issued for another request or directly)\n",
                   FormatTime(pending->created_at).c_str());
    }
  }
  return ReportCheck(false, r, false);
}

int RunCheck(const Options& o) {
  auto config = Config(o);
  if (!config) return ReportError(o.json, config.error());
  const CheckResult r = Check(*config, CheckRequest{o.features});
  if (!o.no_background_refresh) {
    // Once a day at most, a detached `licagent refresh --quiet` (docs/activation.md
    // "Background refresh"); it never changes this check's output or exit code.
    std::vector<std::string> args{"refresh", "--quiet"};
    if (o.system || (r.system_scope && o.store_dir.empty())) args.emplace_back("--system");
    if (!o.store_dir.empty()) args.insert(args.end(), {"--store-dir", o.store_dir});
    (void)MaybeStartBackgroundRefresh(*config, r, "", args);
  }
  return ReportCheck(o.json, r, false);
}

int RunStatus(const Options& o) {
  auto config = Config(o);
  if (!config) return ReportError(o.json, config.error());
  return ReportCheck(o.json, Check(*config, CheckRequest{o.features}), true);
}

int RunUninstall(const Options& o) {
  auto config = Config(o);
  if (!config) return ReportError(o.json, config.error());
  if (Status s = Uninstall(*config); !s) return ReportError(o.json, s.error());
  if (o.json) {
    std::cout << json{{"uninstalled", true}}.dump(2) << "\n";
  } else {
    std::printf("the license was removed from this machine's cache\n");
  }
  return kExitOk;
}

}  // namespace

void AddLicenseCommands(CLI::App& app, std::vector<std::pair<std::string, Command>>* commands) {
  auto install = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "install", "Verify a license file and install it in the local cache (offline)");
  cmd->add_option("FILE", install->file, "The license file (-----BEGIN LICAGENT LICENSE-----)")
      ->required();
  AddStoreOptions(cmd, install.get());
  commands->emplace_back("install", [install] { return RunInstall(*install); });

  auto check = std::make_shared<Options>();
  cmd = app.add_subcommand("check",
                           "Check the installed license offline; the exit code is the verdict");
  cmd->add_option("--feature", check->features, "A feature the product needs (repeatable)");
  cmd->add_flag("--no-background-refresh", check->no_background_refresh,
                "Never start the daily background refresh (also: "
                "LICAGENT_NO_BACKGROUND_REFRESH=1)");
  AddStoreOptions(cmd, check.get());
  commands->emplace_back("check", [check] { return RunCheck(*check); });

  auto status = std::make_shared<Options>();
  cmd = app.add_subcommand("status", "Show the installed license and its verdict");
  cmd->add_option("--feature", status->features, "A feature to include in the verdict");
  AddStoreOptions(cmd, status.get());
  commands->emplace_back("status", [status] { return RunStatus(*status); });

  auto uninstall = std::make_shared<Options>();
  cmd = app.add_subcommand("uninstall", "Remove the installed license from the local cache");
  AddStoreOptions(cmd, uninstall.get());
  commands->emplace_back("uninstall", [uninstall] { return RunUninstall(*uninstall); });
}

}  // namespace licagent::cli
