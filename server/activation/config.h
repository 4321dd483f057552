// licagent-server's configuration file (docs/server.md "Configuration"): strict JSON, every
// unknown key rejected with its path named, relative paths resolved against the file's folder.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent::server {

// What the server sells: one entry of "products".
struct ProductConfig {
  std::string id;
  int default_validity_days = 365;  // for `credential create` without --expires; 0 = perpetual
  int grace_days = 14;              // refresh_by = issue time + grace_days
  int seats = 1;                    // for `credential create` without --seats
  // Environment classes allowed to activate (default: all).
  std::vector<Environment> environments;
  MatchPolicy match;  // written into every license's binding; also how seats are matched
};

struct RateLimitConfig {
  int activations_per_credential_per_minute = 10;  // 0 = no limit
  int requests_per_address_per_minute = 600;       // 0 = no limit
};

// The marketplace open API the server calls with the vendor's AK/SK (docs/koogallery.md).
struct KooGalleryOpenApiConfig {
  std::string access_key;       // AK
  std::string secret_key_file;  // SK, alone in a file (absolute path)
  std::vector<std::string> hosts = {"mkt.myhuaweicloud.com", "mkt.myhuaweicloud.cn"};
  std::string ca_bundle;          // PEM file (absolute path); "" = the system store
  int utc_offset_minutes = 0;     // the marketplace's time zone for its times
  int timeout_seconds = 5;        // per attempt, connect included
  int query_interval_hours = 24;  // a code is queried this often; 0 = at every use (tests)
  bool report_usage = true;       // with each query, the code's active seats
};

// Callbacks from the marketplace to the server (the "production interface").
struct KooGalleryCallbackConfig {
  std::string path = "/koogallery/callback";  // one URL for every activity
  std::string access_key_file;  // the seller-center "Key" for signature/authToken (absolute)
  int window_seconds = 60;      // accepted distance of `timestamp` from the server clock
  // Legacy GET callbacks: accepted distance of `timeStamp` (none is documented); 0 = unchecked.
  int legacy_window_seconds = 300;
};

struct KooGalleryConfig {
  std::optional<KooGalleryOpenApiConfig> open_api;   // absent: codes cannot be activated
  std::optional<KooGalleryCallbackConfig> callback;  // absent: no callback endpoint
  // Marketplace product ids (productId, or skuCode) → licagent product ids.
  std::map<std::string, std::string> products;
  // The licagent product of a code whose marketplace product is not in `products` or not
  // given; "" = such codes are refused.
  std::string default_product;
};

struct ServerConfig {
  std::string config_path;  // the file it came from
  std::string listen_host = "127.0.0.1";
  int listen_port = 8443;       // 0 = an ephemeral port
  std::string tls_certificate;  // PEM chain, leaf first (absolute path)
  std::string tls_private_key;  // PEM private key (absolute path)
  std::string signing_key_file;
  std::string signing_key_id;
  std::string storage_kind = "sqlite";
  std::string storage_path;
  std::string access_log = "-";  // a file path, "-" for standard output, "" for none
  int threads = 8;
  std::optional<std::string> min_agent_version;
  RateLimitConfig rate_limit;
  std::vector<ProductConfig> products;
  std::optional<KooGalleryConfig> koogallery;  // absent: no marketplace features

  // The product with this id, or null.
  const ProductConfig* FindProduct(std::string_view id) const;
};

// Parses configuration text. `base_dir` resolves relative paths. kInvalidArgument naming the
// key and the problem (unknown key, duplicate key, wrong type, out of range, missing).
Result<ServerConfig> ParseConfig(std::string_view text, const std::string& base_dir);

// Reads (at most 1 MiB) and parses the file at `path`; errors as ParseConfig (prefixed with the
// path), or the file error (kNotFound, kPermissionDenied, kIoError).
Result<ServerConfig> LoadConfig(const std::string& path);

// "MAJOR.MINOR.PATCH" as three numbers; nullopt if `text` is not of that form.
std::optional<std::array<std::uint32_t, 3>> ParseVersion(std::string_view text);

}  // namespace licagent::server
