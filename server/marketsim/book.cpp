#include "server/marketsim/book.h"

#include <filesystem>

#include "server/vendor/files.h"

namespace licagent::marketsim {

constexpr std::size_t kMaxStateFile = 64 * 1024 * 1024;

Status Book::Load() {
  if (state_file_.empty()) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::exists(state_file_, ec)) return Status::Ok();
  auto text = vendor::ReadFile(state_file_, kMaxStateFile);
  if (!text) return text.error();
  auto market = Marketplace::Deserialize(*text);
  if (!market) return Error{market.error().code, state_file_ + ": " + market.error().message};
  std::lock_guard<std::mutex> lock(mu_);
  market_ = std::move(*market);
  return Status::Ok();
}

Status Book::SaveLocked() {
  if (state_file_.empty()) return Status::Ok();
  return vendor::ReplaceFile(state_file_, market_.Serialize(), 0600);
}

}  // namespace licagent::marketsim
