// How every licagent command reports a failure.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/cli/exit_codes.h"

namespace licagent::cli {

ExitCode ExitCodeForRemote(std::string_view remote_code) {
  // docs/protocol.md "What the agent makes of it": license states share the exit codes of the
  // same verdicts from a local check; every other refusal is 22.
  if (remote_code == "seat_limit") return kExitSeatLimit;
  if (remote_code == "credential_expired") return kExitExpired;
  if (remote_code == "credential_frozen" || remote_code == "credential_released") {
    return kExitFrozen;
  }
  if (remote_code == "wrong_machine") return kExitWrongMachine;
  // code_not_claimed and every other refusal (also codes this agent does not know yet).
  return kExitRefused;
}

int ReportError(bool json, const Error& error) {
  if (json) {
    nlohmann::json e{{"code", ToString(error.code)}, {"message", error.message}};
    e["remote_code"] =
        error.remote_code.empty() ? nlohmann::json() : nlohmann::json(error.remote_code);
    std::cout << nlohmann::json{{"error", e}}.dump(2) << "\n";
  } else {
    std::fprintf(stderr, "licagent: %s\n", error.message.c_str());
  }
  return ExitCodeFor(error);
}

}  // namespace licagent::cli
