// Subcommands of the licagent CLI. Each Add* registers its options on the app and returns the
// function that runs it after parsing; the function returns an exit code (exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "licagent/result.h"

namespace licagent::cli {

using Command = std::function<int()>;

// Prints a failure (as {"error": {"code", "message"}} on stdout with --json, else on stderr)
// and returns its exit code (exit_codes.h).
int ReportError(bool json, const Error& error);

Command AddFingerprintCommand(CLI::App& app);
// install FILE, check, status, uninstall.
void AddLicenseCommands(CLI::App& app, std::vector<std::pair<std::string, Command>>* commands);

}  // namespace licagent::cli
