// licagent: the licensing agent's command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "agent/cli/commands.h"
#include "agent/cli/exit_codes.h"
#include "licagent_build_config.h"

int main(int argc, char** argv) {
  using namespace licagent::cli;
  CLI::App app{"licagent: hardware identity and license checks for this machine"};
  app.set_version_flag("--version", std::string("licagent ") + LICAGENT_VERSION + " (product " +
                                        LICAGENT_PRODUCT_ID + ")");
  app.require_subcommand(1);
  std::vector<std::pair<std::string, Command>> commands;
  commands.emplace_back("fingerprint", AddFingerprintCommand(app));
  AddLicenseCommands(app, &commands);
  AddOnlineCommands(app, &commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    for (auto& [name, run] : commands) {
      if (app.got_subcommand(name)) return run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
