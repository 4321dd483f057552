// A product's start-up check through the C++ API (include/licagent/check.h), built against the
// installed development package. Usage: consumer_cpp [FEATURE...]. Prints
// "VERDICT SCOPE REASON" and exits 0 when the license is valid, 1 when not, 3 on a setup error.
#include <cstdio>

#include "licagent/check.h"

int main(int argc, char** argv) {
  auto config = licagent::BuiltinCheckConfig();
  if (!config) {
    std::fprintf(stderr, "consumer_cpp: %s\n", config.error().message.c_str());
    return 3;
  }
  licagent::CheckRequest request;
  for (int i = 1; i < argc; ++i) request.features.emplace_back(argv[i]);
  const licagent::CheckResult r = licagent::Check(*config, request);
  std::printf("%s %s %s\n", licagent::ToString(r.verdict), r.system_scope ? "system" : "user",
              r.reason.c_str());
  return r.verdict == licagent::Verdict::kValid ? 0 : 1;
}
