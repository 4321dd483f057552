// Catch2 v2 main for the mingw test executable (the Linux build links Catch2::Catch2WithMain).
// A first argument "--child-..." makes this process one of the children that the
// multi-process tests start from their own executable (child_process.h).
#define CATCH_CONFIG_RUNNER
#include <string_view>

#include "tests/catch.h"
#include "tests/windows/child_process.h"

int main(int argc, char* argv[]) {
  if (argc > 1 && std::string_view(argv[1]).starts_with("--child-")) {
    return licagent::platform::RunTestChild();
  }
  return Catch::Session().run(argc, argv);
}
