// licagent-server's configuration parser: defaults, relative paths, and every kind of mistake
// named by its key.
#include <string>

#include "server/activation/config.h"
#include "tests/catch.h"

using licagent::ErrorCode;
using licagent::server::ParseConfig;
using licagent::server::ParseVersion;

namespace {

const std::string kMinimal = R"({
  "listen": "127.0.0.1:8443",
  "tls": {"certificate": "server.crt", "private_key": "/etc/licagent/server.key"},
  "signing_key": {"file": "vendor.key", "key_id": "demo-2026"},
  "storage": {"kind": "sqlite", "path": "licagent.db"},
  "products": [{"id": "licagent-demo"}]
})";

// kMinimal with `from` replaced by `to`.
std::string With(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, "/srv/licagent");
  REQUIRE_FALSE(c);
  CHECK(c.error().code == ErrorCode::kInvalidArgument);
  return c.error().message;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Config: a minimal file gets the documented defaults", "[server][config]") {
  auto c = ParseConfig(kMinimal, "/srv/licagent");
  REQUIRE(c);
  CHECK(c->listen_host == "127.0.0.1");
  CHECK(c->listen_port == 8443);
  CHECK(c->tls_certificate == "/srv/licagent/server.crt");
  CHECK(c->tls_private_key == "/etc/licagent/server.key");
  CHECK(c->signing_key_file == "/srv/licagent/vendor.key");
  CHECK(c->storage_path == "/srv/licagent/licagent.db");
  CHECK(c->access_log == "-");
  CHECK(c->threads == 8);
  CHECK_FALSE(c->min_agent_version);
  CHECK(c->rate_limit.activations_per_credential_per_minute == 10);
  CHECK(c->rate_limit.requests_per_address_per_minute == 600);
  REQUIRE(c->products.size() == 1);
  const auto& p = c->products[0];
  CHECK(p.id == "licagent-demo");
  CHECK(p.default_validity_days == 365);
  CHECK(p.grace_days == 14);
  CHECK(p.seats == 1);
  CHECK(p.environments.size() == 6);
  CHECK(p.match == licagent::MatchPolicy{});
  CHECK(c->FindProduct("licagent-demo") == &p);
  CHECK(c->FindProduct("other") == nullptr);
}

TEST_CASE("Config: a file with every key parses in full", "[server][config]") {
  auto c = ParseConfig(R"({"listen":"[::1]:0","tls":{"certificate":"a.crt","private_key":"a.key"},
    "signing_key":{"file":"keys/vendor.pem","key_id":"demo-2026"},
    "storage":{"kind":"sqlite","path":"../db/licagent.db"},
    "access_log":"logs/access.log","threads":2,"min_agent_version":"0.2.1",
    "rate_limit":{"activations_per_credential_per_minute":0,"requests_per_address_per_minute":60},
    "products":[{"id":"a","default_validity_days":0,"grace_days":30,"seats":5,
                 "environments":["bare-metal","vm"],
                 "match":{"threshold_percent":80,"min_matched":3,"require_hardware":false,
                          "environment":"exact"}},
                {"id":"b"}]})",
                       "/srv/licagent");
  REQUIRE(c);
  CHECK(c->listen_host == "::1");
  CHECK(c->listen_port == 0);
  CHECK(c->storage_path == "/srv/db/licagent.db");
  CHECK(c->access_log == "/srv/licagent/logs/access.log");
  CHECK(c->threads == 2);
  CHECK(c->min_agent_version == "0.2.1");
  CHECK(c->rate_limit.activations_per_credential_per_minute == 0);
  REQUIRE(c->products.size() == 2);
  CHECK(c->products[0].default_validity_days == 0);
  CHECK(c->products[0].seats == 5);
  CHECK(c->products[0].environments ==
        std::vector{licagent::Environment::kBareMetal, licagent::Environment::kVm});
  CHECK(c->products[0].match.threshold_percent == 80);
  CHECK(c->products[0].match.min_matched == 3);
  CHECK_FALSE(c->products[0].match.require_hardware);
  CHECK(c->products[0].match.environment == licagent::EnvironmentRule::kExact);
}

TEST_CASE("Config: access_log \"-\" and \"\" are kept as they are", "[server][config]") {
  auto dash = ParseConfig(With("\"listen\"", "\"access_log\": \"-\", \"listen\""), "/x");
  REQUIRE(dash);
  CHECK(dash->access_log == "-");
  auto none = ParseConfig(With("\"listen\"", "\"access_log\": \"\", \"listen\""), "/x");
  REQUIRE(none);
  CHECK(none->access_log.empty());
}

