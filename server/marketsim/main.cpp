// licagent-marketsim: a KooGallery marketplace simulator for tests, the demo and vendors'
// integration work (docs/marketsim.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "server/activation/exit_codes.h"
#include "server/marketsim/config.h"
#include "server/marketsim/http_server.h"

int main(int argc, char** argv) {
  using namespace licagent;
  using server::ExitCodeFor;
  CLI::App app{"licagent-marketsim: a KooGallery marketplace simulator (not the real thing)"};
  app.set_version_flag("--version",
                       std::string("licagent-marketsim ") + LICAGENT_MARKETSIM_VERSION);
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("--config", config_path, "Configuration file (docs/marketsim.md)")->required();
  marketsim::ServeOptions options;
  CLI::App* serve = app.add_subcommand("serve", "Serve HTTPS until SIGTERM or SIGINT");
  serve->add_option("--port-file", options.port_file,
                    "Write the bound port here once listening (for listen port 0)");
  CLI::App* check = app.add_subcommand("check-config", "Parse the configuration and exit");
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
    return server::kExitUsage;
  }
  try {
    auto config = marketsim::LoadConfig(config_path);
    if (!config) {
      std::fprintf(stderr, "licagent-marketsim: %s\n", config.error().message.c_str());
      return ExitCodeFor(config.error().code);
    }
    if (check->parsed()) return server::kExitOk;
    if (serve->parsed()) {
      const Status served = marketsim::Serve(*config, options);
      if (!served) {
        std::fprintf(stderr, "licagent-marketsim: %s\n", served.error().message.c_str());
        return ExitCodeFor(served.error().code);
      }
      return server::kExitOk;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent-marketsim: internal error: %s\n", e.what());
    return server::kExitInternal;
  }
  return server::kExitUsage;
}
