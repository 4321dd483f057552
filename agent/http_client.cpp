// One HTTPS POST through a libcurl loaded at run time (see http_client.h).
#include "agent/http_client.h"

// The fallback for libcurl before 7.85 uses CURLOPT_PROTOCOLS, deprecated since.
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "licagent/protocol.h"
#include "licagent_build_config.h"
#include "platform/platform.h"

namespace licagent::http {
namespace {

// The libcurl functions licagent calls, resolved once per process.
struct CurlApi {
  CURLcode (*global_init)(long flags) = nullptr;
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...) = nullptr;
  CURLcode (*easy_perform)(CURL* handle) = nullptr;
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...) = nullptr;
  void (*easy_cleanup)(CURL* handle) = nullptr;
  const char* (*easy_strerror)(CURLcode code) = nullptr;
  curl_slist* (*slist_append)(curl_slist* list, const char* text) = nullptr;
  void (*slist_free_all)(curl_slist* list) = nullptr;
};

std::once_flag g_once;
CurlApi g_api;
std::optional<Error> g_load_error;

template <typename Fn>
Status Resolve(const char* name, Fn* out) {
  auto address = platform::LoadSymbol(LICAGENT_CURL_LIBRARY, name);
  if (!address) return address.error();
  *out = reinterpret_cast<Fn>(*address);
  return Status::Ok();
}

Status LoadApi(CurlApi* api) {
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_global_init", &api->global_init));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_init", &api->easy_init));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_setopt", &api->easy_setopt));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_perform", &api->easy_perform));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_getinfo", &api->easy_getinfo));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_cleanup", &api->easy_cleanup));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_easy_strerror", &api->easy_strerror));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_slist_append", &api->slist_append));
  LICAGENT_RETURN_IF_ERROR(Resolve("curl_slist_free_all", &api->slist_free_all));
  if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Error{ErrorCode::kInternal, "curl_global_init failed"};
  }
  return Status::Ok();
}

Result<const CurlApi*> Api() {
  std::call_once(g_once, [] {
    CurlApi api;
    Status s = LoadApi(&api);
    if (!s) {
      Error e = s.error();
      e.code = ErrorCode::kUnsupported;
      e.message = "libcurl is needed to reach the server (" + e.message + ")";
      g_load_error = e;
      return;
    }
    g_api = api;
  });
  if (g_load_error) return *g_load_error;
  return &g_api;
}

struct Sink {
  std::string body;
  bool too_large = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > protocol::kMaxAnswerBody) {
    sink->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

// Owns an easy handle and its header list.
struct Handle {
  explicit Handle(const CurlApi* a) : api(a), curl(a->easy_init()) {}
  ~Handle() {
    if (headers != nullptr) api->slist_free_all(headers);
    if (curl != nullptr) api->easy_cleanup(curl);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  const CurlApi* api;
  CURL* curl;
  curl_slist* headers = nullptr;
};

Failure Fail(ErrorCode code, std::string message, bool transient = false) {
  return Failure{Error{code, std::move(message)}, transient};
}

// What a libcurl error means for the caller.
Failure Classify(CURLcode code, const std::string& detail, const std::string& url,
                 const OnlineConfig& config) {
  const std::string via = config.proxy.empty() || config.proxy == "none" || config.proxy == "direct"
                              ? ""
                              : " through the proxy " + config.proxy;
  const std::string what = detail.empty() ? "libcurl error " + std::to_string(code) : detail;
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CERTPROBLEM:
      return Fail(ErrorCode::kUntrusted,
                  "the server " + url + " is not trusted: its TLS certificate did not verify (" +
                      what + ")" +
                      (config.ca_bundle.empty() ? "" : "; CA bundle " + config.ca_bundle));
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return Fail(ErrorCode::kUntrusted, "the server " + url +
                                             " is not trusted: its public key does not match "
                                             "the pinned key (" +
                                             what + ")");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Fail(ErrorCode::kInvalidArgument, "the server URL " + url + " is unusable: " + what);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
      return Fail(ErrorCode::kUnavailable,
                  "cannot reach " + url + via + ": proxy failure (" + what + ")", true);
    case CURLE_COULDNT_RESOLVE_HOST:
      return Fail(ErrorCode::kUnavailable,
                  "cannot reach " + url + via + ": the host name does not resolve (" + what + ")",
                  true);
    case CURLE_COULDNT_CONNECT:
      return Fail(ErrorCode::kUnavailable,
                  "cannot reach " + url + via + ": cannot connect (" + what + ")", true);
    case CURLE_OPERATION_TIMEDOUT:
      return Fail(ErrorCode::kUnavailable,
                  "the server " + url + via + " did not answer in time (" + what + ")", true);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
      return Fail(ErrorCode::kUnavailable,
                  "the connection to " + url + via + " failed (" + what + ")", true);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return Fail(ErrorCode::kInternal, "libcurl failed: " + what);
    default:
      return Fail(ErrorCode::kUnavailable,
                  "the exchange with " + url + via + " failed (" + what + ")");
  }
}

}  // namespace

