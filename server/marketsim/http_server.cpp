#include "server/marketsim/http_server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "server/activation/access_log.h"
#include "server/marketsim/admin.h"
#include "server/marketsim/book.h"
#include "server/marketsim/callbacks.h"
#include "server/marketsim/open_api.h"
#include "server/vendor/files.h"

namespace licagent::marketsim {
namespace {

constexpr std::size_t kMaxBody = 1024 * 1024;

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

HttpRequest FromHttplib(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  const auto q = req.target.find('?');
  r.path = req.target.substr(0, q);
  if (q != std::string::npos) r.raw_query = req.target.substr(q + 1);
  for (const auto& [name, value] : req.headers) {
    // httplib adds these for its own bookkeeping; they were not sent.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    r.headers.emplace(name, value);
  }
  r.body = req.body;
  r.remote_addr = req.remote_addr;
  return r;
}

}  // namespace

Status Serve(const Config& config, const ServeOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Book book(config.state_file);
  LICAGENT_RETURN_IF_ERROR(book.Load());
  server::AccessLog log;
  LICAGENT_RETURN_IF_ERROR(log.Open(config.access_log));

  const Clock clock = [] { return std::chrono::system_clock::now(); };
  OpenApi api(config, book, clock);
  Dispatcher dispatcher(config.vendor, HttpsTransport(config.vendor), [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  });
  Admin admin(config, book, api, dispatcher, clock);

  std::string tls_error;
  httplib::SSLServer http([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, config.tls_certificate.c_str()) != 1) {
      tls_error = config.tls_certificate + ": " + OpenSslError();
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(&ctx, config.tls_private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      tls_error = config.tls_private_key + ": " + OpenSslError();
      return false;
    }
    return true;
  });
  if (!http.is_valid()) {
    return Error{ErrorCode::kInvalidArgument,
                 tls_error.empty() ? "cannot set up TLS: " + OpenSslError() : tls_error};
  }
  const auto threads = static_cast<std::size_t>(config.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(kMaxBody);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  const auto dispatch = [&](const httplib::Request& req, httplib::Response& res) {
    const HttpRequest request = FromHttplib(req);
    HttpReply reply;
    if (request.path == "/admin" || request.path.rfind("/admin/", 0) == 0) {
      reply = admin.Handle(request);
    } else {
      reply = api.Handle(request);
    }
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
    res.set_header("X-Marketsim-Error", reply.error_code);
  };
  http.Get(".*", dispatch);
  http.Post(".*", dispatch);
  http.Put(".*", dispatch);
  http.Delete(".*", dispatch);
  http.Patch(".*", dispatch);
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"error_code":"92020001","error_msg":"internal error"})",
                        "application/json");
      });
  http.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    server::AccessRecord r;
    r.remote_address = req.remote_addr;
    r.method = req.method;
    r.path = req.path;  // never the query: callback-style signatures stay out of logs
    r.status = res.status;
    r.error_code = res.get_header_value("X-Marketsim-Error");
    log.Write(r);
  });

  int port = config.listen_port;
  if (port == 0) {
    port = http.bind_to_any_port(config.listen_host);
    if (port <= 0) return Error{ErrorCode::kUnavailable, "cannot listen on " + config.listen_host};
  } else if (!http.bind_to_port(config.listen_host, port)) {
    return Error{ErrorCode::kUnavailable,
                 "cannot listen on " + config.listen_host + ":" + std::to_string(port)};
  }
  if (!options.port_file.empty()) {
    LICAGENT_RETURN_IF_ERROR(
        vendor::ReplaceFile(options.port_file, std::to_string(port) + "\n", 0644));
  }
  dispatcher.Start();
  std::fprintf(stderr, "licagent-marketsim: listening on https://%s:%d, callbacks to %s\n",
               config.listen_host.c_str(), port,
               config.vendor.url.empty() ? "(none)" : config.vendor.url.c_str());

  std::atomic<bool> done{false};
  std::thread waiter([&] {
    bool stopping = false;
    const timespec tick{0, 100 * 1000 * 1000};
    while (!done) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig > 0 && !stopping) {
        stopping = true;
        dispatcher.Stop();  // releases admin calls waiting for deliveries
      }
      if (stopping) http.stop();  // repeated until listen returns: an early stop is not lost
    }
  });
  const bool listened = http.listen_after_bind();
  done = true;
  waiter.join();
  dispatcher.Stop();
  if (!listened) return Error{ErrorCode::kUnavailable, "the listen loop failed"};
  std::fprintf(stderr, "licagent-marketsim: stopped\n");
  return Status::Ok();
}

}  // namespace licagent::marketsim
