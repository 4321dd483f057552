// Subcommands of the licagent CLI. Each Add* registers its options on the app and returns the
// function that runs it after parsing; the function returns an exit code (exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "licagent/check.h"
#include "licagent/result.h"

namespace licagent::cli {

using Command = std::function<int()>;

// Prints a failure (as {"error": {"code", "message", "remote_code"}} on stdout with --json,
// else on stderr) and returns its exit code (exit_codes.h, ExitCodeFor(const Error&)).
int ReportError(bool json, const Error& error);

// A check verdict as JSON (verdict, reason, exit_code, license summary, ...).
nlohmann::json CheckResultJson(const CheckResult& r);
// Prints a verdict (JSON with `json`; with `details`, the license too) and returns its exit code.
int ReportCheck(bool json, const CheckResult& r, bool details);

Command AddFingerprintCommand(CLI::App& app);
// install FILE, check, status, uninstall.
void AddLicenseCommands(CLI::App& app, std::vector<std::pair<std::string, Command>>* commands);
// activate, refresh, deactivate, request (docs/activation.md).
void AddOnlineCommands(CLI::App& app, std::vector<std::pair<std::string, Command>>* commands);

}  // namespace licagent::cli
