// `licagent-server serve`: HTTPS (cpp-httplib over OpenSSL, TLS 1.2 or later) in front of the
// ActivationService, with the access log and a graceful stop on SIGTERM/SIGINT.
#pragma once

#include <string>

#include "licagent/result.h"
#include "server/activation/config.h"

namespace licagent::server {

struct ServeOptions {
  // If set, the bound port ("8443\n") is written here (atomically) once the server listens:
  // how tests and the demo find an ephemeral port (listen "...:0").
  std::string port_file;
};

// Loads the signing key, TLS certificate and store named by `config`, serves until SIGTERM or
// SIGINT, then stops accepting, lets requests in flight finish and closes the store. Must be
// called before any other thread is started (it blocks the two signals for the process).
// Errors: the failing file's error (kNotFound, kPermissionDenied, kIoError, kInvalidArgument
// for an unusable key or certificate), kUnavailable if the address cannot be bound.
Status Serve(const ServerConfig& config, const ServeOptions& options);

}  // namespace licagent::server
