// The strict configuration parser: nlohmann/json with a callback that catches duplicate keys.
#include "server/activation/config.h"

#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "server/vendor/files.h"

namespace licagent::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfigSize = 1024 * 1024;
constexpr int kMaxDays = 36500;

Error Bad(const std::string& path, std::string problem) {
  return Error{ErrorCode::kInvalidArgument, path + ": " + std::move(problem)};
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

const char* TypeName(const json& j) { return j.type_name(); }

Status CheckObject(const json& j, const std::string& path,
                   std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) {
    return Bad(path.empty() ? "configuration" : path,
               std::string("must be an object, not ") + TypeName(j));
  }
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return Bad(Join(path, key), "unknown key");
  }
  return Status::Ok();
}

const json* Member(const json& obj, std::string_view key) {
  const auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

Status GetString(const json& obj, const std::string& path, std::string_view key, bool required,
                 std::string& out) {
  const json* v = Member(obj, key);
  if (v == nullptr) return required ? Bad(Join(path, key), "missing") : Status::Ok();
  if (!v->is_string())
    return Bad(Join(path, key), std::string("must be a string, not ") + TypeName(*v));
  out = v->get<std::string>();
  if (out.empty()) return Bad(Join(path, key), "must not be empty");
  return Status::Ok();
}

Status GetInt(const json& obj, const std::string& path, std::string_view key, bool required, int lo,
              int hi, int& out) {
  const json* v = Member(obj, key);
  if (v == nullptr) return required ? Bad(Join(path, key), "missing") : Status::Ok();
  if (!v->is_number_integer()) {
    return Bad(Join(path, key), std::string("must be an integer, not ") + TypeName(*v));
  }
  const auto n = v->get<std::int64_t>();
  if (n < lo || n > hi) {
    return Bad(Join(path, key), "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  out = static_cast<int>(n);
  return Status::Ok();
}

Status GetBool(const json& obj, const std::string& path, std::string_view key, bool& out) {
  const json* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) {
    return Bad(Join(path, key), std::string("must be true or false, not ") + TypeName(*v));
  }
  out = v->get<bool>();
  return Status::Ok();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  return p.lexically_normal().string();
}

Status ParseListen(const std::string& text, ServerConfig& c) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Bad("listen", "must be HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443");
  }
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return Bad("listen", "unbalanced [ ] around the host");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Bad("listen", "write an IPv6 host in brackets: [::1]:8443");
  }
  const std::string port_text = text.substr(colon + 1);
  int port = -1;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return Bad("listen", "port must be a number from 0 (any free port) to 65535");
  }
  c.listen_host = std::move(host);
  c.listen_port = port;
  return Status::Ok();
}

std::optional<Environment> ParseEnvironmentName(std::string_view name) {
  for (Environment e : {Environment::kBareMetal, Environment::kVm, Environment::kContainer,
                        Environment::kCloudVm, Environment::kVmContainer, Environment::kUnknown}) {
    if (name == ToString(e)) return e;
  }
  return std::nullopt;
}

Status ParseMatch(const json& j, const std::string& path, MatchPolicy& m) {
  LICAGENT_RETURN_IF_ERROR(CheckObject(
      j, path, {"threshold_percent", "min_matched", "require_hardware", "environment"}));
  LICAGENT_RETURN_IF_ERROR(
      GetInt(j, path, "threshold_percent", false, 1, 100, m.threshold_percent));
  LICAGENT_RETURN_IF_ERROR(GetInt(j, path, "min_matched", false, 1, kSlotCount, m.min_matched));
  LICAGENT_RETURN_IF_ERROR(GetBool(j, path, "require_hardware", m.require_hardware));
  std::string rule;
  LICAGENT_RETURN_IF_ERROR(GetString(j, path, "environment", false, rule));
  if (rule.empty() || rule == "no-leaving-bare-metal") {
    m.environment = EnvironmentRule::kNoLeavingBareMetal;
  } else if (rule == "exact") {
    m.environment = EnvironmentRule::kExact;
  } else if (rule == "any") {
    m.environment = EnvironmentRule::kAny;
  } else {
    return Bad(Join(path, "environment"),
               "'" + rule + "' is not one of no-leaving-bare-metal, exact, any");
  }
  return Status::Ok();
}

