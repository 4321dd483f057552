// `licagent-vendor keygen`: a new Ed25519 signing key as PREFIX.pem (private, 0600) and
// PREFIX.pub (KEY_ID:BASE64, what the agent trusts).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "licagent/license.h"
#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"
#include "server/vendor/files.h"
#include "server/vendor/signer.h"

namespace licagent::vendor {
namespace {

struct Options {
  std::string key_id;
  std::string prefix;
};

bool Exists(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  return !ec && status.type() != std::filesystem::file_type::not_found;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

int Run(const Options& o) {
  if (!ValidKeyId(o.key_id)) {
    return Fail({ErrorCode::kInvalidArgument,
                 "--key-id must be 1 to 64 of A-Z a-z 0-9 . _ - (e.g. acme-2026)"});
  }
  if (o.prefix.empty() || EndsWith(o.prefix, "/") || EndsWith(o.prefix, ".pem") ||
      EndsWith(o.prefix, ".pub")) {
    return Fail({ErrorCode::kInvalidArgument,
                 "--out takes a prefix such as keys/acme-2026; PREFIX.pem and PREFIX.pub are "
                 "written"});
  }
  const std::string pem_path = o.prefix + ".pem";
  const std::string pub_path = o.prefix + ".pub";
  for (const std::string& path : {pem_path, pub_path}) {
    if (Exists(path)) {
      return Fail({ErrorCode::kInvalidArgument,
                   path + " already exists; refusing to overwrite a key (choose another --out)"});
    }
  }

  auto key = SigningKey::Generate();
  if (!key) return Fail(key.error());
  auto pem = key->ToPem();
  if (!pem) return Fail(pem.error());
  // Read the encoding back before trusting it with the only copy of the key.
  auto reread = SigningKey::FromPem(pem->view());
  if (!reread || reread->public_bytes() != key->public_bytes()) {
    return Fail({ErrorCode::kInternal, "the encoded private key does not read back"});
  }
  const std::string public_line = FormatPublicKey(key->Public(o.key_id));

  if (Status s = CreateFileExclusive(pem_path, pem->view(), 0600); !s) return Fail(s.error());
  if (Status s = CreateFileExclusive(pub_path, public_line + "\n", 0644); !s) {
    RemoveQuietly(pem_path);  // no private key without its public half
    return Fail(s.error());
  }

  std::printf("%s\n", public_line.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "licagent-vendor: wrote %s (private key, mode 0600: keep it offline) and %s\n"
               "licagent-vendor: next: build the agent with -DLICAGENT_TRUSTED_KEYS='%s' and "
               "-DLICAGENT_PRODUCT_ID=<your product id> (docs/vendor.md)\n",
               Printable(pem_path).c_str(), Printable(pub_path).c_str(), public_line.c_str());
  return kExitOk;
}

}  // namespace

Command AddKeygenCommand(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Generate an Ed25519 signing key: PREFIX.pem (PKCS#8 private key, mode 0600, never "
      "overwritten) and PREFIX.pub (KEY_ID:BASE64, the public key agents trust)");
  cmd->add_option("--key-id", options->key_id,
                  "Name of the key, written into every license it signs; 1-64 of A-Z a-z 0-9 . "
                  "_ - (e.g. acme-2026)")
      ->required();
  cmd->add_option("--out", options->prefix,
                  "Path prefix of the two files, e.g. keys/acme-2026 for keys/acme-2026.pem and "
                  "keys/acme-2026.pub")
      ->required();
  return [options] { return Run(*options); };
}

}  // namespace licagent::vendor
