// Live test of the Windows file services (platform/windows/file_windows.cpp) and the license
// store on them. On the Linux CI this runs under Wine 8; the checks hold on real Windows too.
// clang-format off
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shlobj.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/license_store.h"
#include "platform/common/temp_name.h"
#include "platform/platform.h"
#include "platform/windows/file_windows.h"
#include "platform/windows/win_error.h"
#include "tests/catch.h"
#include "tests/windows/temp_dir.h"

namespace licagent::platform {
namespace {

namespace fs = std::filesystem;

Platform& Native() { return Platform::Default(); }

// Sets (or with nullopt, removes) a process environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const wchar_t* name, std::optional<std::wstring> value) : name_(name) {
    wchar_t old[32768];
    const DWORD length = GetEnvironmentVariableW(name, old, 32768);
    if (length > 0 && length < 32768) old_ = std::wstring(old, length);
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::wstring>& value) {
    SetEnvironmentVariableW(name_, value ? value->c_str() : nullptr);
  }
  const wchar_t* name_;
  std::optional<std::wstring> old_;
};

TEST_CASE("WindowsPlatform StateDir: LICAGENT_STATE_DIR, else the known folders",
          "[windows-file]") {
  SECTION("the override wins for both scopes") {
    ScopedEnv state(L"LICAGENT_STATE_DIR", L"C:\\licagent-state-test");
    auto user = Native().StateDir(StateScope::kUser);
    auto system = Native().StateDir(StateScope::kSystem);
    REQUIRE(user);
    REQUIRE(system);
    CHECK(user->wstring() == L"C:\\licagent-state-test");
    CHECK(system->wstring() == L"C:\\licagent-state-test");
  }
  SECTION("a relative override is an error") {
    ScopedEnv state(L"LICAGENT_STATE_DIR", L"relative\\dir");
    auto user = Native().StateDir(StateScope::kUser);
    REQUIRE_FALSE(user);
    CHECK(user.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("without the override") {
    ScopedEnv state(L"LICAGENT_STATE_DIR", std::nullopt);
    auto user = Native().StateDir(StateScope::kUser);
    auto system = Native().StateDir(StateScope::kSystem);
    REQUIRE(user);
    REQUIRE(system);
    CHECK(user->is_absolute());
    CHECK(system->is_absolute());
    CHECK(user->filename() == L"licagent");
    CHECK(system->filename() == L"licagent");
    CHECK(user->parent_path().filename() == L"Local");  // ...\AppData\Local
    CHECK(*user != *system);
    wchar_t program_data[MAX_PATH];
    const DWORD length = GetEnvironmentVariableW(L"ProgramData", program_data, MAX_PATH);
    if (length > 0 && length < MAX_PATH) {
      CHECK(system->parent_path() == fs::path(std::wstring(program_data, length)));
    }
  }
}

TEST_CASE("WindowsPlatform WriteFileAtomic replaces a file that ReadFile reads back",
          "[windows-file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / L"a" / L"b" / L"license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "first"));  // creates a and b
  auto read = Native().ReadFile(file, 1024);
  REQUIRE(read);
  CHECK(*read == "first");

  const std::string second(16 * 1024, 'B');
  REQUIRE(Native().WriteFileAtomic(file, second));
  read = Native().ReadFile(file, 64 * 1024);
  REQUIRE(read);
  CHECK(*read == second);
  CHECK(List(file.parent_path()) == std::vector<std::wstring>{L"license.lic"});

  SECTION("a reader holding the file open delays the replace, which then succeeds") {
    HANDLE reader = CreateFileW(file.c_str(), GENERIC_READ,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    REQUIRE(reader != INVALID_HANDLE_VALUE);
    std::thread closer([reader] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      CloseHandle(reader);
    });
    const Status written = Native().WriteFileAtomic(file, "third");
    closer.join();
    REQUIRE(written);
    read = Native().ReadFile(file, 1024);
    REQUIRE(read);
    CHECK(*read == "third");
    CHECK(List(file.parent_path()) == std::vector<std::wstring>{L"license.lic"});
  }
  SECTION("oversize is kCorrupt") {
    read = Native().ReadFile(file, 1000);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kCorrupt);
    CHECK(read.error().message.find("larger than the limit of 1000 bytes") != std::string::npos);
  }
  SECTION("a directory is kCorrupt") {
    read = Native().ReadFile(file.parent_path(), 1024);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kCorrupt);
  }
  SECTION("missing is kNotFound with os_error set") {
    read = Native().ReadFile(tmp.path() / L"missing.lic", 1024);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kNotFound);
    CHECK(read.error().os_error == ERROR_FILE_NOT_FOUND);
    read = Native().ReadFile(tmp.path() / L"no" / L"such.lic", 1024);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kNotFound);
    CHECK(read.error().os_error != 0);
  }
  SECTION("RemoveFile deletes, and a missing file is success") {
    REQUIRE(Native().RemoveFile(file));
    CHECK_FALSE(fs::exists(file));
    CHECK(Native().RemoveFile(file));
    CHECK(Native().RemoveFile(tmp.path() / L"no" / L"such.lic"));
  }
}

