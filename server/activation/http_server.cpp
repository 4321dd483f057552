// The HTTP layer: routes, limits, JSON error bodies for everything httplib refuses by itself,
// and the access log. Handlers never let an exception reach httplib.
#include "server/activation/http_server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include "licagent/protocol.h"
#include "server/activation/access_log.h"
#include "server/activation/market_callbacks.h"
#include "server/activation/service.h"
#include "server/activation/sqlite_store.h"
#include "server/vendor/files.h"
#include "server/vendor/signer.h"

namespace licagent::server {
namespace {

using protocol::RemoteError;

constexpr int kReadTimeoutSeconds = 5;
constexpr int kWriteTimeoutSeconds = 5;
constexpr int kKeepAliveSeconds = 5;
constexpr int kKeepAliveMaxRequests = 100;

// What the access log needs beyond httplib's Request/Response. httplib serves a connection on
// one worker thread from routing to logging, so a thread-local carries it.
struct RequestContext {
  bool started = false;
  std::chrono::steady_clock::time_point start;
  std::string error_code;
  std::string credential_id;
  std::string license_id;
};
thread_local RequestContext t_request;

struct Route {
  const char* path;
  const char* method;
};
constexpr Route kRoutes[] = {
    {"/v1/activate", "POST"}, {"/v1/refresh", "POST"}, {"/v1/deactivate", "POST"},
    {"/v1/offline", "POST"},  {"/v1/health", "GET"},
};

void SendCallback(httplib::Response& res, const CallbackReply& reply) {
  res.status = reply.status;
  res.set_header("Body-Sign", reply.body_sign);
  if (!reply.allow.empty()) res.set_header("Allow", reply.allow);
  res.set_content(reply.body, "application/json");
  if (reply.result_code != "000000") t_request.error_code = reply.result_code;
}

void Send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
  if (reply.retry_after > 0) res.set_header("Retry-After", std::to_string(reply.retry_after));
  t_request.error_code = reply.error_code;
  t_request.credential_id = reply.credential_id;
  t_request.license_id = reply.license_id;
}

std::string OpenSslError() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

Result<vendor::SigningKey> LoadSigningKey(const ServerConfig& config) {
  if (!vendor::ValidKeyId(config.signing_key_id)) {
    return Error{ErrorCode::kInvalidArgument, "signing_key.key_id '" + config.signing_key_id +
                                                  "' is not 1-64 of A-Z a-z 0-9 . _ -"};
  }
  unsigned mode = 0;
  auto pem = vendor::ReadSecretFile(config.signing_key_file, vendor::kMaxPrivateKeyFileSize, &mode);
  if (!pem) return pem.error();
  auto key = vendor::SigningKey::FromPem(pem->view());
  if (!key) {
    Error e = key.error();
    e.message = config.signing_key_file + ": " + e.message;
    return e;
  }
  if ((mode & 077U) != 0) {
    std::fprintf(stderr, "licagent-server: warning: %s can be read by other users; chmod 600 it\n",
                 config.signing_key_file.c_str());
  }
  return key;
}

class Server {
 public:
  Server(const ServerConfig& config, ActivationService& service, AccessLog& log,
         MarketCallbacks* callbacks)
      : config_(config), service_(service), log_(log), callbacks_(callbacks) {}

