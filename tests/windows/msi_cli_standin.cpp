// Test double for licagent.exe inside the MSI test (tests/windows/msi_test.sh), for the
// activation cases the real CLI cannot show without a server. It appends its command line, one
// argument per line, to activation-calls.txt beside itself, so the test can check
// what the installer's custom actions ran, and fails (exit 75, like a network failure) when an
// argument is "FAIL", so the test can check that a failed activation never fails the install.
#include <windows.h>

#include <cstdio>
#include <string>

int wmain(int argc, wchar_t* argv[]) {
  wchar_t self[MAX_PATH];
  const DWORD length = GetModuleFileNameW(nullptr, self, MAX_PATH);
  if (length == 0 || length >= MAX_PATH) return 2;
  std::wstring log(self, length);
  log.resize(log.find_last_of(L'\\') + 1);
  log += L"activation-calls.txt";
  FILE* out = _wfopen(log.c_str(), L"a");
  if (out == nullptr) return 2;
  bool fail = false;
  std::fputs("call\n", out);
  for (int i = 1; i < argc; ++i) {
    std::fprintf(out, "%ls\n", argv[i]);
    if (std::wstring(argv[i]) == L"FAIL") fail = true;
  }
  std::fclose(out);
  std::fprintf(stderr, "licagent (test double): %s\n", fail ? "activation failed" : "activated");
  return fail ? 75 : 0;
}
