// Windows file services (see file_windows.h and docs/cache.md).
//
// Permissions: every directory, temporary file and lock file this code creates gets a protected
// DACL (no inheritance from the parent). In the machine-wide cache (FOLDERID_ProgramData\licagent
// and below) it grants full control to SYSTEM and Administrators and read to Users, so that an
// installer running as LocalSystem activates and every user's check reads the license (signed,
// no secret). Anywhere else it has one ACE: full control for the user of the process token.
// Administrators can still take ownership, as on any Windows file. Existing directories keep
// their ACLs; a replaced file takes the new file's DACL with it (MoveFileExW keeps the security
// descriptor of the file being moved). Wine keeps no DACLs (it shows one derived from the Unix
// mode), so under Wine only the requested descriptor is tested (docs/cache.md).
//
// Durability: FlushFileBuffers on the temporary file, then MoveFileExW with
// MOVEFILE_WRITE_THROUGH, which returns only once the rename is on disk. Windows has no
// directory fsync and needs none after a write-through move.

// clang-format off
#include <windows.h>
#include <sddl.h>
#include <shlobj.h>
// clang-format on

#include "platform/windows/file_windows.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

#include "platform/common/temp_name.h"
#include "platform/windows/win_error.h"
#include "platform/windows/win_handle.h"
#include "platform/windows/win_text.h"

namespace licagent::platform::windows_impl {
namespace {

namespace fs = std::filesystem;

// Attempts at a fresh temporary name when one exists already (a dead writer's leftover whose
// process id was reused).
constexpr int kMaxTempNameAttempts = 100;
// MoveFileExW cannot replace a target that another handle holds open (ERROR_ACCESS_DENIED under
// Wine 8 even when the reader allowed FILE_SHARE_DELETE; ERROR_SHARING_VIOLATION for an
// antivirus scanner). Readers hold it for one read, so the writer retries for about a second,
// then fails with the old file intact.
constexpr int kMoveAttempts = 50;
constexpr DWORD kMoveRetryDelayMs = 20;
// 100 ns intervals between 1601-01-01 and 1970-01-01.
constexpr std::int64_t kFileTimeUnixEpoch = 116444736000000000;

std::string Utf8(const fs::path& path) { return ToUtf8(path.native()); }

Result<fs::path> KnownFolder(const KNOWNFOLDERID& folder, const char* name) {
  PWSTR raw = nullptr;
  const HRESULT hr = SHGetKnownFolderPath(folder, KF_FLAG_DEFAULT, nullptr, &raw);
  std::unique_ptr<wchar_t, decltype(&CoTaskMemFree)> owned(raw, &CoTaskMemFree);
  if (FAILED(hr) || raw == nullptr) {
    return WindowsError(
        std::string("SHGetKnownFolderPath(") + name + ")",
        HRESULT_FACILITY(hr) == FACILITY_WIN32 ? HRESULT_CODE(hr) : static_cast<DWORD>(hr));
  }
  return fs::path(raw);
}

// `path` is `base` or below it, compared component by component, ignoring case as NTFS does.
bool IsWithin(const fs::path& path, const fs::path& base) {
  auto p = path.begin();
  for (const fs::path& component : base) {
    if (p == path.end()) return false;
    if (CompareStringOrdinal(p->c_str(), -1, component.c_str(), -1, TRUE) != CSTR_EQUAL) {
      return false;
    }
    ++p;
  }
  return true;
}

// The protected DACL for what this code creates in `dir` (SddlFor).
class CreationSecurity {
 public:
  CreationSecurity() = default;
  ~CreationSecurity() {
    if (descriptor_ != nullptr) LocalFree(descriptor_);
  }
  CreationSecurity(const CreationSecurity&) = delete;
  CreationSecurity& operator=(const CreationSecurity&) = delete;