  Status Setup() {
    std::string tls_error;
    http_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(
          &ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
      if (SSL_CTX_use_certificate_chain_file(&ctx, config_.tls_certificate.c_str()) != 1) {
        tls_error = config_.tls_certificate + ": " + OpenSslError();
        return false;
      }
      if (SSL_CTX_use_PrivateKey_file(&ctx, config_.tls_private_key.c_str(), SSL_FILETYPE_PEM) !=
              1 ||
          SSL_CTX_check_private_key(&ctx) != 1) {
        tls_error = config_.tls_private_key + ": " + OpenSslError();
        return false;
      }
      return true;
    });
    if (!http_->is_valid()) {
      return Error{ErrorCode::kInvalidArgument,
                   tls_error.empty() ? "cannot set up TLS: " + OpenSslError() : tls_error};
    }
    httplib::Server& s = *http_;
    const auto threads = static_cast<std::size_t>(config_.threads);
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_payload_max_length(protocol::kMaxRequestBody);
    s.set_read_timeout(kReadTimeoutSeconds, 0);
    s.set_write_timeout(kWriteTimeoutSeconds, 0);
    s.set_keep_alive_timeout(kKeepAliveSeconds);
    s.set_keep_alive_max_count(kKeepAliveMaxRequests);
    // httplib writes an answer's headers and body in separate TLS records: with Nagle's
    // algorithm the second waits for the client's delayed ACK, ≈ 40 ms on every request
    // (docs/performance.md, "The activation server").
    s.set_tcp_nodelay(true);
    s.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      t_request = RequestContext{};
      t_request.started = true;
      t_request.start = std::chrono::steady_clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    const auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      Dispatch(req, res);
    };
    s.Get(".*", dispatch);
    s.Post(".*", dispatch);
    s.Put(".*", dispatch);
    s.Patch(".*", dispatch);
    s.Delete(".*", dispatch);
    s.Options(".*", dispatch);
    s.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty())
            return httplib::Server::HandlerResponse::Unhandled;  // ours already
          if (IsCallback(req.path)) {  // the marketplace reads resultCode, not the status
            const int status = res.status;
            SendCallback(res, callbacks_->Refusal(status == 413 ? "the body is too large"
                                                                : "the request is not valid"));
            res.status = status;
            return httplib::Server::HandlerResponse::Handled;
          }
          RemoteError error = RemoteError::kMalformedRequest;
          const char* message = "the request is not valid HTTP";
          if (res.status == 413) {
            error = RemoteError::kTooLarge;
            message = "the body is over 16 KiB";
          } else if (res.status == 404) {
            error = RemoteError::kNotFound;
            message = "no such endpoint";
          } else if (res.status == 405) {
            error = RemoteError::kMethodNotAllowed;
            message = "method not allowed";
          } else if (res.status >= 500) {
            error = RemoteError::kInternal;
            message = "internal error";
          }
          Reply r = ErrorReply(error, message);
          r.status = res.status;  // keep httplib's status (e.g. 414) with our body
          Send(res, r);
          return httplib::Server::HandlerResponse::Handled;
        }));
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          Send(res, ErrorReply(RemoteError::kInternal, "internal error"));
        });
    s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      AccessRecord r;
      r.remote_address = req.remote_addr;
      r.method = req.method;
      r.path = req.path;
      r.status = res.status;
      if (t_request.started) {
        r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                  t_request.start)
                            .count();
      }
      r.error_code = t_request.error_code;
      r.credential_id = t_request.credential_id;
      r.license_id = t_request.license_id;
      log_.Write(r);
      t_request = RequestContext{};
    });
    return Status::Ok();
  }

  Result<int> Bind() {
    if (config_.listen_port == 0) {
      const int port = http_->bind_to_any_port(config_.listen_host);
      if (port <= 0) return BindError();
      return port;
    }
    if (!http_->bind_to_port(config_.listen_host, config_.listen_port)) return BindError();
    return config_.listen_port;
  }

  // Blocks until Stop().
  bool Listen() { return http_->listen_after_bind(); }

  void Stop() {
    shutting_down_ = true;
    http_->stop();
  }

 private:
  Error BindError() const {
    return Error{ErrorCode::kUnavailable, "cannot listen on " + config_.listen_host + ":" +
                                              std::to_string(config_.listen_port) +
                                              " (in use, or not an address of this machine)"};
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    try {
      if (auto limited = service_.LimitAddress(req.remote_addr)) return Send(res, *limited);
      if (IsCallback(req.path)) {
        const auto q = req.target.find('?');
        const std::string_view query = q == std::string::npos
                                           ? std::string_view()
                                           : std::string_view(req.target).substr(q + 1);
        return SendCallback(res, callbacks_->Handle(req.method, query, req.body));
      }
      const Route* route = nullptr;
      for (const Route& r : kRoutes) {
        if (req.path == r.path) route = &r;
      }
      if (route == nullptr) {
        return Send(res, ErrorReply(RemoteError::kNotFound, "no endpoint " + req.path));
      }
      const bool is_get = req.method == "GET" || req.method == "HEAD";
      if (route->method == std::string_view("GET") ? !is_get : req.method != route->method) {
        res.set_header("Allow", route->method);
        return Send(res, ErrorReply(RemoteError::kMethodNotAllowed,
                                    req.path + " takes " + route->method + ", not " + req.method));
      }
      if (req.body.size() > protocol::kMaxRequestBody) {
        return Send(res, ErrorReply(RemoteError::kTooLarge, "the body is over 16 KiB"));
      }
      const std::string_view path = req.path;
      if (path == "/v1/health") return Send(res, service_.Health(shutting_down_));
      if (path == "/v1/activate") return Send(res, service_.Activate(req.body));
      if (path == "/v1/refresh") return Send(res, service_.Refresh(req.body));
      if (path == "/v1/deactivate") return Send(res, service_.Deactivate(req.body));
      if (path == "/v1/offline") return Send(res, service_.Offline(req.body));
      Send(res, ErrorReply(RemoteError::kNotFound, "no endpoint " + req.path));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "licagent-server: internal error on %s: %s\n", req.path.c_str(),
                   e.what());
      Send(res, ErrorReply(RemoteError::kInternal, "internal error"));
    }
  }

  bool IsCallback(const std::string& path) const {
    return callbacks_ != nullptr && path == config_.koogallery->callback->path;
  }

  const ServerConfig& config_;
  ActivationService& service_;
  AccessLog& log_;
  MarketCallbacks* callbacks_;  // null: no callback endpoint
  std::unique_ptr<httplib::SSLServer> http_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace

