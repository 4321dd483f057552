// An in-process HTTPS server for the online client's tests (cpp-httplib over the ctest tls_pki
// fixture's certificates), on 127.0.0.1 with an ephemeral port. Each test scripts the answers.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/catch.h"

namespace licagent::testing {

inline std::string PkiFile(const std::string& name) {
  return std::string(LICAGENT_TEST_PKI_DIR) + "/" + name;
}

struct Reply {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds delay{0};
};

class TestServer {
 public:
  // (path, body, 1-based request number) → the reply.
  using Handler = std::function<Reply(const std::string&, const std::string&, int)>;

  explicit TestServer(Handler handler, const std::string& cert = "server")
      : handler_(std::move(handler)),
        server_(PkiFile(cert + ".crt").c_str(), PkiFile(cert + ".key").c_str()) {
    REQUIRE(server_.is_valid());
    server_.Post(R"(/v1/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      const int n = ++hits_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        paths_.push_back(req.path);
        bodies_.push_back(req.body);
        user_agents_.push_back(req.get_header_value("User-Agent"));
      }
      Reply r = handler_(req.path, req.body, n);
      if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k, v);
      res.set_content(r.body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(server_.is_running());
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int hits() const { return hits_; }
  std::vector<std::string> paths() {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> user_agents() {
    std::lock_guard<std::mutex> lock(mu_);
    return user_agents_;
  }

 private:
  Handler handler_;
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> hits_{0};
  std::mutex mu_;
  std::vector<std::string> paths_;
  std::vector<std::string> bodies_;
  std::vector<std::string> user_agents_;
};

// A port on 127.0.0.1 where nothing listens any more: a server listened there and stopped.
inline int ClosedPort() {
  httplib::Server s;
  const int port = s.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread t([&s] { s.listen_after_bind(); });
  for (int i = 0; i < 200 && !s.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.stop();
  t.join();
  return port;
}

}  // namespace licagent::testing