TEST_CASE("Config: mistakes are refused with the key named", "[server][config]") {
  CHECK(Contains(ErrorOf("not json"), "not valid JSON"));
  CHECK(Contains(ErrorOf("[1]"), "must be an object"));
  CHECK(Contains(ErrorOf(With("\"listen\"", "\"lisen\": 1, \"listen\"")), "lisen: unknown key"));
  CHECK(Contains(ErrorOf(With("\"kind\"", "\"knd\": 1, \"kind\"")), "storage.knd: unknown key"));
  CHECK(Contains(ErrorOf(With("{\"id\": \"licagent-demo\"}",
                              "{\"id\": \"x\", \"match\": {\"treshold_percent\": 5}}")),
                 "products[0].match.treshold_percent: unknown key"));
  CHECK(Contains(ErrorOf(With("\"listen\"", "\"threads\": 1, \"threads\": 2, \"listen\"")),
                 "threads: duplicate key"));
  CHECK(Contains(ErrorOf(With("127.0.0.1:8443", "127.0.0.1")), "listen"));
  CHECK(Contains(ErrorOf(With("127.0.0.1:8443", "127.0.0.1:70000")), "listen"));
  CHECK(Contains(ErrorOf(With("127.0.0.1:8443", "::1:8443")), "brackets"));
  CHECK(Contains(ErrorOf(With("\"sqlite\"", "\"postgres\"")), "storage.kind"));
  CHECK(Contains(ErrorOf(With("\"listen\"", "\"threads\": 0, \"listen\"")),
                 "threads: must be from 1"));
  CHECK(Contains(ErrorOf(With("\"listen\"", "\"threads\": \"8\", \"listen\"")),
                 "threads: must be an integer"));
  CHECK(Contains(ErrorOf(With("\"listen\"", "\"min_agent_version\": \"1.2\", \"listen\"")),
                 "min_agent_version"));
  CHECK(Contains(ErrorOf(With("\"key_id\": \"demo-2026\"", "\"key_id\": \"\"")),
                 "signing_key.key_id: must not be empty"));
  CHECK(Contains(ErrorOf(With("\"private_key\": \"/etc/licagent/server.key\"", "\"x\": 1")),
                 "tls.x: unknown key"));
  CHECK(Contains(ErrorOf(With("[{\"id\": \"licagent-demo\"}]", "[]")), "products"));
  CHECK(Contains(ErrorOf(With("{\"id\": \"licagent-demo\"}", "{\"id\": \"a\"}, {\"id\": \"a\"}")),
                 "products[1].id: 'a' appears twice"));
  CHECK(Contains(ErrorOf(With("{\"id\": \"licagent-demo\"}",
                              "{\"id\": \"a\", \"environments\": [\"vm\", \"cloud\"]}")),
                 "products[0].environments[1]"));
  CHECK(Contains(ErrorOf(With("{\"id\": \"licagent-demo\"}",
                              "{\"id\": \"a\", \"match\": {\"environment\": \"loose\"}}")),
                 "products[0].match.environment"));
  CHECK(Contains(ErrorOf(With("{\"id\": \"licagent-demo\"}", "{\"id\": \"a\", \"grace_days\": 0}")),
                 "products[0].grace_days"));
  CHECK(
      Contains(ErrorOf(With("\"storage\": {\"kind\": \"sqlite\", \"path\": \"licagent.db\"},", "")),
               "storage: missing"));
}

TEST_CASE("Config: versions compare as three numbers", "[server][config]") {
  CHECK(ParseVersion("0.1.0") == std::array<std::uint32_t, 3>{0, 1, 0});
  CHECK(*ParseVersion("0.10.0") > *ParseVersion("0.9.9"));
  CHECK_FALSE(ParseVersion("1.2"));
  CHECK_FALSE(ParseVersion("1.2.3.4"));
  CHECK_FALSE(ParseVersion("1.2.x"));
  CHECK_FALSE(ParseVersion("-1.2.3"));
  CHECK_FALSE(ParseVersion(""));
}

