// The admin subcommands of licagent-server (docs/server.md "Admin commands"): credentials and
// seats in the store named by the configuration. They open the store themselves, so they work
// while the server runs. Each Add* registers a subcommand; the returned function runs it after
// parsing and returns an exit code (exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace licagent::server {

using Command = std::function<int(const std::string& config_path)>;

// "credential create|list|freeze|unfreeze|release".
Command AddCredentialCommands(CLI::App& app);
// "seat list|release".
Command AddSeatCommands(CLI::App& app);

}  // namespace licagent::server
