#include "server/koogallery/curl_transport.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <utility>

namespace licagent::koogallery {
namespace {

struct Sink {
  std::string body;
  std::size_t max = 0;
  bool too_large = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

Error Classify(CURLcode code, const char* detail, const std::string& url,
               const CurlTransportOptions& options) {
  const std::string what = (detail != nullptr && *detail != '\0')
                               ? std::string(detail)
                               : std::string(curl_easy_strerror(code));
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CERTPROBLEM:
      return Error{ErrorCode::kUntrusted,
                   "the marketplace " + url +
                       " is not trusted: its TLS certificate did not verify (" + what + ")" +
                       (options.ca_bundle.empty() ? "" : "; CA bundle " + options.ca_bundle)};
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Error{ErrorCode::kInvalidArgument,
                   "the marketplace URL " + url + " is unusable: " + what};
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return Error{ErrorCode::kInternal, "libcurl failed: " + what};
    case CURLE_OPERATION_TIMEDOUT:
      return Error{ErrorCode::kUnavailable,
                   "the marketplace " + url + " did not answer in time (" + what + ")"};
    default:  // DNS, connect, proxy, TLS handshake, send/receive
      return Error{ErrorCode::kUnavailable,
                   "no answer from the marketplace " + url + " (" + what + ")"};
  }
}

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  if (request.url.rfind("https://", 0) != 0) {
    return Error{ErrorCode::kInvalidArgument, "the marketplace URL must be https: " + request.url};
  }
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return Error{ErrorCode::kInternal, "libcurl: curl_easy_init failed"};
  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return Error{ErrorCode::kInternal, "libcurl: out of memory"};
    static_cast<void>(headers.release());
    headers.reset(next);
  }
  // libcurl adds "Expect: 100-continue" to large POSTs; the gateway has no use for it.
  {
    curl_slist* next = curl_slist_append(headers.get(), "Expect:");
    if (next == nullptr) return Error{ErrorCode::kInternal, "libcurl: out of memory"};
    static_cast<void>(headers.release());
    headers.reset(next);
  }
  Sink sink;
  sink.max = options_.max_body;
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* h = curl.get();
  CURLcode rc = CURLE_OK;
  const char* failed = nullptr;
  const auto set = [&](const char* name, CURLoption option, auto value) {
    if (rc != CURLE_OK) return;
    rc = curl_easy_setopt(h, option, value);
    if (rc != CURLE_OK) failed = name;
  };
  set("ERRORBUFFER", CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer));
  set("URL", CURLOPT_URL, request.url.c_str());
  set("PROTOCOLS_STR", CURLOPT_PROTOCOLS_STR, "https");
  set("FOLLOWLOCATION", CURLOPT_FOLLOWLOCATION, 0L);
  set("NOSIGNAL", CURLOPT_NOSIGNAL, 1L);
  set("SSL_VERIFYPEER", CURLOPT_SSL_VERIFYPEER, 1L);
  set("SSL_VERIFYHOST", CURLOPT_SSL_VERIFYHOST, 2L);
  set("SSLVERSION", CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!options_.ca_bundle.empty()) set("CAINFO", CURLOPT_CAINFO, options_.ca_bundle.c_str());
  set("TIMEOUT_MS", CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  set("CONNECTTIMEOUT_MS", CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
  set("MAXFILESIZE", CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body));
  set("USERAGENT", CURLOPT_USERAGENT, "licagent-server");
  set("HTTPHEADER", CURLOPT_HTTPHEADER, headers.get());
  set("CUSTOMREQUEST", CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST" || !request.body.empty()) {
    set("POSTFIELDS", CURLOPT_POSTFIELDS, request.body.data());
    set("POSTFIELDSIZE", CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  using WriteFn = std::size_t (*)(char*, std::size_t, std::size_t, void*);
  set("WRITEFUNCTION", CURLOPT_WRITEFUNCTION, static_cast<WriteFn>(&WriteBody));
  set("WRITEDATA", CURLOPT_WRITEDATA, static_cast<void*>(&sink));
  if (rc != CURLE_OK) {
    return Error{ErrorCode::kInternal, std::string("libcurl refused the option CURLOPT_") + failed +
                                           ": " + curl_easy_strerror(rc)};
  }
  rc = curl_easy_perform(h);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return Error{ErrorCode::kUnavailable, "the marketplace " + request.url +
                                              " answered with more than " +
                                              std::to_string(options_.max_body) + " bytes"};
  }
  if (rc != CURLE_OK) return Classify(rc, error_buffer, request.url, options_);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  return HttpResponse{static_cast<int>(status), std::move(sink.body)};
}

}  // namespace licagent::koogallery