  // `container`: the ACEs are inherited by files and directories created inside (OI CI).
  Status Init(const fs::path& dir, bool container) {
    auto sddl = SddlFor(dir, container);
    if (!sddl) return sddl.error();
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl->c_str(), SDDL_REVISION_1,
                                                              &descriptor_, nullptr)) {
      return WindowsError("ConvertStringSecurityDescriptorToSecurityDescriptorW", GetLastError());
    }
    attributes_.nLength = sizeof attributes_;
    attributes_.lpSecurityDescriptor = descriptor_;
    attributes_.bInheritHandle = FALSE;
    return Status::Ok();
  }
  SECURITY_ATTRIBUTES* get() { return &attributes_; }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  SECURITY_ATTRIBUTES attributes_{};
};

fs::path DirectoryOf(const fs::path& path) {
  fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(L".") : dir;
}

bool IsMissing(DWORD error) {
  return error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND;
}

// Creates `dir` and its missing parents, each with SddlFor's DACL. Existing directories keep
// their ACLs.
Status CreateDirectories(const fs::path& dir) {
  const DWORD attributes = GetFileAttributesW(dir.c_str());
  if (attributes != INVALID_FILE_ATTRIBUTES) {
    if (attributes & FILE_ATTRIBUTE_DIRECTORY) return Status::Ok();
    return Error{ErrorCode::kIoError, "create directory " + Utf8(dir) + ": not a directory"};
  }
  const DWORD error = GetLastError();
  if (!IsMissing(error)) return WindowsError("GetFileAttributesW " + Utf8(dir), error);
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    LICAGENT_RETURN_IF_ERROR(CreateDirectories(parent));
  }
  CreationSecurity security;
  LICAGENT_RETURN_IF_ERROR(security.Init(dir, /*container=*/true));
  if (!CreateDirectoryW(dir.c_str(), security.get())) {
    const DWORD create_error = GetLastError();
    if (create_error == ERROR_ALREADY_EXISTS) return Status::Ok();  // created meanwhile
    return WindowsError("create directory " + Utf8(dir), create_error);
  }
  return Status::Ok();
}

Status WriteAll(HANDLE file, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(file, data.data(), chunk, &written, nullptr)) {
      return WindowsError("write " + Utf8(path), GetLastError());
    }
    if (written == 0) return WindowsError("write " + Utf8(path), ERROR_WRITE_FAULT);
    data.remove_prefix(written);
  }
  return Status::Ok();
}

std::atomic<std::uint64_t> temp_counter{0};

class WindowsFileLock final : public FileLock {
 public:
  explicit WindowsFileLock(HANDLE file) : file_(file) {}
  ~WindowsFileLock() override {
    OVERLAPPED whole{};
    UnlockFileEx(file_.get(), 0, MAXDWORD, MAXDWORD, &whole);
  }  // then file_ closes

 private:
  Handle file_;
};

}  // namespace

Result<std::wstring> OwnerOnlySddl(bool container) {
  HANDLE raw_token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw_token)) {
    return WindowsError("OpenProcessToken", GetLastError());
  }
  Handle token(raw_token);
  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return WindowsError("GetTokenInformation(TokenUser)", GetLastError());
  std::vector<unsigned char> buffer(size);
  if (!GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) {
    return WindowsError("GetTokenInformation(TokenUser)", GetLastError());
  }
  const auto* user = reinterpret_cast<const TOKEN_USER*>(buffer.data());
  LPWSTR sid_text = nullptr;
  if (!ConvertSidToStringSidW(user->User.Sid, &sid_text)) {
    return WindowsError("ConvertSidToStringSidW", GetLastError());
  }
  std::wstring sddl = container ? L"D:P(A;OICI;FA;;;" : L"D:P(A;;FA;;;";
  sddl += sid_text;
  sddl += L")";
  LocalFree(sid_text);
  return sddl;
}

std::wstring MachineWideSddl(bool container) {
  // SYSTEM and Administrators: full control; Users (BU): read and execute (0x1200a9, what
  // Explorer calls "Read & execute"), enough to list the directory and read the license.
  return container ? L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
                   : L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)";
}

Result<fs::path> MachineWideStateDir() {
  auto program_data = KnownFolder(FOLDERID_ProgramData, "ProgramData");
  if (!program_data) return program_data.error();
  return *program_data / L"licagent";
}