Status Serve(const ServerConfig& config, const ServeOptions& options) {
  // Block the stop signals before any thread exists, so every thread inherits the mask and only
  // the waiter below receives them. SIGPIPE from a client that went away is ignored.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto key = LoadSigningKey(config);
  if (!key) return key.error();
  auto store = OpenSqliteStore(config.storage_path, config.threads);
  if (!store) return store.error();
  AccessLog log;
  LICAGENT_RETURN_IF_ERROR(log.Open(config.access_log));
  // KooGallery's open API, for authorization codes: the SK is read now and wiped at exit.
  std::unique_ptr<Marketplace> market;
  if (config.koogallery && config.koogallery->open_api) {
    auto opened = OpenMarketplace(*config.koogallery->open_api);
    if (!opened) return opened.error();
    market = std::move(*opened);
  }
  ActivationService service(config, **store, *key, nullptr, market.get());
  // The marketplace's callbacks, when configured: the key is read now (wiped at exit).
  std::unique_ptr<MarketCallbacks> callbacks;
  if (config.koogallery && config.koogallery->callback) {
    auto callback_key = LoadCallbackKey(config.koogallery->callback->access_key_file);
    if (!callback_key) return callback_key.error();
    callbacks = std::make_unique<MarketCallbacks>(config, **store, *key, std::move(*callback_key));
  }
  Server server(config, service, log, callbacks.get());
  LICAGENT_RETURN_IF_ERROR(server.Setup());
  auto port = server.Bind();
  if (!port) return port.error();
  if (!options.port_file.empty()) {
    LICAGENT_RETURN_IF_ERROR(
        vendor::ReplaceFile(options.port_file, std::to_string(*port) + "\n", 0644));
  }
  std::fprintf(stderr, "licagent-server: listening on https://%s:%d (%d threads, store %s)\n",
               config.listen_host.c_str(), *port, config.threads, config.storage_path.c_str());

  std::atomic<bool> done{false};
  std::thread waiter([&] {
    bool stopping = false;
    const timespec tick{0, 100 * 1000 * 1000};
    while (!done) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig > 0 && !stopping) {
        stopping = true;
        std::fprintf(stderr, "licagent-server: %s: finishing requests in flight, then stopping\n",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
      }
      // Repeated until Listen() returns: a stop that lands before the listen loop has started
      // would otherwise be lost.
      if (stopping) server.Stop();
    }
  });
  const bool listened = server.Listen();
  done = true;
  waiter.join();
  // The store and the log close when they go out of scope, after every worker has finished.
  if (!listened) return Error{ErrorCode::kUnavailable, "the listen loop failed"};
  std::fprintf(stderr, "licagent-server: stopped\n");
  return Status::Ok();
}

}  // namespace licagent::server
