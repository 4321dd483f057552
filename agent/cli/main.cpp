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
  app.set_version_flag("--version", std::string("licagent ") + LICAGENT_VERSION);
  app.require_subcommand(1);
  Command fingerprint = AddFingerprintCommand(app);
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
    if (app.got_subcommand("fingerprint")) return fingerprint();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