Result<std::wstring> SddlFor(const fs::path& dir, bool container) {
  auto machine_wide = MachineWideStateDir();
  if (machine_wide && IsWithin(dir, *machine_wide)) return MachineWideSddl(container);
  return OwnerOnlySddl(container);
}

Result<fs::path> StateDir(StateScope scope) {
  const std::string_view env_name = kStateDirEnv;
  const std::wstring name(env_name.begin(), env_name.end());  // ASCII
  std::wstring value;
  for (DWORD size = GetEnvironmentVariableW(name.c_str(), nullptr, 0); size > 1;) {
    value.resize(size);
    const DWORD length = GetEnvironmentVariableW(name.c_str(), value.data(), size);
    if (length < size) {
      value.resize(length);  // 0: removed meanwhile
      break;
    }
    size = length;  // it grew meanwhile
  }
  if (!value.empty()) {
    fs::path dir(value);
    if (!dir.is_absolute()) {
      return Error{ErrorCode::kInvalidArgument,
                   std::string(kStateDirEnv) + " must be an absolute path, not " + Utf8(dir)};
    }
    return dir;
  }
  if (scope == StateScope::kSystem) return MachineWideStateDir();
  auto local = KnownFolder(FOLDERID_LocalAppData, "LocalAppData");
  if (!local) return local.error();
  return *local / L"licagent";
}

Result<std::string> ReadFile(const fs::path& path, std::size_t max_size) {
  // FILE_SHARE_DELETE: a writer may replace the file while it is open here.
  Handle file(CreateFileW(path.c_str(), GENERIC_READ,
                          FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                          OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.valid()) {
    const DWORD error = GetLastError();
    const DWORD attributes = GetFileAttributesW(path.c_str());
    if (error == ERROR_ACCESS_DENIED && attributes != INVALID_FILE_ATTRIBUTES &&
        (attributes & FILE_ATTRIBUTE_DIRECTORY)) {
      return Error{ErrorCode::kCorrupt, Utf8(path) + ": not a regular file"};
    }
    return WindowsError("open " + Utf8(path), error);
  }
  const auto too_large = [&] {
    return Error{ErrorCode::kCorrupt,
                 Utf8(path) + ": larger than the limit of " + std::to_string(max_size) + " bytes"};
  };
  if (GetFileType(file.get()) != FILE_TYPE_DISK) {
    return Error{ErrorCode::kCorrupt, Utf8(path) + ": not a regular file"};
  }
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(file.get(), &size)) {
    return WindowsError("size of " + Utf8(path), GetLastError());
  }
  if (size.QuadPart < 0 || static_cast<std::uint64_t>(size.QuadPart) > max_size) {
    return too_large();
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(size.QuadPart));
  char buffer[16384];
  for (;;) {
    DWORD read = 0;
    if (!::ReadFile(file.get(), buffer, sizeof buffer, &read, nullptr)) {
      return WindowsError("read " + Utf8(path), GetLastError());
    }
    if (read == 0) break;
    out.append(buffer, read);
    if (out.size() > max_size) return too_large();  // it grew while being read
  }
  return out;
}

