// `licagent activate`, `refresh`, `deactivate` and `request`: the commands that talk to the
// vendor's activation server, or prepare an offline request (docs/activation.md).
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
  bool quiet = false;
  bool system = false;
  std::string store_dir;
  OnlineSettings settings;
  std::string key;
  std::string code;
  std::string out;
};

void AddCommonOptions(CLI::App* cmd, Options* o, bool online) {
  cmd->add_flag("--json", o->json, "Machine-readable result on stdout");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress messages on stderr");
  cmd->add_flag("--system", o->system,
                "Use the machine-wide license cache and configuration instead of this user's");
  cmd->add_option("--store-dir", o->store_dir,
                  "Use this directory as the license cache (overrides $LICAGENT_STATE_DIR)");
  if (!online) return;
  cmd->add_option("--server", o->settings.server_url,
                  "The activation server, https://host[:port] (else $LICAGENT_SERVER_URL, "
                  "agent.json, the built-in default)");
  cmd->add_option("--ca-bundle", o->settings.ca_bundle,
                  "Trust the CA certificates in this PEM file instead of the system store");
  cmd->add_option("--pin", o->settings.pinned_public_key,
                  "Also require the server's public key to match: sha256//BASE64[;...]");
  cmd->add_option("--proxy", o->settings.proxy,
                  "Proxy URL, or 'none' for a direct connection (default: the environment's "
                  "HTTPS_PROXY/NO_PROXY)");
  cmd->add_option("--config", o->settings.config_file,
                  "Read this configuration file instead of the standard agent.json");
}

Result<CheckConfig> LoadCheckConfig(const Options& o) {
  auto config = BuiltinCheckConfig();
  if (!config) return config;
  config->system_scope = o.system;
  config->store_dir = o.store_dir;
  return config;
}

// Progress lines on stderr while the server is contacted.
ProgressCallback Progress(const Options& o) {
  if (o.quiet) return {};
  return [](const OnlineProgress& p) {
    if (p.stage == OnlineProgress::Stage::kAttempt) {
      if (p.attempt == 1) {
        std::fprintf(stderr, "Contacting %s...\n", p.server.c_str());
      } else {
        std::fprintf(stderr, "Contacting %s (attempt %d of %d)...\n", p.server.c_str(), p.attempt,
                     p.max_attempts);
      }
    } else {
      std::fprintf(stderr, "  %s\n  retrying in %.1f s\n", p.reason.c_str(),
                   static_cast<double>(p.wait.count()) / 1000.0);
    }
  };
}

int ReportOnline(const Options& o, const OnlineResult& r, const char* done) {
  if (o.json) {
    json out = CheckResultJson(r.check);
    out["seats"] = r.seats ? json(*r.seats) : json();
    out["seats_used"] = r.seats_used ? json(*r.seats_used) : json();
    std::cout << out.dump(2) << "\n";
    return ExitCodeFor(r.check.verdict);
  }
  if (!o.quiet && r.check.license) {
    std::printf("%s %s", done, r.check.license->license_id.c_str());
    if (r.seats && r.seats_used) std::printf(" (seat %d of %d in use)", *r.seats_used, *r.seats);
    std::printf("\n");
  }
  if (o.quiet && r.check.verdict == Verdict::kValid) return kExitOk;
  return ReportCheck(false, r.check, !o.quiet);
}

// Refresh and deactivate without an installed license: the exit code of "no license".
int ReportSeatError(const Options& o, const Error& error) {
  const int code = ReportError(o.json, error);
  return error.code == ErrorCode::kNotFound ? kExitNoLicense : code;
}

int RunActivate(const Options& o) {
  if (o.key.empty() == o.code.empty()) {
    return ReportError(o.json, {ErrorCode::kInvalidArgument,
                                "give exactly one of --key KEY (a license key LK-...) and "
                                "--code CODE (a marketplace authorization code)"});
  }
  std::string credential = o.key.empty() ? o.code : o.key;
  if (credential == "-") {  // from standard input: keeps the key out of the process list
    if (!std::getline(std::cin, credential)) credential.clear();
    while (!credential.empty() && (credential.back() == '\r' || credential.back() == ' ')) {
      credential.pop_back();
    }
  }
  auto check_config = LoadCheckConfig(o);
  if (!check_config) return ReportError(o.json, check_config.error());
  auto online = LoadOnlineConfig(o.settings, o.system);
  if (!online) return ReportError(o.json, online.error());
  auto r = Activate(*check_config, *online, credential, Progress(o));
  std::fill(credential.begin(), credential.end(), '\0');
  if (!r) return ReportError(o.json, r.error());
  return ReportOnline(o, *r, "activated");
}