Status ParseProduct(const json& j, const std::string& path, ProductConfig& p) {
  LICAGENT_RETURN_IF_ERROR(CheckObject(
      j, path, {"id", "default_validity_days", "grace_days", "seats", "environments", "match"}));
  LICAGENT_RETURN_IF_ERROR(GetString(j, path, "id", true, p.id));
  if (p.id.size() > 64) return Bad(Join(path, "id"), "must be at most 64 characters");
  LICAGENT_RETURN_IF_ERROR(
      GetInt(j, path, "default_validity_days", false, 0, kMaxDays, p.default_validity_days));
  LICAGENT_RETURN_IF_ERROR(GetInt(j, path, "grace_days", false, 1, kMaxDays, p.grace_days));
  LICAGENT_RETURN_IF_ERROR(GetInt(j, path, "seats", false, 1, 1000000, p.seats));
  if (const json* envs = Member(j, "environments")) {
    const std::string epath = Join(path, "environments");
    if (!envs->is_array() || envs->empty()) {
      return Bad(epath, "must be a non-empty array of environment classes");
    }
    for (std::size_t i = 0; i < envs->size(); ++i) {
      const json& e = (*envs)[i];
      const std::string ipath = epath + "[" + std::to_string(i) + "]";
      if (!e.is_string()) return Bad(ipath, "must be a string");
      const auto env = ParseEnvironmentName(e.get<std::string>());
      if (!env) {
        return Bad(ipath, "'" + e.get<std::string>() +
                              "' is not one of bare-metal, vm, container, cloud-vm, "
                              "vm+container, unknown");
      }
      p.environments.push_back(*env);
    }
  } else {
    p.environments = {Environment::kBareMetal, Environment::kVm,          Environment::kContainer,
                      Environment::kCloudVm,   Environment::kVmContainer, Environment::kUnknown};
  }
  if (const json* m = Member(j, "match")) {
    LICAGENT_RETURN_IF_ERROR(ParseMatch(*m, Join(path, "match"), p.match));
  }
  return Status::Ok();
}

