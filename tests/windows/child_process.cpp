// Child processes for the multi-process Windows tests (see child_process.h).
#include "tests/windows/child_process.h"

#include <string>
#include <utility>
#include <vector>

#include "tests/catch.h"

namespace licagent::platform {
namespace {

// `arg` quoted for CommandLineToArgvW and the C runtime: backslashes are literal except before
// a double quote, where they are doubled.
std::wstring Quote(const std::wstring& arg) {
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    out.append(c == L'"' ? 2 * backslashes + 1 : backslashes, L'\\');
    backslashes = 0;
    out += c;
  }
  out.append(2 * backslashes, L'\\');
  out += L'"';
  return out;
}

std::wstring SelfPath() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD length = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    REQUIRE(length > 0);
    if (length < path.size()) {
      path.resize(length);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// A standard handle the child may inherit, or null.
HANDLE Inheritable(DWORD which) {
  HANDLE handle = GetStdHandle(which);
  if (handle == nullptr || handle == INVALID_HANDLE_VALUE) return nullptr;
  if (!SetHandleInformation(handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) return nullptr;
  return handle;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::wstring>& args) {
  const std::wstring self = SelfPath();
  std::wstring command_line = Quote(self);
  for (const std::wstring& arg : args) command_line += L" " + Quote(arg);

  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = nullptr;
  startup.hStdOutput = Inheritable(STD_OUTPUT_HANDLE);
  startup.hStdError = Inheritable(STD_ERROR_HANDLE);
  PROCESS_INFORMATION info{};
  // Only the standard handles are inheritable: everything this code opens is not.
  const BOOL created =
      CreateProcessW(self.c_str(), command_line.data(), nullptr, nullptr,
                     /*bInheritHandles=*/TRUE, 0, nullptr, nullptr, &startup, &info);
  INFO("CreateProcessW error " << GetLastError());
  REQUIRE(created);
  CloseHandle(info.hThread);
  process_ = info.hProcess;
}

ChildProcess::~ChildProcess() {
  if (process_ == nullptr) return;
  if (ExitCode() == STILL_ACTIVE) {
    TerminateProcess(process_, kAbandoned);
    WaitForSingleObject(process_, 10'000);
  }
  CloseHandle(process_);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : process_(std::exchange(other.process_, nullptr)) {}

bool ChildProcess::Wait(std::chrono::milliseconds timeout) const {
  return WaitForSingleObject(process_, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
}

void ChildProcess::Terminate(UINT exit_code) const {
  // Fails (ERROR_ACCESS_DENIED) once the process has exited; callers check the exit code.
  TerminateProcess(process_, exit_code);
}

DWORD ChildProcess::ExitCode() const {
  DWORD code = 0;
  if (!GetExitCodeProcess(process_, &code)) return STILL_ACTIVE;
  return code;
}

NamedEvent::NamedEvent(const std::wstring& purpose) {
  static int counter = 0;
  name_ = L"Local\\licagent-test-" + std::to_wstring(GetCurrentProcessId()) + L"-" + purpose +
          L"-" + std::to_wstring(++counter);
  event_ = CreateEventW(nullptr, /*bManualReset=*/TRUE, /*bInitialState=*/FALSE, name_.c_str());
  INFO("CreateEventW error " << GetLastError());
  REQUIRE(event_ != nullptr);
}

NamedEvent::~NamedEvent() { CloseHandle(event_); }

void NamedEvent::Set() const { REQUIRE(SetEvent(event_)); }

}  // namespace licagent::platform