int RunRefresh(const Options& o) {
  auto check_config = LoadCheckConfig(o);
  if (!check_config) return ReportError(o.json, check_config.error());
  auto online = LoadOnlineConfig(o.settings, o.system);
  if (!online) return ReportError(o.json, online.error());
  auto r = Refresh(*check_config, *online, Progress(o));
  if (!r) return ReportSeatError(o, r.error());
  return ReportOnline(o, *r, "refreshed");
}

int RunDeactivate(const Options& o) {
  auto check_config = LoadCheckConfig(o);
  if (!check_config) return ReportError(o.json, check_config.error());
  auto online = LoadOnlineConfig(o.settings, o.system);
  if (!online) return ReportError(o.json, online.error());
  auto r = Deactivate(*check_config, *online, Progress(o));
  if (!r) return ReportSeatError(o, r.error());
  if (o.json) {
    std::cout << json{{"deactivated", true}, {"license_id", r->license_id}}.dump(2) << "\n";
  } else if (!o.quiet) {
    std::printf(
        "deactivated %s: the seat was given back and the license removed from this "
        "machine\n",
        r->license_id.c_str());
  }
  return kExitOk;
}

int RunRequest(const Options& o) {
  auto check_config = LoadCheckConfig(o);
  if (!check_config) return ReportError(o.json, check_config.error());
  auto text = MakeOfflineRequest(*check_config);
  if (!text) return ReportError(o.json, text.error());
  if (o.out == "-") {
    std::cout << *text << "\n";
    return kExitOk;
  }
  std::ofstream file(o.out, std::ios::binary | std::ios::trunc);
  file << *text << "\n";
  file.close();
  if (!file) return ReportError(o.json, {ErrorCode::kIoError, "cannot write " + o.out});
  if (o.json) {
    std::cout << json{{"request_file", o.out}}.dump(2) << "\n";
  } else if (!o.quiet) {
    std::fprintf(stderr,
                 "wrote the offline request to %s: send it to your vendor, then install the "
                 "license you get back with `licagent install FILE`\n",
                 o.out.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddOnlineCommands(CLI::App& app, std::vector<std::pair<std::string, Command>>* commands) {
  auto activate = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "activate", "Activate this machine with the vendor's server and install the license");
  cmd->add_option("--key", activate->key,
                  "The license key (LK-...); '-' reads it from standard input");
  cmd->add_option("--code", activate->code,
                  "A marketplace authorization code, for servers with the KooGallery bridge; "
                  "'-' reads it from standard input");
  AddCommonOptions(cmd, activate.get(), true);
  commands->emplace_back("activate", [activate] { return RunActivate(*activate); });

  auto refresh = std::make_shared<Options>();
  cmd = app.add_subcommand("refresh",
                           "Renew the installed license with the vendor's server (also run daily "
                           "in the background by `licagent check`)");
  AddCommonOptions(cmd, refresh.get(), true);
  commands->emplace_back("refresh", [refresh] { return RunRefresh(*refresh); });

  auto deactivate = std::make_shared<Options>();
  cmd = app.add_subcommand("deactivate",
                           "Give this machine's seat back to the server and remove the license");
  AddCommonOptions(cmd, deactivate.get(), true);
  commands->emplace_back("deactivate", [deactivate] { return RunDeactivate(*deactivate); });

  auto request = std::make_shared<Options>();
  cmd = app.add_subcommand(
      "request", "Write an offline activation request for a machine without network access");
  cmd->add_option("--out", request->out, "The request file to write ('-': standard output)")
      ->required();
  AddCommonOptions(cmd, request.get(), false);
  commands->emplace_back("request", [request] { return RunRequest(*request); });
}

}  // namespace licagent::cli
