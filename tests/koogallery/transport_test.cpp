// The open-API client's production transport (server/koogallery/curl_transport.h) against real
// TLS servers on loopback (cpp-httplib with the tls_pki fixture's certificates) and against the
// real licagent-marketsim: strict certificate and host-name checks, timeouts, the size cap, the
// fallback to a second host. Every wait is bounded.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "server/koogallery/curl_transport.h"
#include "server/koogallery/open_api.h"
#include "tests/catch.h"
#include "tests/marketsim/marketsim_process.h"

using namespace licagent;
using namespace licagent::koogallery;
using licagent::testing::kMarketsimPki;
using licagent::testing::Marketsim;

namespace {

std::string Pki(const std::string& name) { return kMarketsimPki + "/" + name; }

// An HTTPS server on `address` (any 127.x.y.z works on Linux) with certificate `cert`.
class Server {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  Server(Handler handler, const std::string& cert = "server",
         const std::string& address = "127.0.0.1")
      : server_(Pki(cert + ".crt").c_str(), Pki(cert + ".key").c_str()) {
    REQUIRE(server_.is_valid());
    server_.Post(R"(/.*)", std::move(handler));
    port_ = server_.bind_to_any_port(address);
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(server_.is_running());
  }
  ~Server() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

// A port nothing listens on: bound to get a free number, then closed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(bound);
  return ntohs(addr.sin_port);
}

HttpRequest Post(const std::string& host_port, const std::string& body = "{}") {
  HttpRequest r;
  r.method = "POST";
  r.url = "https://" + host_port + "/api/test";
  r.headers.emplace("Content-Type", "application/json");
  r.headers.emplace("X-Test", "1");
  r.body = body;
  return r;
}

CurlTransportOptions Trusting(long timeout_ms = 5000) {
  CurlTransportOptions o;
  o.ca_bundle = Pki("ca.crt");
  o.timeout_ms = timeout_ms;
  return o;
}

std::string At(int port, const std::string& host = "127.0.0.1") {
  return host + ":" + std::to_string(port);
}

}  // namespace

TEST_CASE("curl transport: a POST with its headers and body, the answer's status and body",
          "[koogallery][transport]") {
  std::mutex mu;
  std::string got_body, got_header, got_type;
  Server server([&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    got_body = req.body;
    got_header = req.get_header_value("X-Test");
    got_type = req.get_header_value("Content-Type");
    res.status = 201;
    res.set_content(R"({"error_code":"92020000"})", "application/json");
  });
  CurlTransport transport(Trusting());
  auto r = transport.Send(Post(At(server.port()), R"({"license":"PL1"})"));
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == R"({"error_code":"92020000"})");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(got_body == R"({"license":"PL1"})");
  CHECK(got_header == "1");
  CHECK(got_type == "application/json");
}

TEST_CASE("curl transport: a certificate from an untrusted CA is refused as untrusted",
          "[koogallery][transport]") {
  Server server([](const httplib::Request&,
                   httplib::Response& res) { res.set_content("{}", "application/json"); },
                "other-server");
  CurlTransport transport(Trusting());
  auto r = transport.Send(Post(At(server.port())));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUntrusted);
  // Nor does the system store trust the test CA.
  CurlTransport system_store(CurlTransportOptions{});
  auto s = system_store.Send(Post(At(server.port())));
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kUntrusted);
}

TEST_CASE("curl transport: a certificate for another host name is refused",
          "[koogallery][transport]") {
  // server.crt names 127.0.0.1 and localhost, not 127.0.0.2.
  Server server([](const httplib::Request&,
                   httplib::Response& res) { res.set_content("{}", "application/json"); },
                "server", "127.0.0.2");
  CurlTransport transport(Trusting());
  auto r = transport.Send(Post(At(server.port(), "127.0.0.2")));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUntrusted);
}

TEST_CASE("curl transport: no answer within the timeout is unavailable",
          "[koogallery][transport]") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Server server([&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    res.set_content("{}", "application/json");
  });
  CurlTransport transport(Trusting(300));
  auto r = transport.Send(Post(At(server.port())));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("in time") != std::string::npos);
}

