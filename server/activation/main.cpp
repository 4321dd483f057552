// licagent-server: the vendor's activation server (docs/server.md) and its admin commands.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "server/activation/admin_commands.h"
#include "server/activation/config.h"
#include "server/activation/exit_codes.h"
#include "server/activation/http_server.h"

int main(int argc, char** argv) {
  using namespace licagent::server;
  CLI::App app{"licagent-server: the vendor's activation server and its administration"};
  app.set_version_flag("--version", std::string("licagent-server ") + LICAGENT_SERVER_VERSION);
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("--config", config_path, "Configuration file (docs/server.md)")->required();
  ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "Serve HTTPS until SIGTERM or SIGINT");
  serve->add_option("--port-file", serve_options.port_file,
                    "Write the bound port here once listening (for listen port 0)");
  Command credential = AddCredentialCommands(app);
  Command seat = AddSeatCommands(app);
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
    if (serve->parsed()) {
      auto config = LoadConfig(config_path);
      if (!config) {
        std::fprintf(stderr, "licagent-server: %s\n", config.error().message.c_str());
        return ExitCodeFor(config.error().code);
      }
      auto served = Serve(*config, serve_options);
      if (!served) {
        std::fprintf(stderr, "licagent-server: %s\n", served.error().message.c_str());
        return ExitCodeFor(served.error().code);
      }
      return kExitOk;
    }
    if (app.got_subcommand("credential")) return credential(config_path);
    if (app.got_subcommand("seat")) return seat(config_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "licagent-server: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
