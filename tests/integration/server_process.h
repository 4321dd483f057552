// A server of this repository (licagent-server, licagent-marketsim) as a real child process:
// started with `serve --port-file`, waited for until it listens, stopped with SIGTERM. Every
// wait is bounded; a failure to start or to stop cleanly fails the test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/catch.h"

extern char** environ;

namespace licagent::testing {

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteAll(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A port on 127.0.0.1 that was free a moment ago (bound and closed), for a server whose port
// must be known before it starts, e.g. to tell another server about it.
inline int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  close(fd);
  REQUIRE(ok);
  return ntohs(address.sin_port);
}

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() {
    if (pid_ != 0) Stop();
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Runs `argv` + `serve --port-file DIR/port`, standard error appended to DIR/NAME.err, and
  // waits at most 10 s for the port file.
  void Start(std::vector<std::string> argv, const std::filesystem::path& dir,
             const std::string& name) {
    REQUIRE(pid_ == 0);
    const std::filesystem::path port_file = dir / (name + ".port");
    err_ = dir / (name + ".err");
    std::filesystem::remove(port_file);
    argv.insert(argv.end(), {"serve", "--port-file", port_file.string()});
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    REQUIRE(posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 200 && ReadAll(port_file).empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(name << " standard error:\n" << ReadAll(err_));
    port_ = std::atoi(ReadAll(port_file).c_str());
    REQUIRE(port_ > 0);
  }

  // SIGTERM, then at most 10 s for a clean exit (else SIGKILL); checks it exited 0.
  void Stop() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && (done = waitpid(pid_, &status, WNOHANG)) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = 0;
    port_ = 0;
    INFO(ReadAll(err_));
    CHECK(done != 0);  // it stopped within 10 s of SIGTERM
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }

  int port() const { return port_; }
  const std::filesystem::path& stderr_file() const { return err_; }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
  std::filesystem::path err_;
};

}  // namespace licagent::testing