TEST_CASE("WindowsPlatform file paths are UTF-16", "[windows-file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / L"Lizenz-\u00fc\u00df-\u8bb8\u53ef" / L"license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "unicode"));
  auto read = Native().ReadFile(file, 1024);
  REQUIRE(read);
  CHECK(*read == "unicode");
  CHECK(GetFileAttributesW(file.c_str()) != INVALID_FILE_ATTRIBUTES);
}

std::wstring ToUpper(std::wstring text) {
  CharUpperBuffW(text.data(), static_cast<DWORD>(text.size()));
  return text;
}

bool UnderWine() {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}

std::wstring SidText(PSID sid) {
  LPWSTR text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return L"?";
  std::wstring out(text);
  LocalFree(text);
  return out;
}

TEST_CASE("WindowsPlatform gives created files and directories an owner-only DACL",
          "[windows-file]") {
  HANDLE token = nullptr;
  REQUIRE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> user_buffer(size);
  REQUIRE(GetTokenInformation(token, TokenUser, user_buffer.data(), size, &size));
  CloseHandle(token);
  const std::wstring user = SidText(reinterpret_cast<TOKEN_USER*>(user_buffer.data())->User.Sid);

  // What is requested: a protected DACL, one ACE, full control, the token's user.
  auto directory_sddl = windows_impl::OwnerOnlySddl(/*container=*/true);
  auto file_sddl = windows_impl::OwnerOnlySddl(/*container=*/false);
  REQUIRE(directory_sddl);
  REQUIRE(file_sddl);
  CHECK(*directory_sddl == L"D:P(A;OICI;FA;;;" + user + L")");
  CHECK(*file_sddl == L"D:P(A;;FA;;;" + user + L")");

  // What is stored. Wine keeps no DACL and reports one derived from the Unix mode (SYSTEM and
  // the owner); real Windows must report exactly the requested one.
  TempDir tmp;
  const fs::path file = tmp.path() / L"store" / L"license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "x"));
  auto lock = Native().LockExclusive(tmp.path() / L"store" / L".lock");
  REQUIRE(lock);
  for (const fs::path& path :
       {file, file.parent_path(), fs::path(tmp.path() / L"store" / L".lock")}) {
    INFO(path.string());
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    REQUIRE(GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                  nullptr, &dacl, nullptr, &descriptor) == ERROR_SUCCESS);
    REQUIRE(dacl != nullptr);
    std::vector<std::wstring> trustees;
    for (DWORD i = 0; i < dacl->AceCount; ++i) {
      void* ace = nullptr;
      REQUIRE(GetAce(dacl, i, &ace));
      const auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
      REQUIRE(allowed->Header.AceType == ACCESS_ALLOWED_ACE_TYPE);
      trustees.push_back(SidText(const_cast<DWORD*>(&allowed->SidStart)));
    }
    CHECK(std::find(trustees.begin(), trustees.end(), user) != trustees.end());
    if (UnderWine()) {
      for (const std::wstring& trustee : trustees) {
        CHECK((trustee == user || trustee == L"S-1-5-18"));  // never Everyone or Users
      }
    } else {
      CHECK(trustees == std::vector<std::wstring>{user});
    }
    LocalFree(descriptor);
  }
}

