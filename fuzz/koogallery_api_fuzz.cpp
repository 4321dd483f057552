// The KooGallery open-API answer parsers (server/koogallery/open_api.h) on arbitrary bytes: the
// first byte picks an HTTP status, the rest is the body. Properties:
//  - the parsers never crash or throw, and always return one of the closed outcomes;
//  - a success outcome has error_code 92020000, and an outcome without error_code is only
//    kMalformedResponse or kTransient;
//  - the outcome depends on error_code/error_msg/status only (ClassifyResult agrees);
//  - license_code_info, if parsed, has a known status or kUnknown with the raw text kept.
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/koogallery/open_api.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

namespace kg = licagent::koogallery;

void CheckEnvelope(const kg::MarketAnswer& a, kg::Operation op) {
  Check(a.outcome == kg::ClassifyResult(op, a.error_code, a.error_msg, a.http_status));
  if (a.outcome == kg::MarketOutcome::kSuccess) Check(a.error_code == "92020000");
  if (a.error_code.empty()) {
    Check(a.outcome == kg::MarketOutcome::kMalformedResponse ||
          a.outcome == kg::MarketOutcome::kTransient);
  }
  Check(kg::ToString(a.outcome) != nullptr);
}

void CheckInfo(const kg::LicenseCodeInfo& info) {
  Check(kg::ParseCodeStatus(info.status_text) == info.status);
  if (info.expire_time.utc) Check(!info.expire_time.raw.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int status = 200 + data[0] % 400;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::chrono::minutes offset(8 * 60);

  const auto activate = kg::ParseActivateV1Response(status, body, offset);
  CheckEnvelope(activate, kg::Operation::kActivate);
  if (activate.info) CheckInfo(*activate.info);

  const auto query = kg::ParseQueryV1Response(status, body);
  CheckEnvelope(query, kg::Operation::kQuery);
  if (query.info && query.info->code_info) CheckInfo(*query.info->code_info);

  for (const auto op : {kg::Operation::kActivate, kg::Operation::kQuery}) {
    const auto batch = kg::ParseBatchResponse(op, status, body);
    CheckEnvelope(batch, op);
    for (const auto& e : batch.entries) {
      if (e.code_info) CheckInfo(*e.code_info);
    }
  }

  const auto usage = kg::ParseUsageResponse(status, body);
  CheckEnvelope(usage, kg::Operation::kUsage);

  if (auto info = kg::ParseLicenseCodeInfo(body)) CheckInfo(*info);
  (void)kg::ParseMarketTime(body, offset);
  return 0;
}
