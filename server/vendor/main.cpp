// licagent-vendor: the vendor's tool to make signing keys, issue signed licenses and inspect
// license files (docs/vendor.md). It signs, so it is never shipped to customers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"

namespace {

// Overwrites the value of --sk in argv with 'x's once it is parsed, so the SK no longer shows in
// /proc/PID/cmdline (ps) while the command runs. Other processes may have seen it before: the
// help text recommends --sk-file.
void ScrubSecretArguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--sk" && i + 1 < argc) {
      std::memset(argv[i + 1], 'x', std::strlen(argv[i + 1]));
    } else if (arg.substr(0, 5) == "--sk=") {
      std::memset(argv[i] + 5, 'x', arg.size() - 5);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace licagent::vendor;
  CLI::App app{
      "licagent-vendor: generate signing keys, issue signed licenses, inspect license files and "
      "debug KooGallery request signatures"};
  app.set_version_flag("--version", std::string("licagent-vendor ") + LICAGENT_VENDOR_VERSION);
  app.require_subcommand(1);
  Command keygen = AddKeygenCommand(app);
  Command issue = AddIssueCommand(app);
  Command inspect = AddInspectCommand(app);
  Command apisign = AddApisignCommand(app);
  try {
    app.parse(argc, argv);
    ScrubSecretArguments(argc, argv);
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
    if (app.got_subcommand("apisign")) return apisign();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent-vendor: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
