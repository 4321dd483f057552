// Internals of the check shared with unit tests, which pass a FakePlatform; not installed.
#pragma once

#include <optional>

#include "licagent/check.h"
#include "platform/platform.h"

namespace licagent {

// Judges a verified license at `now` on the machine `p` describes, against the latest trusted
// time seen (`clock_mark`). Touches no file.
CheckResult Judge(platform::Platform& p, const CheckConfig& config, const CheckRequest& request,
                  const LicensePayload& license, std::optional<std::int64_t> clock_mark,
                  std::int64_t now);

CheckResult CheckWith(platform::Platform& p, const CheckConfig& config,
                      const CheckRequest& request);
CheckResult InstallWith(platform::Platform& p, const CheckConfig& config,
                        std::string_view license_text);
Status UninstallWith(platform::Platform& p, const CheckConfig& config);

}  // namespace licagent
