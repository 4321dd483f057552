// The production Transport of the open-API client (open_api.h): libcurl over HTTPS with strict
// TLS — the peer certificate and the host name are always verified, TLS 1.2 or later, and
// there is no option to turn either off. See docs/koogallery.md "The transport".
#pragma once

#include <cstddef>
#include <string>

#include "server/koogallery/open_api.h"

namespace licagent::koogallery {

struct CurlTransportOptions {
  std::string ca_bundle;           // PEM file of trusted CAs; "" = the system store
  long timeout_ms = 5000;          // per attempt (connect, TLS, request and answer)
  std::size_t max_body = 1 << 20;  // a longer answer is refused (kUnavailable)
};

// Thread-safe: every Send uses its own libcurl handle. Proxies: libcurl's defaults, i.e. the
// environment's HTTPS_PROXY / https_proxy and NO_PROXY are honoured.
class CurlTransport : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions options);

  // Errors: kUnavailable when no answer arrived (DNS, connect, TLS handshake, timeout, proxy,
  // an answer over max_body); kUntrusted when the certificate or the host name did not verify
  // (or the CA bundle is unusable); kInvalidArgument for a URL that is not https; kInternal if
  // libcurl fails.
  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  CurlTransportOptions options_;
};

}  // namespace licagent::koogallery