TEST_CASE("Config: the koogallery section", "[server][config][koogallery]") {
  auto none = ParseConfig(kMinimal, "/srv/licagent");
  REQUIRE(none);
  CHECK_FALSE(none->koogallery);

  const std::string full = With(R"("products": [{"id": "licagent-demo"}])",
                                R"("products": [{"id": "licagent-demo"}, {"id": "other"}],
  "koogallery": {
    "open_api": {"access_key": "AK1", "secret_key_file": "sk.txt",
                 "hosts": ["127.0.0.1:9443"], "ca_bundle": "ca.crt", "utc_offset_minutes": 480,
                 "timeout_seconds": 3, "query_interval_hours": 12, "report_usage": false},
    "callback": {"path": "/market/cb", "access_key_file": "/etc/licagent/cb.key",
                 "window_seconds": 90, "legacy_window_seconds": 0},
    "products": {"OFFI123": "other"},
    "default_product": "licagent-demo"
  })");
  auto c = ParseConfig(full, "/srv/licagent");
  REQUIRE(c);
  REQUIRE(c->koogallery);
  const auto& k = *c->koogallery;
  REQUIRE(k.open_api);
  CHECK(k.open_api->access_key == "AK1");
  CHECK(k.open_api->secret_key_file == "/srv/licagent/sk.txt");
  CHECK(k.open_api->hosts == std::vector<std::string>{"127.0.0.1:9443"});
  CHECK(k.open_api->ca_bundle == "/srv/licagent/ca.crt");
  CHECK(k.open_api->utc_offset_minutes == 480);
  CHECK(k.open_api->timeout_seconds == 3);
  CHECK(k.open_api->query_interval_hours == 12);
  CHECK_FALSE(k.open_api->report_usage);
  REQUIRE(k.callback);
  CHECK(k.callback->path == "/market/cb");
  CHECK(k.callback->access_key_file == "/etc/licagent/cb.key");
  CHECK(k.callback->window_seconds == 90);
  CHECK(k.callback->legacy_window_seconds == 0);
  CHECK(k.products.at("OFFI123") == "other");
  CHECK(k.default_product == "licagent-demo");

  // Defaults.
  auto d = ParseConfig(With(R"("products": [{"id": "licagent-demo"}])",
                            R"("products": [{"id": "licagent-demo"}],
  "koogallery": {"open_api": {"access_key": "AK", "secret_key_file": "sk"},
                 "callback": {"access_key_file": "k"}, "default_product": "licagent-demo"})"),
                       "/srv/licagent");
  REQUIRE(d);
  CHECK(d->koogallery->open_api->hosts ==
        std::vector<std::string>{"mkt.myhuaweicloud.com", "mkt.myhuaweicloud.cn"});
  CHECK(d->koogallery->open_api->ca_bundle.empty());
  CHECK(d->koogallery->open_api->timeout_seconds == 5);
  CHECK(d->koogallery->open_api->query_interval_hours == 24);
  CHECK(d->koogallery->open_api->report_usage);
  CHECK(d->koogallery->callback->path == "/koogallery/callback");
  CHECK(d->koogallery->callback->window_seconds == 60);
  CHECK(d->koogallery->callback->legacy_window_seconds == 300);

  // Mistakes.
  const auto bad = [&](const std::string& section) {
    return ErrorOf(With(R"("products": [{"id": "licagent-demo"}])",
                        R"("products": [{"id": "licagent-demo"}], "koogallery": )" + section));
  };
  CHECK(Contains(bad(R"({"open_api": {"access_key": "AK", "secret_key_file": "sk"}})"),
                 "koogallery: open_api needs"));
  CHECK(Contains(bad(R"({"open_api": {"secret_key_file": "sk"}, "default_product": "x"})"),
                 "koogallery.open_api.access_key: missing"));
  CHECK(Contains(bad(R"({"default_product": "nope"})"),
                 "koogallery.default_product: 'nope' is not one of this server's products"));
  CHECK(Contains(bad(R"({"products": {"P1": "nope"}})"), "koogallery.products.P1"));
  CHECK(Contains(bad(R"({"callback": {"access_key_file": "k", "path": "/v1/x"}})"),
                 "koogallery.callback.path"));
  CHECK(Contains(bad(R"({"callback": {"access_key_file": "k", "legacy_window_seconds": -1}})"),
                 "koogallery.callback.legacy_window_seconds"));
  CHECK(Contains(bad(R"({"callback": {"path": "/cb"}})"),
                 "koogallery.callback.access_key_file: missing"));
  CHECK(Contains(bad(R"({"open_api": {"access_key": "AK", "secret_key_file": "sk",
                         "hosts": ["https://x/"]}, "default_product": "licagent-demo"})"),
                 "koogallery.open_api.hosts[0]"));
  CHECK(Contains(bad(R"({"sk": 1})"), "koogallery.sk: unknown key"));
}
