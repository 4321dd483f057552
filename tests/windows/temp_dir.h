// Helpers shared by the Windows file tests: a temporary directory per test and a sorted listing.
#pragma once

#include <windows.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "tests/catch.h"

namespace licagent::platform {

// A fresh directory under the user's temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    wchar_t base[MAX_PATH + 1];
    const DWORD length = GetTempPathW(MAX_PATH + 1, base);
    REQUIRE(length > 0);
    static int counter = 0;
    path_ = std::filesystem::path(std::wstring(base, length)) /
            (L"licagent-file-test-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
             std::to_wstring(++counter));
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The names in `dir`, sorted.
inline std::vector<std::wstring> List(const std::filesystem::path& dir) {
  std::vector<std::wstring> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().wstring());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace licagent::platform
