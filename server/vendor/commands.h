// Subcommands of licagent-vendor and what they share. Each Add* registers its options on the
// app and returns the function that runs it after parsing; that function returns an exit code
// (exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "licagent/result.h"

namespace licagent::vendor {

using Command = std::function<int()>;

Command AddKeygenCommand(CLI::App& app);
Command AddIssueCommand(CLI::App& app);
Command AddInspectCommand(CLI::App& app);
Command AddApisignCommand(CLI::App& app);

// `text` with control characters and invalid UTF-8 bytes shown as \xNN, so text from a file
// cannot drive the terminal.
std::string Printable(std::string_view text);

// Prints "licagent-vendor: MESSAGE" on stderr (and, with `json`, {"error":{...}} on stdout)
// and returns the exit code for the error.
int Fail(const Error& error, bool json = false);

// Prints "licagent-vendor: warning: MESSAGE" on stderr.
void Warn(std::string_view message);

}  // namespace licagent::vendor
