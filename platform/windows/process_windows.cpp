// platform::ConfigDir, CurrentExecutable and SpawnDetached for Windows.
#include <shlobj.h>
#include <windows.h>

#include <memory>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "platform/windows/win_error.h"
#include "platform/windows/win_text.h"

namespace licagent::platform {

namespace fs = std::filesystem;

namespace {

// One argument quoted the way CommandLineToArgvW and the C runtime split it back.
void AppendQuoted(const std::wstring& arg, std::wstring* out) {
  if (!out->empty()) out->push_back(L' ');
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    out->append(arg);
    return;
  }
  out->push_back(L'"');
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') backslashes = backslashes * 2 + 1;
    out->append(backslashes, L'\\');
    backslashes = 0;
    out->push_back(c);
  }
  out->append(backslashes * 2, L'\\');
  out->push_back(L'"');
}

}  // namespace

Result<fs::path> ConfigDir(StateScope scope) {
  const KNOWNFOLDERID& folder =
      scope == StateScope::kUser ? FOLDERID_RoamingAppData : FOLDERID_ProgramData;
  PWSTR raw = nullptr;
  const HRESULT hr = SHGetKnownFolderPath(folder, KF_FLAG_DEFAULT, nullptr, &raw);
  std::unique_ptr<wchar_t, decltype(&CoTaskMemFree)> owned(raw, &CoTaskMemFree);
  if (FAILED(hr) || raw == nullptr) {
    return WindowsError(
        scope == StateScope::kUser ? "SHGetKnownFolderPath(RoamingAppData)"
                                   : "SHGetKnownFolderPath(ProgramData)",
        HRESULT_FACILITY(hr) == FACILITY_WIN32 ? HRESULT_CODE(hr) : static_cast<DWORD>(hr));
  }
  return fs::path(raw) / L"licagent";
}

Result<fs::path> CurrentExecutable() {
  std::wstring buffer(MAX_PATH, L'\0');
  for (int i = 0; i < 8; ++i) {
    const DWORD n = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (n == 0) return WindowsError("GetModuleFileNameW", GetLastError());
    if (n < buffer.size()) {
      buffer.resize(n);
      return fs::path(buffer);
    }
    buffer.resize(buffer.size() * 2);
  }
  return Error{ErrorCode::kInternal, "GetModuleFileNameW: path too long"};
}

Status SpawnDetached(const std::vector<std::string>& argv) {
  if (argv.empty() || !fs::path(ToUtf16(argv[0])).is_absolute()) {
    return Error{ErrorCode::kInvalidArgument, "SpawnDetached needs an absolute program path"};
  }
  const std::wstring program = ToUtf16(argv[0]);
  std::wstring command_line;
  for (const std::string& a : argv) AppendQuoted(ToUtf16(a), &command_line);
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION info{};
  // No console, no inherited handles (standard handles are then the null device), its own
  // process group so that Ctrl-C in our console does not reach it.
  if (!CreateProcessW(program.c_str(), command_line.data(), nullptr, nullptr, FALSE,
                      DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT,
                      nullptr, nullptr, &startup, &info)) {
    return WindowsError("CreateProcessW " + argv[0], GetLastError());
  }
  CloseHandle(info.hThread);
  CloseHandle(info.hProcess);
  return Status::Ok();
}

}  // namespace licagent::platform