Status ParseKooGallery(const json& j, const ServerConfig& server, const std::string& base_dir,
                       KooGalleryConfig& k) {
  const std::string path = "koogallery";
  LICAGENT_RETURN_IF_ERROR(
      CheckObject(j, path, {"open_api", "callback", "products", "default_product"}));
  if (const json* api = Member(j, "open_api")) {
    const std::string apath = Join(path, "open_api");
    KooGalleryOpenApiConfig a;
    LICAGENT_RETURN_IF_ERROR(
        CheckObject(*api, apath,
                    {"access_key", "secret_key_file", "hosts", "ca_bundle", "utc_offset_minutes",
                     "timeout_seconds", "query_interval_hours", "report_usage"}));
    LICAGENT_RETURN_IF_ERROR(GetString(*api, apath, "access_key", true, a.access_key));
    LICAGENT_RETURN_IF_ERROR(GetString(*api, apath, "secret_key_file", true, a.secret_key_file));
    a.secret_key_file = Resolve(base_dir, a.secret_key_file);
    if (const json* hosts = Member(*api, "hosts")) {
      const std::string hpath = Join(apath, "hosts");
      if (!hosts->is_array() || hosts->empty() || hosts->size() > 8) {
        return Bad(hpath, "must be an array of 1 to 8 host names (HOST or HOST:PORT)");
      }
      a.hosts.clear();
      for (std::size_t i = 0; i < hosts->size(); ++i) {
        const json& h = (*hosts)[i];
        if (!h.is_string() || h.get<std::string>().empty() ||
            h.get<std::string>().find_first_of("/ ") != std::string::npos) {
          return Bad(hpath + "[" + std::to_string(i) + "]",
                     "must be a host name, HOST or HOST:PORT (no scheme, no path)");
        }
        a.hosts.push_back(h.get<std::string>());
      }
    }
    LICAGENT_RETURN_IF_ERROR(GetString(*api, apath, "ca_bundle", false, a.ca_bundle));
    if (!a.ca_bundle.empty()) a.ca_bundle = Resolve(base_dir, a.ca_bundle);
    LICAGENT_RETURN_IF_ERROR(
        GetInt(*api, apath, "utc_offset_minutes", false, -14 * 60, 14 * 60, a.utc_offset_minutes));
    LICAGENT_RETURN_IF_ERROR(
        GetInt(*api, apath, "timeout_seconds", false, 1, 60, a.timeout_seconds));
    LICAGENT_RETURN_IF_ERROR(
        GetInt(*api, apath, "query_interval_hours", false, 0, 24 * 30, a.query_interval_hours));
    LICAGENT_RETURN_IF_ERROR(GetBool(*api, apath, "report_usage", a.report_usage));
    k.open_api = std::move(a);
  }
  if (const json* cb = Member(j, "callback")) {
    const std::string cpath = Join(path, "callback");
    KooGalleryCallbackConfig c;
    LICAGENT_RETURN_IF_ERROR(CheckObject(
        *cb, cpath, {"path", "access_key_file", "window_seconds", "legacy_window_seconds"}));
    LICAGENT_RETURN_IF_ERROR(GetString(*cb, cpath, "path", false, c.path));
    if (c.path.front() != '/' || c.path.rfind("/v1/", 0) == 0 ||
        c.path.find_first_of("?# ") != std::string::npos) {
      return Bad(Join(cpath, "path"), "must be an absolute path outside /v1/, without ? or #");
    }
    LICAGENT_RETURN_IF_ERROR(GetString(*cb, cpath, "access_key_file", true, c.access_key_file));
    c.access_key_file = Resolve(base_dir, c.access_key_file);
    LICAGENT_RETURN_IF_ERROR(
        GetInt(*cb, cpath, "window_seconds", false, 1, 3600, c.window_seconds));
    LICAGENT_RETURN_IF_ERROR(
        GetInt(*cb, cpath, "legacy_window_seconds", false, 0, 86400, c.legacy_window_seconds));
    k.callback = std::move(c);
  }
  const auto known_product = [&](const std::string& where, const std::string& id) -> Status {
    if (server.FindProduct(id) == nullptr) {
      return Bad(where, "'" + id + "' is not one of this server's products");
    }
    return Status::Ok();
  };
  if (const json* products = Member(j, "products")) {
    const std::string ppath = Join(path, "products");
    if (!products->is_object()) {
      return Bad(ppath, "must map marketplace product ids to this server's product ids");
    }
    for (const auto& [market_id, ours] : products->items()) {
      const std::string where = Join(ppath, market_id);
      if (market_id.empty() || market_id.size() > 64) return Bad(where, "bad marketplace id");
      if (!ours.is_string()) return Bad(where, "must be a product id string");
      LICAGENT_RETURN_IF_ERROR(known_product(where, ours.get<std::string>()));
      k.products[market_id] = ours.get<std::string>();
    }
  }
  LICAGENT_RETURN_IF_ERROR(GetString(j, path, "default_product", false, k.default_product));
  if (!k.default_product.empty()) {
    LICAGENT_RETURN_IF_ERROR(known_product(Join(path, "default_product"), k.default_product));
  }
  if (k.open_api && k.products.empty() && k.default_product.empty()) {
    return Bad(path, "open_api needs \"products\" or \"default_product\" to know what a code buys");
  }
  return Status::Ok();
}

// Parses with a callback that records the first key seen twice in one object; nlohmann would
// silently keep the last one.
Result<json> ParseStrictJson(std::string_view text) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    json j = json::parse(text.begin(), text.end(), cb);
    if (!duplicate.empty()) return Bad(duplicate, "duplicate key");
    return j;
  } catch (const json::exception& e) {
    return Error{ErrorCode::kInvalidArgument, std::string("not valid JSON: ") + e.what()};
  }
}

}  // namespace

