// The simulator's admin endpoints under /admin/ (docs/marketsim.md "Admin endpoints"): create
// and list codes, claim, renew, freeze, unfreeze, release (each firing the matching License
// 2.0 callback unless told not to), fire any callback by hand (repeated, tampered), inspect
// deliveries, inject open-API faults. Protected by a bearer token when one is configured,
// otherwise served to loopback clients only. Thread-safe; never throws.
#pragma once

#include "server/marketsim/book.h"
#include "server/marketsim/callbacks.h"
#include "server/marketsim/config.h"
#include "server/marketsim/open_api.h"

namespace licagent::marketsim {

class Admin {
 public:
  Admin(const Config& config, Book& book, OpenApi& api, Dispatcher& dispatcher, Clock clock)
      : config_(config),
        book_(book),
        api_(api),
        dispatcher_(dispatcher),
        clock_(std::move(clock)) {}

  HttpReply Handle(const HttpRequest& request);

 private:
  HttpReply Route(const HttpRequest& request);
  HttpReply CodeAction(const std::string& code, const std::string& action,
                       const nlohmann::json& body);
  HttpReply FireCallbacks(const nlohmann::json& body);
  // Enqueues the License 2.0 callback(s) `fields` with the license_code schedule.
  std::vector<std::uint64_t> Notify(std::vector<nlohmann::json> fields, const nlohmann::json& body);
  nlohmann::json Deliveries(const std::vector<std::uint64_t>& ids, const nlohmann::json& body);

  const Config& config_;
  Book& book_;
  OpenApi& api_;
  Dispatcher& dispatcher_;
  Clock clock_;
};

// A code as the admin endpoints show it.
nlohmann::json CodeJson(const Code& code, std::int64_t now, std::string_view frozen_status);

}  // namespace licagent::marketsim