TEST_CASE("WindowsPlatform: the machine-wide cache is readable by Users, writable by admins",
          "[windows-file]") {
  wchar_t* raw = nullptr;
  REQUIRE(SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, KF_FLAG_DEFAULT, nullptr, &raw)));
  const fs::path program_data(raw);
  CoTaskMemFree(raw);
  const fs::path machine_wide = program_data / L"licagent";
  CHECK(windows_impl::MachineWideSddl(true) ==
        L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)");
  CHECK(windows_impl::MachineWideSddl(false) == L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)");

  ScopedEnv state(L"LICAGENT_STATE_DIR", std::nullopt);
  auto system = Native().StateDir(StateScope::kSystem);
  REQUIRE(system);
  CHECK(*system == machine_wide);
  auto owner_only = windows_impl::OwnerOnlySddl(false);
  REQUIRE(owner_only);
  // The machine-wide directory and anything below it, in any letter case; nothing else.
  for (const fs::path& dir :
       {machine_wide, machine_wide / L"sub", fs::path(ToUpper(machine_wide.wstring())) / L"x"}) {
    INFO(dir.string());
    auto sddl = windows_impl::SddlFor(dir, false);
    REQUIRE(sddl);
    CHECK(*sddl == windows_impl::MachineWideSddl(false));
  }
  for (const fs::path& dir : {program_data, program_data / L"licagent-other",
                              fs::path(L"C:\\licagent"), TempDir().path()}) {
    INFO(dir.string());
    auto sddl = windows_impl::SddlFor(dir, false);
    REQUIRE(sddl);
    CHECK(*sddl == *owner_only);
  }

  // The real thing under Wine's %ProgramData%, which (like real Windows for an administrator)
  // lets this process create the directory. On Wine the stored DACL is not the requested one.
  const fs::path file = machine_wide / L"windows-file-test" / L"license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "machine-wide"));
  auto read = Native().ReadFile(file, 100);
  REQUIRE(read);
  CHECK(*read == "machine-wide");
  REQUIRE(Native().RemoveFile(file));
  CHECK(RemoveDirectoryW(file.parent_path().c_str()));
}

TEST_CASE("WindowsPlatform RemoveStaleTempFiles removes only its target's temporaries",
          "[windows-file]") {
  TempDir tmp;
  const fs::path target = tmp.path() / L"license.lic";
  REQUIRE(Native().WriteFileAtomic(target, "license"));
  for (const wchar_t* name : {L".license.lic.1.2.3.tmp", L".clock.mark.1.2.3.tmp",
                              L"license.lic.bak", L".license.lic.1.2.tmp"}) {
    REQUIRE(Native().WriteFileAtomic(tmp.path() / name, "x"));
  }
  auto removed = Native().RemoveStaleTempFiles(target, 3600);  // all are fresh
  REQUIRE(removed);
  CHECK(*removed == 0);
  removed = Native().RemoveStaleTempFiles(target, 0);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK(List(tmp.path()) == std::vector<std::wstring>{L".clock.mark.1.2.3.tmp",
                                                      L".license.lic.1.2.tmp", L"license.lic",
                                                      L"license.lic.bak"});
  CHECK(IsTempFileNameFor<wchar_t>(
      TempFileName<wchar_t>(L"license.lic", GetCurrentProcessId(), GetCurrentThreadId(), 7),
      L"license.lic"));
}

TEST_CASE("WindowsPlatform LockExclusive excludes another thread until released",
          "[windows-file]") {
  TempDir tmp;
  const fs::path lock_file = tmp.path() / L"store" / L".lock";
  auto first = Native().LockExclusive(lock_file);
  REQUIRE(first);

  std::atomic<bool> acquired{false};
  std::thread other([&] {
    auto second = Native().LockExclusive(lock_file);
    acquired = second.has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(acquired.load());
  first->reset();  // release
  other.join();
  CHECK(acquired.load());

  auto again = Native().LockExclusive(lock_file);  // released by the thread's destructor
  CHECK(again);
}

TEST_CASE("WindowsPlatform full disk errors say so", "[windows-file]") {
  for (DWORD code : {DWORD{ERROR_DISK_FULL}, DWORD{ERROR_HANDLE_DISK_FULL}}) {
    const Error e = WindowsError("write C:\\x", code);
    CHECK(e.code == ErrorCode::kIoError);
    CHECK(e.message.find("disk full") != std::string::npos);
  }
}

TEST_CASE("LicenseStore on WindowsPlatform", "[windows-file]") {
  TempDir tmp;
  ScopedEnv state(L"LICAGENT_STATE_DIR", tmp.path().wstring());
  auto dir = DefaultStoreDir(Native(), StateScope::kSystem);
  REQUIRE(dir);
  CHECK(*dir == tmp.path());
  LicenseStore store(Native(), *dir);

  REQUIRE(store.Install("license one"));
  REQUIRE(store.Install("license two"));
  auto read = store.Read();
  REQUIRE(read);
  CHECK(*read == "license two");
  REQUIRE(store.RaiseClockMark(1'700'000'000));
  REQUIRE(store.RaiseClockMark(1'600'000'000));
  auto mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'700'000'000);
  REQUIRE(store.Remove());
  read = store.Read();
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kNotFound);
  CHECK(List(tmp.path()) == std::vector<std::wstring>{L".lock", L"clock.mark"});
}

}  // namespace
}  // namespace licagent::platform
