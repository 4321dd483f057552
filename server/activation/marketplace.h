// What the activation service asks of the KooGallery marketplace (docs/koogallery.md "What the
// vendor server does"): activate a code, query it, report its usage. An interface, so the
// service's tests use a scripted marketplace; the server uses the open-API client over libcurl.
#pragma once

#include <memory>
#include <string>

#include "licagent/result.h"
#include "server/activation/config.h"
#include "server/koogallery/open_api.h"

namespace licagent::server {

// Implementations are thread-safe. A marketplace answer, success or not, is a value (look at
// its outcome); an Error means no usable answer arrived (kUnavailable) or the marketplace's
// identity did not verify (kUntrusted).
class Marketplace {
 public:
  virtual ~Marketplace() = default;
  virtual Result<koogallery::ActivateAnswer> Activate(const std::string& code) = 0;  // v1
  virtual Result<koogallery::QueryAnswer> Query(const std::string& code) = 0;        // v1
  // The code's active clients today (software-usage-info with active_num).
  virtual Result<koogallery::UsageAnswer> ReportUsage(const std::string& code,
                                                      int active_clients) = 0;
};

// The open-API client over libcurl, configured from `config`: the SK is read from
// secret_key_file (at most 1 KiB, surrounding white space dropped; a warning if other users can
// read the file) and wiped when the marketplace is destroyed. Errors: the file's (kNotFound,
// kPermissionDenied, kIoError), kInvalidArgument for an empty SK or AK.
Result<std::unique_ptr<Marketplace>> OpenMarketplace(const KooGalleryOpenApiConfig& config);

}  // namespace licagent::server
