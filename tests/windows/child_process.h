// Child processes for the multi-process Windows tests: windows_tests.exe starts copies of itself
// with a "--child-..." first argument (CreateProcessW), which main.cpp hands to RunTestChild
// instead of Catch2. Under Wine the children are Wine processes of the same wineserver.
#pragma once

#include <windows.h>

#include <chrono>
#include <string>
#include <vector>

namespace licagent::platform {

// The entry point of a child: runs the mode named by the first argument of this process's
// command line and returns its exit code (tests/windows/windows_multiprocess_test.cpp).
int RunTestChild();

// A running copy of this executable. The destructor terminates it if it is still running, so
// a failed REQUIRE in the parent leaves no child behind.
class ChildProcess {
 public:
  // Exit code given to a child terminated because its parent gave up on it.
  static constexpr UINT kAbandoned = 0xAB;

  // Starts this executable with `args` (after argv[0]), inheriting the parent's standard output
  // and error so that a child's complaints show in the test log. Throws (through REQUIRE) on
  // failure.
  explicit ChildProcess(const std::vector<std::wstring>& args);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess& operator=(ChildProcess&&) = delete;

  HANDLE handle() const { return process_; }
  // True once the process has exited, waiting at most `timeout`.
  bool Wait(std::chrono::milliseconds timeout) const;
  void Terminate(UINT exit_code) const;
  // The exit code; STILL_ACTIVE while running.
  DWORD ExitCode() const;

 private:
  HANDLE process_ = nullptr;
};

// A Win32 event whose name is unique to this process and `purpose`, so that a child
// can open it by the name given on its command line. Manual reset, initially not set.
class NamedEvent {
 public:
  explicit NamedEvent(const std::wstring& purpose);
  ~NamedEvent();
  NamedEvent(const NamedEvent&) = delete;
  NamedEvent& operator=(const NamedEvent&) = delete;

  const std::wstring& name() const { return name_; }
  HANDLE handle() const { return event_; }
  void Set() const;

 private:
  std::wstring name_;
  HANDLE event_ = nullptr;
};

}  // namespace licagent::platform