const ProductConfig* ServerConfig::FindProduct(std::string_view id) const {
  for (const auto& p : products) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::optional<std::array<std::uint32_t, 3>> ParseVersion(std::string_view text) {
  std::array<std::uint32_t, 3> v{};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (std::size_t i = 0; i < 3; ++i) {
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    const auto [next, ec] = std::from_chars(p, end, v[i]);
    if (ec != std::errc()) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return v;
}

Result<ServerConfig> ParseConfig(std::string_view text, const std::string& base_dir) {
  auto parsed = ParseStrictJson(text);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  ServerConfig c;
  LICAGENT_RETURN_IF_ERROR(
      CheckObject(j, "",
                  {"listen", "tls", "signing_key", "storage", "access_log", "threads",
                   "min_agent_version", "rate_limit", "products", "koogallery"}));
  std::string listen;
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "listen", true, listen));
  LICAGENT_RETURN_IF_ERROR(ParseListen(listen, c));

  const json* tls = Member(j, "tls");
  if (tls == nullptr) return Bad("tls", "missing (the server speaks HTTPS only)");
  LICAGENT_RETURN_IF_ERROR(CheckObject(*tls, "tls", {"certificate", "private_key"}));
  LICAGENT_RETURN_IF_ERROR(GetString(*tls, "tls", "certificate", true, c.tls_certificate));
  LICAGENT_RETURN_IF_ERROR(GetString(*tls, "tls", "private_key", true, c.tls_private_key));
  c.tls_certificate = Resolve(base_dir, c.tls_certificate);
  c.tls_private_key = Resolve(base_dir, c.tls_private_key);

  const json* key = Member(j, "signing_key");
  if (key == nullptr) return Bad("signing_key", "missing");
  LICAGENT_RETURN_IF_ERROR(CheckObject(*key, "signing_key", {"file", "key_id"}));
  LICAGENT_RETURN_IF_ERROR(GetString(*key, "signing_key", "file", true, c.signing_key_file));
  LICAGENT_RETURN_IF_ERROR(GetString(*key, "signing_key", "key_id", true, c.signing_key_id));
  c.signing_key_file = Resolve(base_dir, c.signing_key_file);

  const json* storage = Member(j, "storage");
  if (storage == nullptr) return Bad("storage", "missing");
  LICAGENT_RETURN_IF_ERROR(CheckObject(*storage, "storage", {"kind", "path"}));
  LICAGENT_RETURN_IF_ERROR(GetString(*storage, "storage", "kind", false, c.storage_kind));
  if (c.storage_kind != "sqlite") {
    return Bad("storage.kind", "'" + c.storage_kind + "' is not supported (only sqlite)");
  }
  LICAGENT_RETURN_IF_ERROR(GetString(*storage, "storage", "path", true, c.storage_path));
  c.storage_path = Resolve(base_dir, c.storage_path);

  if (const json* log = Member(j, "access_log")) {
    if (!log->is_string()) return Bad("access_log", "must be a path, \"-\" or \"\"");
    c.access_log = log->get<std::string>();
    if (!c.access_log.empty() && c.access_log != "-")
      c.access_log = Resolve(base_dir, c.access_log);
  }
  LICAGENT_RETURN_IF_ERROR(GetInt(j, "", "threads", false, 1, 256, c.threads));
  std::string min_version;
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "min_agent_version", false, min_version));
  if (!min_version.empty()) {
    if (!ParseVersion(min_version)) return Bad("min_agent_version", "must be MAJOR.MINOR.PATCH");
    c.min_agent_version = min_version;
  }
  if (const json* rl = Member(j, "rate_limit")) {
    LICAGENT_RETURN_IF_ERROR(
        CheckObject(*rl, "rate_limit",
                    {"activations_per_credential_per_minute", "requests_per_address_per_minute"}));
    LICAGENT_RETURN_IF_ERROR(GetInt(*rl, "rate_limit", "activations_per_credential_per_minute",
                                    false, 0, 1000000,
                                    c.rate_limit.activations_per_credential_per_minute));
    LICAGENT_RETURN_IF_ERROR(GetInt(*rl, "rate_limit", "requests_per_address_per_minute", false, 0,
                                    10000000, c.rate_limit.requests_per_address_per_minute));
  }
  const json* products = Member(j, "products");
  if (products == nullptr || !products->is_array() || products->empty()) {
    return Bad("products", "must be a non-empty array");
  }
  for (std::size_t i = 0; i < products->size(); ++i) {
    ProductConfig p;
    LICAGENT_RETURN_IF_ERROR(
        ParseProduct((*products)[i], "products[" + std::to_string(i) + "]", p));
    if (c.FindProduct(p.id) != nullptr) {
      return Bad("products[" + std::to_string(i) + "].id", "'" + p.id + "' appears twice");
    }
    c.products.push_back(std::move(p));
  }
  if (const json* k = Member(j, "koogallery")) {
    KooGalleryConfig koogallery;
    LICAGENT_RETURN_IF_ERROR(ParseKooGallery(*k, c, base_dir, koogallery));
    c.koogallery = std::move(koogallery);
  }
  return c;
}

Result<ServerConfig> LoadConfig(const std::string& path) {
  auto text = vendor::ReadFile(path, kMaxConfigSize);
  if (!text) return text.error();
  std::filesystem::path p(path);
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(p, ec);
  const std::string base = ec ? p.parent_path().string() : absolute.parent_path().string();
  auto config = ParseConfig(*text, base);
  if (!config) {
    Error e = config.error();
    e.message = path + ": " + e.message;
    return e;
  }
  config->config_path = path;
  return config;
}

}  // namespace licagent::server
