// licagent-vendor: the vendor's tool to make signing keys, issue signed licenses and inspect
// license files (docs/vendor.md). It signs, so it is never shipped to customers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"

int main(int argc, char** argv) {
  using namespace licagent::vendor;
  CLI::App app{
      "licagent-vendor: generate signing keys, issue signed licenses and inspect license files"};
  app.set_version_flag("--version", std::string("licagent-vendor ") + LICAGENT_VENDOR_VERSION);
  app.require_subcommand(1);
  Command keygen = AddKeygenCommand(app);
  Command issue = AddIssueCommand(app);
  Command inspect = AddInspectCommand(app);
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
    if (app.got_subcommand("keygen")) return keygen();
    if (app.got_subcommand("issue")) return issue();
    if (app.got_subcommand("inspect")) return inspect();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent-vendor: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