Status WriteFileAtomic(const fs::path& path, std::string_view contents) {
  const fs::path name = path.filename();
  if (name.empty() || name == L"." || name == L"..") {
    return Error{ErrorCode::kInvalidArgument, "write " + Utf8(path) + ": not a file name"};
  }
  const fs::path dir = DirectoryOf(path);
  LICAGENT_RETURN_IF_ERROR(CreateDirectories(dir));
  CreationSecurity security;
  LICAGENT_RETURN_IF_ERROR(security.Init(dir, /*container=*/false));

  fs::path temp;
  HANDLE raw = INVALID_HANDLE_VALUE;
  for (int attempt = 0; raw == INVALID_HANDLE_VALUE; ++attempt) {
    temp = dir / TempFileName<wchar_t>(name.native(), GetCurrentProcessId(), GetCurrentThreadId(),
                                       temp_counter.fetch_add(1));
    raw = CreateFileW(temp.c_str(), GENERIC_WRITE, 0, security.get(), CREATE_NEW,
                      FILE_ATTRIBUTE_NORMAL, nullptr);
    if (raw == INVALID_HANDLE_VALUE) {
      const DWORD error = GetLastError();
      if (error != ERROR_FILE_EXISTS || attempt + 1 >= kMaxTempNameAttempts) {
        return WindowsError("create " + Utf8(temp), error);
      }
    }
  }
  Handle file(raw);

  Status status = WriteAll(file.get(), contents, temp);
  if (status && !FlushFileBuffers(file.get())) {
    status = WindowsError("flush " + Utf8(temp), GetLastError());
  }
  if (const DWORD error = file.Close(); status && error != 0) {
    status = WindowsError("close " + Utf8(temp), error);
  }
  for (int attempt = 0; status; ++attempt) {
    if (MoveFileExW(temp.c_str(), path.c_str(),
                    MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
      return Status::Ok();
    }
    const DWORD error = GetLastError();
    if ((error != ERROR_ACCESS_DENIED && error != ERROR_SHARING_VIOLATION) ||
        attempt + 1 >= kMoveAttempts) {
      status = WindowsError("replace " + Utf8(path) + " with " + Utf8(temp), error);
      break;
    }
    Sleep(kMoveRetryDelayMs);
  }
  DeleteFileW(temp.c_str());
  return status;
}

Status RemoveFile(const fs::path& path) {
  if (DeleteFileW(path.c_str())) return Status::Ok();
  const DWORD error = GetLastError();
  if (IsMissing(error)) return Status::Ok();
  return WindowsError("remove " + Utf8(path), error);
}

Result<std::size_t> RemoveStaleTempFiles(const fs::path& target, std::int64_t min_age_seconds) {
  const fs::path dir = DirectoryOf(target);
  const std::wstring name = target.filename().native();
  WIN32_FIND_DATAW entry{};
  HANDLE raw = FindFirstFileW((dir / L"*").c_str(), &entry);
  if (raw == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    if (IsMissing(error)) return std::size_t{0};
    return WindowsError("list " + Utf8(dir), error);
  }
  const std::int64_t now = Now();
  std::vector<std::wstring> stale;
  do {
    if (entry.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
    if (!IsTempFileNameFor<wchar_t>(entry.cFileName, name)) continue;
    const std::int64_t written =
        (static_cast<std::int64_t>(entry.ftLastWriteTime.dwHighDateTime) << 32 |
         entry.ftLastWriteTime.dwLowDateTime);
    if (now - (written - kFileTimeUnixEpoch) / 10'000'000 < min_age_seconds) continue;
    stale.emplace_back(entry.cFileName);
  } while (FindNextFileW(raw, &entry));
  FindClose(raw);

  std::size_t removed = 0;
  for (const std::wstring& s : stale) {
    const fs::path file = dir / s;
    if (DeleteFileW(file.c_str())) {
      ++removed;
    } else if (const DWORD error = GetLastError(); !IsMissing(error)) {
      return WindowsError("remove " + Utf8(file), error);
    }
  }
  return removed;
}

Result<std::unique_ptr<FileLock>> LockExclusive(const fs::path& lock_file) {
  LICAGENT_RETURN_IF_ERROR(CreateDirectories(DirectoryOf(lock_file)));
  CreationSecurity security;
  LICAGENT_RETURN_IF_ERROR(security.Init(DirectoryOf(lock_file), /*container=*/false));
  HANDLE raw = CreateFileW(lock_file.c_str(), GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, security.get(),
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (raw == INVALID_HANDLE_VALUE) {
    return WindowsError("open lock file " + Utf8(lock_file), GetLastError());
  }
  auto lock = std::make_unique<WindowsFileLock>(raw);  // owns the handle from here on
  // A synchronous handle: LockFileEx waits until the whole-file lock is granted.
  OVERLAPPED whole{};
  if (!LockFileEx(raw, LOCKFILE_EXCLUSIVE_LOCK, 0, MAXDWORD, MAXDWORD, &whole)) {
    return WindowsError("lock " + Utf8(lock_file), GetLastError());
  }
  return std::unique_ptr<FileLock>(std::move(lock));
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace licagent::platform::windows_impl
