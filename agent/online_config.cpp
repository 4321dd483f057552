// LoadOnlineConfig: flags > environment > agent.json > compiled default (docs/activation.md).
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/online_internal.h"
#include "agent/strict_json.h"
#include "licagent/online.h"
#include "licagent_build_config.h"
#include "platform/platform.h"

namespace licagent {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfigFileSize = 64 * 1024;

Error Invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

Result<json> ParseStrictJson(std::string_view text, const std::string& origin) {
  auto j = strict_json::Parse(text, "the file");
  if (!j) return Invalid(origin + ": " + j.error().message);
  if (!j->is_object()) return Invalid(origin + ": must be a JSON object");
  return j;
}

bool IsBase64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '+' || c == '/') continue;
    if (c == '=' && i + 2 >= s.size()) continue;
    return false;
  }
  return true;
}

std::optional<std::string> RealEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

Status ApplyConfigFile(std::string_view text, const std::string& origin, OnlineConfig* config) {
  auto parsed = ParseStrictJson(text, origin);
  if (!parsed) return parsed.error();
  struct IntKey {
    const char* name;
    std::int64_t* field;
    std::int64_t min;
    std::int64_t max;
  };
  const IntKey ints[] = {
      {"connect_timeout_ms", &config->connect_timeout_ms, 1, 600000},
      {"attempt_timeout_ms", &config->attempt_timeout_ms, 1, 600000},
      {"total_timeout_ms", &config->total_timeout_ms, 1, 3600000},
      {"backoff_base_ms", &config->backoff_base_ms, 0, 600000},
      {"backoff_max_ms", &config->backoff_max_ms, 0, 600000},
      {"retry_after_max_ms", &config->retry_after_max_ms, 0, 3600000},
  };
  for (const auto& [key, value] : parsed->items()) {
    std::string* text_field = key == "server_url"          ? &config->server_url
                              : key == "ca_bundle"         ? &config->ca_bundle
                              : key == "pinned_public_key" ? &config->pinned_public_key
                              : key == "proxy"             ? &config->proxy
                                                           : nullptr;
    if (text_field != nullptr) {
      if (!value.is_string()) return Invalid(origin + ": \"" + key + "\" must be a string");
      *text_field = value.get<std::string>();
      continue;
    }
    if (key == "max_attempts") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > 10) {
        return Invalid(origin + ": \"max_attempts\" must be an integer from 1 to 10");
      }
      config->max_attempts = value.get<int>();
      continue;
    }
    bool known = false;
    for (const IntKey& k : ints) {
      if (key != k.name) continue;
      known = true;
      if (!value.is_number_integer() || value.get<std::int64_t>() < k.min ||
          value.get<std::int64_t>() > k.max) {
        return Invalid(origin + ": \"" + key + "\" must be an integer from " +
                       std::to_string(k.min) + " to " + std::to_string(k.max));
      }
      *k.field = value.get<std::int64_t>();
    }
    if (!known) return Invalid(origin + ": unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

Status ValidateOnlineConfig(const OnlineConfig& c) {
  if (!c.server_url.empty()) {
    if (c.server_url.rfind("https://", 0) != 0) {
      return Invalid("the server URL must start with https:// (plain http is never used): " +
                     c.server_url);
    }
    if (c.server_url.size() <= 8 || c.server_url[8] == '/' ||
        c.server_url.find_first_of(" \t\r\n?#") != std::string::npos) {
      return Invalid("the server URL is malformed: " + c.server_url);
    }
  }
  if (!c.pinned_public_key.empty()) {
    std::string_view pins = c.pinned_public_key;
    while (true) {
      const std::size_t end = pins.find(';');
      const std::string_view pin = pins.substr(0, end);
      if (pin.rfind("sha256//", 0) != 0 || !IsBase64(pin.substr(8)) || pin.size() != 8 + 44) {
        return Invalid(
            "the pinned key must be sha256//BASE64 (44 characters of base64, as "
            "tests/tls/make-test-pki.sh and docs/activation.md show), several "
            "separated by ';': " +
            std::string(pin));
      }
      if (end == std::string_view::npos) break;
      pins.remove_prefix(end + 1);
    }
  }
  if (c.connect_timeout_ms < 1 || c.attempt_timeout_ms < 1 || c.total_timeout_ms < 1 ||
      c.backoff_base_ms < 0 || c.backoff_max_ms < 0 || c.retry_after_max_ms < 0) {
    return Invalid("timeouts must be positive");
  }
  if (c.max_attempts < 1 || c.max_attempts > 10) {
    return Invalid("max_attempts must be from 1 to 10");
  }
  return Status::Ok();
}

Result<OnlineConfig> LoadOnlineConfigFrom(const OnlineSettings& settings,
                                          const ConfigSources& sources) {
  OnlineConfig config;
  config.server_url = sources.compiled_server_url;

  // The configuration file: the named one (which must exist), else the first standard one.
  std::vector<std::filesystem::path> candidates;
  if (settings.config_file) {
    candidates.push_back(*settings.config_file);
  } else {
    candidates = sources.default_files;
  }
  for (const std::filesystem::path& path : candidates) {
    auto text = sources.platform->ReadFile(path, kMaxConfigFileSize);
    if (!text) {
      if (text.error().code == ErrorCode::kNotFound && !settings.config_file) continue;
      return Invalid("cannot read the configuration file " + path.string() + ": " +
                     text.error().message);
    }
    LICAGENT_RETURN_IF_ERROR(ApplyConfigFile(*text, path.string(), &config));
    break;
  }

  // The environment, then the flags; an empty value counts as unset.
  const struct {
    const char* env;
    const std::optional<std::string>* flag;
    std::string* field;
  } layers[] = {
      {kServerUrlEnv, &settings.server_url, &config.server_url},
      {kCaBundleEnv, &settings.ca_bundle, &config.ca_bundle},
      {kPinnedKeyEnv, &settings.pinned_public_key, &config.pinned_public_key},
      {kProxyEnv, &settings.proxy, &config.proxy},
  };
  for (const auto& layer : layers) {
    if (sources.env) {
      if (auto value = sources.env(layer.env); value && !value->empty()) *layer.field = *value;
    }
    if (*layer.flag && !(*layer.flag)->empty()) *layer.field = **layer.flag;
  }
  while (!config.server_url.empty() && config.server_url.back() == '/') {
    config.server_url.pop_back();
  }
  LICAGENT_RETURN_IF_ERROR(ValidateOnlineConfig(config));
  return config;
}

Result<OnlineConfig> LoadOnlineConfig(const OnlineSettings& settings, bool system_scope) {
  ConfigSources sources;
  sources.env = RealEnv;
  sources.platform = &platform::Platform::Default();
  sources.compiled_server_url = LICAGENT_SERVER_URL;
  if (!settings.config_file) {
    if (!system_scope) {
      if (auto dir = platform::ConfigDir(platform::StateScope::kUser)) {
        sources.default_files.push_back(*dir / kConfigFileName);
      }
    }
    if (auto dir = platform::ConfigDir(platform::StateScope::kSystem)) {
      sources.default_files.push_back(*dir / kConfigFileName);
    }
  }
  return LoadOnlineConfigFrom(settings, sources);
}

}  // namespace licagent
