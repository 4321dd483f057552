// licagent-marketsim's configuration file (docs/marketsim.md "Configuration"): strict JSON,
// unknown keys rejected with their path, relative paths resolved against the file's folder.
// It holds secrets (SKs, the callback key, the admin token): keep it 0600; nothing here is
// ever logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/result.h"

namespace licagent::marketsim {

// One AK/SK pair the gateway accepts. `products` empty: every product; otherwise codes of
// other products answer 92020001 Unauthorized.
struct Credential {
  std::string access_key;
  std::string secret_key;
  std::vector<std::string> products;
};

// A retry schedule: after a failed delivery, up to `retries` more attempts `interval_ms` apart.
struct RetryPolicy {
  int retries = 0;
  int interval_ms = 0;
};

// Retry schedules per callback family (reference §5.5, §6.8, §7.5).
struct RetryConfig {
  RetryPolicy license_code{60, 120'000};         // License 2.0: 60 times, every 2 minutes
  RetryPolicy instance_create{3, 3'600'000};     // newInstance: hourly for 3 hours
  RetryPolicy instance{60, 120'000};             // other model-B calls: "for 2 hours"
  RetryPolicy legacy_get_license{3, 3'600'000};  // getLicense: hourly for 3 hours
  RetryPolicy legacy_other{1, 120'000};          // refresh/expire/releaseLicense: "once"
};

struct VendorConfig {
  std::string url;        // the production URL; "" = callbacks are recorded, never sent
  std::string key;        // the seller-center access key of §3.2 / §3.4
  std::string ca_bundle;  // PEM CA file to verify the vendor's certificate; "" = system CAs
  int timeout_ms = 5000;  // the marketplace's 5 s budget
};

struct Config {
  std::string config_path;
  std::string listen_host = "127.0.0.1";
  int listen_port = 8443;
  std::string tls_certificate;
  std::string tls_private_key;
  std::string state_file;        // JSON, replaced atomically on every change
  std::string access_log = "-";  // a file path, "-" for standard output, "" for none
  int threads = 4;
  // Bearer token for /admin/...; empty = admin only from loopback addresses (no token).
  std::string admin_token;
  std::vector<Credential> credentials;
  int clock_window_seconds = 900;  // X-Sdk-Date tolerance (the gateway's 15 minutes)
  // What the query API reports for a frozen code (the published enum has no frozen value).
  std::string frozen_query_status = "EXPIRED";
  VendorConfig vendor;
  RetryConfig retry;

  const Credential* FindCredential(std::string_view access_key) const;
};

// Parses configuration text; kInvalidArgument naming the key and the problem.
Result<Config> ParseConfig(std::string_view text, const std::string& base_dir);
// Reads (at most 1 MiB) and parses `path`; file errors as vendor::ReadFile.
Result<Config> LoadConfig(const std::string& path);

}  // namespace licagent::marketsim
