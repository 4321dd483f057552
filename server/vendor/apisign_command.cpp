// `licagent-vendor apisign`: signs a KooGallery open-API request with SDK-HMAC-SHA256 and prints
// the canonical request, the string to sign and the headers to send, so a vendor can see why the
// marketplace gateway answered APIGW.0301 (docs/koogallery.md). The SK is read into wiped memory
// and never printed.
#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/koogallery/signing.h"
#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"
#include "server/vendor/files.h"
#include "server/vendor/secret_bytes.h"

namespace licagent::vendor {
namespace {

constexpr std::size_t kMaxBodySize = 12 * 1024 * 1024;  // the gateway's AK/SK body limit
constexpr std::size_t kMaxSkFileSize = 4096;

struct Options {
  std::string method;
  std::string url;
  std::vector<std::string> headers;
  std::string date;
  std::string ak;
  std::string sk;  // wiped as soon as it is copied into SecretBytes
  std::string sk_file;
  std::string body;
  std::string body_file;
  bool json = false;
};

std::string Trim(std::string s) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && space(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && space(s[i])) ++i;
  return s.substr(i);
}

Error Usage(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

Result<SecretBytes> TakeSecret(Options& o) {
  if (!o.sk_file.empty()) {
    auto secret = ReadSecretFile(o.sk_file, kMaxSkFileSize);
    if (!secret) return secret.error();
    std::size_t n = secret->size();
    while (n > 0 && (secret->data()[n - 1] == '\n' || secret->data()[n - 1] == '\r')) --n;
    secret->set_size(n);
    if (n == 0) return Usage(o.sk_file + " is empty");
    return secret;
  }
  SecretBytes secret(o.sk.size());
  for (std::size_t i = 0; i < o.sk.size(); ++i)
    secret.data()[i] = static_cast<unsigned char>(o.sk[i]);
  secret.set_size(o.sk.size());
  WipeString(o.sk);
  if (secret.size() == 0) return Usage("--sk is empty");
  return secret;
}

int Run(Options& o) {
  auto secret = TakeSecret(o);  // first, so the option's copy is wiped on every path
  if (!secret) return Fail(secret.error(), o.json);

  koogallery::ApiSignInput in;
  for (const std::string& h : o.headers) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Fail(Usage("--header takes 'Name: value', got '" + h + "'"), o.json);
    }
    in.headers.emplace(Trim(h.substr(0, colon)), Trim(h.substr(colon + 1)));
  }
  std::string body = o.body;
  if (!o.body_file.empty()) {
    auto read = o.body_file == "-" ? ReadStdin(kMaxBodySize, ErrorCode::kInvalidArgument)
                                   : ReadFile(o.body_file, kMaxBodySize);
    if (!read) return Fail(read.error(), o.json);
    body = std::move(read).value();
  }
  const std::string date =
      o.date.empty() ? koogallery::FormatSdkDate(std::chrono::system_clock::now()) : o.date;
  in.method = o.method;
  in.url = o.url;
  in.body = body;
  in.sdk_date = date;
  in.access_key = o.ak;
  in.secret_key = secret->view();
  auto sig = koogallery::SignApiRequest(in);
  if (!sig) return Fail(sig.error(), o.json);

  std::string out;
  if (o.json) {
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [name, value] : sig->headers) headers.push_back({name, value});
    nlohmann::json j = {{"canonical_request", sig->canonical_request},
                        {"string_to_sign", sig->string_to_sign},
                        {"signature", sig->signature},
                        {"signed_headers", sig->signed_headers},
                        {"authorization", sig->authorization},
                        {"request_target", sig->path_and_query},
                        {"headers", headers}};
    out = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    // Blocks separated by marker lines; the canonical request line by line exactly as signed
    // (its last line has no newline of its own), control characters shown as \xNN.
    const auto lines = [&out](std::string_view text) {
      std::size_t start = 0;
      while (true) {
        const std::size_t nl = text.find('\n', start);
        out += Printable(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
        out += '\n';
        if (nl == std::string_view::npos) return;
        start = nl + 1;
      }
    };
    out += "--- canonical request ---\n";
    lines(sig->canonical_request);
    out += "--- string to sign ---\n";
    lines(sig->string_to_sign);
    out += "--- headers to send ---\n";
    for (const auto& [name, value] : sig->headers) lines(name + ": " + value);
    out += "--- request ---\n";
    lines(o.method + " " + sig->path_and_query);
  }
  if (Status s = WriteStdout(out); !s) return Fail(s.error(), o.json);
  return kExitOk;
}

}  // namespace

Command AddApisignCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "apisign",
      "Sign a KooGallery open-API request with SDK-HMAC-SHA256 (AK/SK) and print the canonical "
      "request, the string to sign and the headers to send: for debugging an APIGW.0301 answer");
  cmd->add_option("--method", o->method, "HTTP method (GET, POST)")->required();
  cmd->add_option("--url", o->url,
                  "Absolute URL, e.g. https://mkt.myhuaweicloud.com/api/mkp-openapi-public/"
                  "global/v1/license/activate")
      ->required();
  cmd->add_option("--header", o->headers,
                  "A header to send and sign, 'Name: value'; repeat for several. Host and "
                  "X-Sdk-Date are added when not given")
      ->allow_extra_args(false);
  cmd->add_option("--date", o->date,
                  "X-Sdk-Date, yyyyMMddTHHmmssZ in UTC (default: now), e.g. 20191115T033655Z");
  cmd->add_option("--ak", o->ak, "Access key id (AK)")->required();
  auto* sk = cmd->add_option("--sk", o->sk,
                             "Secret access key (SK); never printed. Prefer --sk-file: command "
                             "lines are visible to other users of the machine");
  auto* sk_file = cmd->add_option("--sk-file", o->sk_file,
                                  "File holding the SK (a trailing newline is ignored)");
  sk->excludes(sk_file);
  auto* body = cmd->add_option("--body", o->body, "Request body (default: empty)");
  auto* body_file = cmd->add_option("--body-file", o->body_file,
                                    "File holding the exact body bytes; - for stdin");
  body->excludes(body_file);
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text");
  return [o] {
    if (o->sk.empty() && o->sk_file.empty()) {
      return Fail(Usage("apisign needs --sk or --sk-file"), o->json);
    }
    return Run(*o);
  };
}

}  // namespace licagent::vendor
