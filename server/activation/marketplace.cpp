#include "server/activation/marketplace.h"

#include <openssl/crypto.h>

#include <cstdio>
#include <utility>

#include "server/koogallery/curl_transport.h"
#include "server/vendor/files.h"

namespace licagent::server {
namespace {

constexpr std::size_t kMaxSecretKeyFileSize = 1024;

class OpenApiMarketplace : public Marketplace {
 public:
  OpenApiMarketplace(koogallery::OpenApiConfig config, koogallery::CurlTransportOptions transport)
      : transport_(std::move(transport)), client_(std::move(config), transport_) {}

  Result<koogallery::ActivateAnswer> Activate(const std::string& code) override {
    return client_.ActivateV1(code);
  }
  Result<koogallery::QueryAnswer> Query(const std::string& code) override {
    return client_.QueryV1(code);
  }
  Result<koogallery::UsageAnswer> ReportUsage(const std::string& code,
                                              int active_clients) override {
    koogallery::UsageReport report;
    report.license = code;
    report.usage.push_back({std::nullopt, active_clients});
    return client_.ReportUsage({report});
  }

 private:
  koogallery::CurlTransport transport_;  // thread-safe: a libcurl handle per call
  koogallery::OpenApiClient client_;     // holds the SK, wipes it when destroyed
};

}  // namespace

Result<std::unique_ptr<Marketplace>> OpenMarketplace(const KooGalleryOpenApiConfig& config) {
  if (config.access_key.empty()) {
    return Error{ErrorCode::kInvalidArgument, "koogallery.open_api.access_key is empty"};
  }
  unsigned mode = 0;
  auto secret = vendor::ReadSecretFile(config.secret_key_file, kMaxSecretKeyFileSize, &mode);
  if (!secret) return secret.error();
  std::string_view text(reinterpret_cast<const char*>(secret->data()), secret->size());
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  if (text.empty()) {
    return Error{ErrorCode::kInvalidArgument, config.secret_key_file + ": the SK file is empty"};
  }
  if ((mode & 077U) != 0) {
    std::fprintf(stderr, "licagent-server: warning: %s can be read by other users; chmod 600 it\n",
                 config.secret_key_file.c_str());
  }
  koogallery::OpenApiConfig api;
  api.access_key = config.access_key;
  api.secret_key.assign(text.data(), text.size());  // wiped by the client's destructor
  api.hosts = config.hosts;
  api.utc_offset = std::chrono::minutes(config.utc_offset_minutes);
  koogallery::CurlTransportOptions transport;
  transport.ca_bundle = config.ca_bundle;
  transport.timeout_ms = static_cast<long>(config.timeout_seconds) * 1000;
  std::unique_ptr<Marketplace> market =
      std::make_unique<OpenApiMarketplace>(std::move(api), std::move(transport));
  // A short SK lives in the string itself, so a move copies it: wipe what is left here.
  api.secret_key.resize(api.secret_key.capacity());
  OPENSSL_cleanse(api.secret_key.data(), api.secret_key.size());
  return market;
}

}  // namespace licagent::server