Outcome Post(const OnlineConfig& config, const std::string& url, std::string_view body,
             std::int64_t timeout_ms) {
  Outcome out;
  if (url.rfind("https://", 0) != 0) {
    out.failure =
        Fail(ErrorCode::kInvalidArgument, "the server URL must start with https://: " + url);
    return out;
  }
  auto api = Api();
  if (!api) {
    out.failure = Failure{api.error(), false};
    return out;
  }
  Handle h(*api);
  if (h.curl == nullptr) {
    out.failure = Fail(ErrorCode::kInternal, "curl_easy_init failed");
    return out;
  }
  const CurlApi& c = **api;
  char error_buffer[CURL_ERROR_SIZE] = {};
  Sink sink;
  const std::string user_agent = std::string("licagent/") + LICAGENT_VERSION;
  timeout_ms = std::max<std::int64_t>(timeout_ms, 1);
  const long connect_ms =
      static_cast<long>(std::clamp<std::int64_t>(config.connect_timeout_ms, 1, timeout_ms));

  h.headers = c.slist_append(h.headers, "Content-Type: application/json");
  if (h.headers != nullptr) h.headers = c.slist_append(h.headers, "Accept: application/json");
  if (h.headers != nullptr) h.headers = c.slist_append(h.headers, "Expect:");
  if (h.headers == nullptr) {
    out.failure = Fail(ErrorCode::kInternal, "curl_slist_append failed");
    return out;
  }

  // Every option must take: a security option that silently failed would fail open.
  CURLcode rc = CURLE_OK;
  const char* failed_option = nullptr;
  auto set = [&](const char* name, CURLoption option, auto value) {
    if (rc != CURLE_OK) return;
    rc = c.easy_setopt(h.curl, option, value);
    if (rc != CURLE_OK) failed_option = name;
  };
  set("ERRORBUFFER", CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer));
  set("URL", CURLOPT_URL, url.c_str());
  // https only, for the request and for any redirect (which are not followed anyway).
  rc = c.easy_setopt(h.curl, CURLOPT_PROTOCOLS_STR, "https");
  if (rc == CURLE_UNKNOWN_OPTION) {  // libcurl before 7.85
    rc = c.easy_setopt(h.curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS));
  }
  if (rc != CURLE_OK) failed_option = "PROTOCOLS";
  set("FOLLOWLOCATION", CURLOPT_FOLLOWLOCATION, 0L);
  set("NOSIGNAL", CURLOPT_NOSIGNAL, 1L);
  set("NOPROGRESS", CURLOPT_NOPROGRESS, 1L);
  set("SSL_VERIFYPEER", CURLOPT_SSL_VERIFYPEER, 1L);
  set("SSL_VERIFYHOST", CURLOPT_SSL_VERIFYHOST, 2L);
  set("SSLVERSION", CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!config.ca_bundle.empty()) set("CAINFO", CURLOPT_CAINFO, config.ca_bundle.c_str());
  if (!config.pinned_public_key.empty()) {
    set("PINNEDPUBLICKEY", CURLOPT_PINNEDPUBLICKEY, config.pinned_public_key.c_str());
  }
  if (config.proxy == "none" || config.proxy == "direct") {
    set("PROXY", CURLOPT_PROXY, "");  // "" disables every proxy, the environment's too
  } else if (!config.proxy.empty()) {
    set("PROXY", CURLOPT_PROXY, config.proxy.c_str());
  }
  set("CONNECTTIMEOUT_MS", CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  set("TIMEOUT_MS", CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  set("MAXFILESIZE", CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(protocol::kMaxAnswerBody));
  set("USERAGENT", CURLOPT_USERAGENT, user_agent.c_str());
  set("HTTPHEADER", CURLOPT_HTTPHEADER, h.headers);
  set("POST", CURLOPT_POST, 1L);
  set("POSTFIELDS", CURLOPT_POSTFIELDS, body.data());
  set("POSTFIELDSIZE", CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  using WriteFn = std::size_t (*)(char*, std::size_t, std::size_t, void*);
  set("WRITEFUNCTION", CURLOPT_WRITEFUNCTION, static_cast<WriteFn>(&WriteBody));
  set("WRITEDATA", CURLOPT_WRITEDATA, static_cast<void*>(&sink));
  if (rc != CURLE_OK) {
    const bool missing = rc == CURLE_NOT_BUILT_IN || rc == CURLE_UNKNOWN_OPTION;
    out.failure = Fail(missing ? ErrorCode::kUnsupported : ErrorCode::kInvalidArgument,
                       std::string("libcurl refused the option CURLOPT_") + failed_option + ": " +
                           c.easy_strerror(rc));
    return out;
  }

  rc = c.easy_perform(h.curl);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    out.failure =
        Fail(ErrorCode::kUnavailable, "the answer of " + url + " is larger than " +
                                          std::to_string(protocol::kMaxAnswerBody / 1024) + " KiB");
    return out;
  }
  if (rc != CURLE_OK) {
    out.failure =
        Classify(rc, error_buffer[0] != '\0' ? error_buffer : c.easy_strerror(rc), url, config);
    return out;
  }
  Response response;
  if (c.easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &response.status) != CURLE_OK) {
    out.failure = Fail(ErrorCode::kInternal, "libcurl gave no HTTP status");
    return out;
  }
  curl_off_t retry_after = 0;
  if (c.easy_getinfo(h.curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    response.retry_after_seconds = static_cast<std::int64_t>(retry_after);
  }
  response.body = std::move(sink.body);
  out.response = std::move(response);
  return out;
}

}  // namespace licagent::http
