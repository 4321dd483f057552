// How every licagent command reports a failure.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/cli/exit_codes.h"

namespace licagent::cli {

int ReportError(bool json, const Error& error) {
  if (json) {
    std::cout << nlohmann::json{{"error",
                                 {{"code", ToString(error.code)}, {"message", error.message}}}}
                     .dump(2)
              << "\n";
  } else {
    std::fprintf(stderr, "licagent: %s\n", error.message.c_str());
  }
  return ExitCodeFor(error.code);
}

}  // namespace licagent::cli
