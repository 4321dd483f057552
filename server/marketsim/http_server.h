// `licagent-marketsim serve`: HTTPS (cpp-httplib over OpenSSL, TLS >= 1.2) in front of the open
// API and the admin endpoints, the callback dispatcher running beside it, the access log of
// licagent-server, and a graceful stop on SIGTERM/SIGINT.
#pragma once

#include <string>

#include "licagent/result.h"
#include "server/marketsim/config.h"

namespace licagent::marketsim {

struct ServeOptions {
  std::string port_file;  // the bound port ("8443\n") is written here once listening
};

// Loads the state file, serves until SIGTERM or SIGINT, then stops. Must be called before any
// other thread starts (it blocks the two signals for the process). Errors: the state file's
// (kCorrupt, file errors), kInvalidArgument for an unusable certificate or key, kUnavailable
// if the address cannot be bound.
Status Serve(const Config& config, const ServeOptions& options);

}  // namespace licagent::marketsim