TEST_CASE("curl transport: an answer over the size cap is refused", "[koogallery][transport]") {
  const std::string big(64 * 1024, 'x');
  Server server([&](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/api/chunked") {  // no Content-Length: the cap is enforced while reading
      res.set_chunked_content_provider("application/json",
                                       [&](size_t offset, httplib::DataSink& sink) {
                                         if (offset >= 4 * big.size()) {
                                           sink.done();
                                         } else {
                                           sink.write(big.data(), big.size());
                                         }
                                         return true;
                                       });
    } else {
      res.set_content(big + big, "application/json");
    }
  });
  CurlTransportOptions o = Trusting();
  o.max_body = 100 * 1024;
  CurlTransport transport(o);
  auto r = transport.Send(Post(At(server.port())));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("more than 102400 bytes") != std::string::npos);
  HttpRequest chunked = Post(At(server.port()));
  chunked.url = "https://" + At(server.port()) + "/api/chunked";
  auto c = transport.Send(chunked);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == ErrorCode::kUnavailable);
  // Under the cap it passes.
  o.max_body = 1 << 20;
  CurlTransport roomy(o);
  auto ok = roomy.Send(Post(At(server.port())));
  REQUIRE(ok);
  CHECK(ok->body.size() == 2 * big.size());
}

TEST_CASE("curl transport: refused connections and bad URLs", "[koogallery][transport]") {
  CurlTransport transport(Trusting(2000));
  auto r = transport.Send(Post(At(ClosedPort())));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  HttpRequest plain = Post("127.0.0.1:1");
  plain.url = "http://127.0.0.1:1/api";
  auto p = transport.Send(plain);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("curl transport: the open-API client against licagent-marketsim, with the fallback host",
          "[koogallery][transport][marketsim]") {
  Marketsim sim;
  const nlohmann::json created = sim.Admin(
      "/admin/codes", {{"product_id", "licagent-demo"}, {"amount", 3}, {"valid_days", 30}}, 201);
  const std::string code = created["code"];
  CurlTransport transport(Trusting());
  OpenApiConfig config;
  config.access_key = testing::kMarketsimAk;
  config.secret_key = testing::kMarketsimSk;
  // The first host refuses connections, as an unreachable .com would: the second answers.
  config.hosts = {At(ClosedPort()), At(sim.port())};
  OpenApiClient client(config, transport);
  auto not_claimed = client.ActivateV1(code);
  REQUIRE(not_claimed);
  CHECK(not_claimed->outcome == MarketOutcome::kNotClaimed);
  sim.Admin("/admin/codes/" + code + "/claim", nlohmann::json::object());
  auto activated = client.ActivateV1(code);
  REQUIRE(activated);
  CHECK(activated->outcome == MarketOutcome::kSuccess);
  REQUIRE(activated->info);
  CHECK(activated->info->amount == 3);
  auto queried = client.QueryV1(code);
  REQUIRE(queried);
  CHECK(queried->outcome == MarketOutcome::kSuccess);
  REQUIRE(queried->info);
  CHECK(queried->info->status == CodeStatus::kAlive);
  auto usage = client.ReportUsage({{code, {{std::nullopt, 2}}}});
  REQUIRE(usage);
  CHECK(usage->outcome == MarketOutcome::kSuccess);

  // The simulator's certificate from a transport that does not trust the test CA: untrusted,
  // and not retried on the next host.
  CurlTransport distrustful(CurlTransportOptions{});
  config.hosts = {At(sim.port()), At(sim.port())};
  OpenApiClient wary(config, distrustful);
  auto refused = wary.QueryV1(code);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUntrusted);

  // A wrong SK reaches the gateway, which refuses: an auth failure, not a transport error.
  config.secret_key = "not-the-secret-key";
  OpenApiClient wrong(config, transport);
  auto denied = wrong.QueryV1(code);
  REQUIRE(denied);
  CHECK(denied->outcome == MarketOutcome::kAuthFailure);
}
