#include "server/marketsim/config.h"

#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "server/vendor/files.h"

namespace licagent::marketsim {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfigSize = 1024 * 1024;

Error Bad(const std::string& path, std::string problem) {
  return Error{ErrorCode::kInvalidArgument, path + ": " + std::move(problem)};
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Status CheckObject(const json& j, const std::string& path,
                   std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return Bad(path.empty() ? "configuration" : path, "must be an object");
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return Bad(Join(path, key), "unknown key");
  }
  return Status::Ok();
}

Status GetString(const json& obj, const std::string& path, std::string_view key, bool required,
                 std::string& out, bool allow_empty = false) {
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) return required ? Bad(Join(path, key), "missing") : Status::Ok();
  if (!it->is_string()) return Bad(Join(path, key), "must be a string");
  out = it->get<std::string>();
  if (out.empty() && !allow_empty) return Bad(Join(path, key), "must not be empty");
  return Status::Ok();
}

Status GetInt(const json& obj, const std::string& path, std::string_view key, int lo, int hi,
              int& out) {
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_integer()) return Bad(Join(path, key), "must be an integer");
  const auto n = it->get<std::int64_t>();
  if (n < lo || n > hi) {
    return Bad(Join(path, key), "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  out = static_cast<int>(n);
  return Status::Ok();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  return p.lexically_normal().string();
}

Status ParseListen(const std::string& text, Config& c) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return Bad("listen", "must be HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return Bad("listen", "unbalanced [ ]");
    host = host.substr(1, host.size() - 2);
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

Status ParseRetry(const json& j, const std::string& path, RetryPolicy& p) {
  LICAGENT_RETURN_IF_ERROR(CheckObject(j, path, {"retries", "interval_ms"}));
  LICAGENT_RETURN_IF_ERROR(GetInt(j, path, "retries", 0, 1000, p.retries));
  return GetInt(j, path, "interval_ms", 0, 24 * 3600 * 1000, p.interval_ms);
}

}  // namespace

const Credential* Config::FindCredential(std::string_view access_key) const {
  for (const Credential& c : credentials) {
    if (c.access_key == access_key) return &c;
  }
  return nullptr;
}

Result<Config> ParseConfig(std::string_view text, const std::string& base_dir) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Bad("configuration", "not valid JSON");
  Config c;
  LICAGENT_RETURN_IF_ERROR(CheckObject(
      j, "",
      {"listen", "tls", "state_file", "access_log", "threads", "admin_token", "credentials",
       "clock_window_seconds", "frozen_query_status", "vendor", "retry"}));
  std::string listen;
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "listen", true, listen));
  LICAGENT_RETURN_IF_ERROR(ParseListen(listen, c));

  const auto tls = j.find("tls");
  if (tls == j.end()) return Bad("tls", "missing (the marketplace speaks HTTPS only)");
  LICAGENT_RETURN_IF_ERROR(CheckObject(*tls, "tls", {"certificate", "private_key"}));
  LICAGENT_RETURN_IF_ERROR(GetString(*tls, "tls", "certificate", true, c.tls_certificate));
  LICAGENT_RETURN_IF_ERROR(GetString(*tls, "tls", "private_key", true, c.tls_private_key));
  c.tls_certificate = Resolve(base_dir, c.tls_certificate);
  c.tls_private_key = Resolve(base_dir, c.tls_private_key);

  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "state_file", true, c.state_file));
  c.state_file = Resolve(base_dir, c.state_file);
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "access_log", false, c.access_log, true));
  if (!c.access_log.empty() && c.access_log != "-") c.access_log = Resolve(base_dir, c.access_log);
  LICAGENT_RETURN_IF_ERROR(GetInt(j, "", "threads", 1, 64, c.threads));
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "admin_token", false, c.admin_token));
  if (!c.admin_token.empty() && c.admin_token.size() < 16) {
    return Bad("admin_token", "must be at least 16 characters");
  }
  LICAGENT_RETURN_IF_ERROR(GetInt(j, "", "clock_window_seconds", 1, 86400, c.clock_window_seconds));
  LICAGENT_RETURN_IF_ERROR(GetString(j, "", "frozen_query_status", false, c.frozen_query_status));

  const auto creds = j.find("credentials");
  if (creds == j.end() || !creds->is_array() || creds->empty()) {
    return Bad("credentials", "must be a non-empty array of {access_key, secret_key}");
  }
  for (std::size_t i = 0; i < creds->size(); ++i) {
    const std::string path = "credentials[" + std::to_string(i) + "]";
    const json& e = (*creds)[i];
    LICAGENT_RETURN_IF_ERROR(CheckObject(e, path, {"access_key", "secret_key", "products"}));
    Credential cred;
    LICAGENT_RETURN_IF_ERROR(GetString(e, path, "access_key", true, cred.access_key));
    LICAGENT_RETURN_IF_ERROR(GetString(e, path, "secret_key", true, cred.secret_key));
    if (const auto p = e.find("products"); p != e.end()) {
      if (!p->is_array()) return Bad(path + ".products", "must be an array of product ids");
      for (const json& id : *p) {
        if (!id.is_string()) return Bad(path + ".products", "must be an array of product ids");
        cred.products.push_back(id.get<std::string>());
      }
    }
    if (c.FindCredential(cred.access_key) != nullptr) {
      return Bad(path + ".access_key", "appears twice");
    }
    c.credentials.push_back(std::move(cred));
  }

  if (const auto v = j.find("vendor"); v != j.end()) {
    LICAGENT_RETURN_IF_ERROR(CheckObject(*v, "vendor", {"url", "key", "ca_bundle", "timeout_ms"}));
    LICAGENT_RETURN_IF_ERROR(GetString(*v, "vendor", "url", false, c.vendor.url));
    LICAGENT_RETURN_IF_ERROR(GetString(*v, "vendor", "key", !c.vendor.url.empty(), c.vendor.key));
    LICAGENT_RETURN_IF_ERROR(GetString(*v, "vendor", "ca_bundle", false, c.vendor.ca_bundle));
    if (!c.vendor.ca_bundle.empty()) c.vendor.ca_bundle = Resolve(base_dir, c.vendor.ca_bundle);
    LICAGENT_RETURN_IF_ERROR(GetInt(*v, "vendor", "timeout_ms", 100, 60000, c.vendor.timeout_ms));
    if (!c.vendor.url.empty() && c.vendor.url.rfind("https://", 0) != 0) {
      return Bad("vendor.url", "must be an https:// URL (the marketplace calls HTTPS only)");
    }
  }
  if (const auto r = j.find("retry"); r != j.end()) {
    LICAGENT_RETURN_IF_ERROR(CheckObject(
        *r, "retry",
        {"license_code", "instance_create", "instance", "legacy_get_license", "legacy_other"}));
    const std::pair<const char*, RetryPolicy*> families[] = {
        {"license_code", &c.retry.license_code},
        {"instance_create", &c.retry.instance_create},
        {"instance", &c.retry.instance},
        {"legacy_get_license", &c.retry.legacy_get_license},
        {"legacy_other", &c.retry.legacy_other}};
    for (const auto& [name, policy] : families) {
      if (const auto p = r->find(name); p != r->end()) {
        LICAGENT_RETURN_IF_ERROR(ParseRetry(*p, std::string("retry.") + name, *policy));
      }
    }
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = vendor::ReadFile(path, kMaxConfigSize);
  if (!text) return text.error();
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  const std::string base =
      ec ? std::filesystem::path(path).parent_path().string() : absolute.parent_path().string();
  auto config = ParseConfig(*text, base);
  if (!config) {
    Error e = config.error();
    e.message = path + ": " + e.message;
    return e;
  }
  config->config_path = path;
  return config;
}

}  // namespace licagent::marketsim
