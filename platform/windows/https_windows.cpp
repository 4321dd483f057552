// Windows: the agent's one HTTPS POST (agent/http_client.h) through WinHTTP, the system's own
// HTTP stack. TLS (Schannel), the certificate store and the proxy settings are Windows', so
// licagent.exe needs neither libcurl nor OpenSSL (docs/windows.md "Online commands").
//
// The request is sent in two steps: WinHttpSendRequest sends the headers only (the TLS handshake
// happens there), then CheckServer verifies the server's certificate — its chain against the CA
// bundle or Windows' root store, the host name, the dates, the key usage, the pinned keys — and
// only then does WinHttpWriteData send the body. A server that fails the check never sees the
// body. WinHTTP's own certificate checks are turned off so that this one check decides, with the
// same rules and messages on Windows and under Wine (whose WinHTTP reports every certificate
// problem as a handshake failure).
#include <winsock2.h>
#include <ws2tcpip.h>
// winsock2.h before windows.h; windows.h before these, which need its types.
#include <bcrypt.h>
#include <wincrypt.h>
#include <windows.h>
#include <winhttp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/http_client.h"
#include "licagent/protocol.h"
#include "licagent_build_config.h"
#include "platform/platform.h"
#include "platform/windows/win_text.h"

namespace licagent::http {
namespace {

using platform::ToUtf16;
using platform::ToUtf8;

// The largest CA bundle read (Debian's whole ca-certificates bundle is about 200 KiB).
constexpr std::size_t kMaxCaBundle = 4 << 20;

// An owned WinHTTP handle.
class Internet {
 public:
  explicit Internet(HINTERNET handle = nullptr) : handle_(handle) {}
  ~Internet() {
    if (handle_ != nullptr) WinHttpCloseHandle(handle_);
  }
  Internet(const Internet&) = delete;
  Internet& operator=(const Internet&) = delete;
  HINTERNET get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  HINTERNET handle_;
};

// Owners for the CryptoAPI objects used in the certificate check.
struct StoreCloser {
  void operator()(void* store) const { CertCloseStore(static_cast<HCERTSTORE>(store), 0); }
};
using Store = std::unique_ptr<void, StoreCloser>;
struct CertFreer {
  void operator()(const CERT_CONTEXT* cert) const { CertFreeCertificateContext(cert); }
};
using Cert = std::unique_ptr<const CERT_CONTEXT, CertFreer>;
struct ChainFreer {
  void operator()(const CERT_CHAIN_CONTEXT* chain) const { CertFreeCertificateChain(chain); }
};
using Chain = std::unique_ptr<const CERT_CHAIN_CONTEXT, ChainFreer>;

Failure Fail(ErrorCode code, std::string message, bool transient = false) {
  return Failure{Error{code, std::move(message)}, transient};
}

Outcome Failed(Failure failure) {
  Outcome out;
  out.failure = std::move(failure);
  return out;
}

bool NoProxy(const OnlineConfig& config) {
  return config.proxy == "none" || config.proxy == "direct";
}

std::string Via(const OnlineConfig& config) {
  return config.proxy.empty() || NoProxy(config) ? "" : " through the proxy " + config.proxy;
}

// What is wrong with a certificate chain, from its CERT_TRUST_* error status bits.
std::string ChainText(DWORD status) {
  std::string text;
  auto add = [&](DWORD bits, const char* what) {
    if ((status & bits) == 0) return;
    if (!text.empty()) text += ", ";
    text += what;
  };
  add(CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_IS_PARTIAL_CHAIN,
      "issued by a CA that is not trusted");
  add(CERT_TRUST_IS_NOT_TIME_VALID | CERT_TRUST_CTL_IS_NOT_TIME_VALID, "expired or not yet valid");
  add(CERT_TRUST_IS_NOT_SIGNATURE_VALID, "a signature does not verify");
  add(CERT_TRUST_IS_REVOKED, "revoked");
  add(CERT_TRUST_IS_NOT_VALID_FOR_USAGE, "not meant for a TLS server");
  add(CERT_TRUST_IS_CYCLIC | CERT_TRUST_INVALID_EXTENSION | CERT_TRUST_INVALID_BASIC_CONSTRAINTS |
          CERT_TRUST_INVALID_NAME_CONSTRAINTS | CERT_TRUST_INVALID_POLICY_CONSTRAINTS,
      "the chain is malformed");
  if (text.empty()) text = "chain error status " + std::to_string(status);
  return text;
}

// What a WinHTTP error means for the caller (the twin of http_client.cpp's Classify).
Failure Classify(DWORD error, const std::string& url, const OnlineConfig& config) {
  const std::string code = "WinHTTP error " + std::to_string(error);
  const std::string via = Via(config);
  switch (error) {
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_INVALID_CA:
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
    case ERROR_WINHTTP_SECURE_INVALID_CERT:
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
    case ERROR_WINHTTP_SECURE_CERT_REV_FAILED:
    case ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE:
      // Only policies that WinHTTP enforces beyond its ignore flags (revocation) come here.
      return Fail(ErrorCode::kUntrusted, "the server " + url +
                                             " is not trusted: its TLS certificate did not "
                                             "verify (" +
                                             code + ")");
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
      return Fail(ErrorCode::kUnavailable,
                  "the TLS connection to " + url + via + " failed (" + code + ")", true);
    case ERROR_WINHTTP_INVALID_URL:
    case ERROR_WINHTTP_UNRECOGNIZED_SCHEME:
      return Fail(ErrorCode::kInvalidArgument, "the server URL " + url + " is unusable: " + code);
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
      return Fail(ErrorCode::kUnavailable,
                  "cannot reach " + url + via + ": the host name does not resolve (" + code + ")",
                  true);
    case ERROR_WINHTTP_CANNOT_CONNECT:
      return Fail(ErrorCode::kUnavailable,
                  "cannot reach " + url + via + ": cannot connect (" + code + ")", true);
    case ERROR_WINHTTP_TIMEOUT:
      return Fail(ErrorCode::kUnavailable,
                  "the server " + url + via + " did not answer in time (" + code + ")", true);
    case ERROR_WINHTTP_CONNECTION_ERROR:
    case ERROR_WINHTTP_INVALID_SERVER_RESPONSE:
    case ERROR_WINHTTP_RESEND_REQUEST:
    case ERROR_WINHTTP_OPERATION_CANCELLED:
      return Fail(ErrorCode::kUnavailable,
                  "the connection to " + url + via + " failed (" + code + ")", true);
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_WINHTTP_INTERNAL_ERROR:
      return Fail(ErrorCode::kInternal, "WinHTTP failed: " + code);
    default:
      return Fail(ErrorCode::kUnavailable,
                  "the exchange with " + url + via + " failed (" + code + ")");
  }
}

// The certificates of a PEM bundle (the same file curl's CAINFO takes) in a memory store.
Result<Store> LoadCaBundle(const std::string& file) {
  const std::string where = "the CA bundle " + file;
  auto text =
      platform::Platform::Default().ReadFile(std::filesystem::path(ToUtf16(file)), kMaxCaBundle);
  if (!text) {
    return Error{ErrorCode::kInvalidArgument, where + " cannot be read: " + text.error().message};
  }
  Store store(CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, nullptr));
  if (!store) return Error{ErrorCode::kInternal, "CertOpenStore failed"};
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  int added = 0;
  std::size_t at = 0;
  while ((at = text->find(kBegin, at)) != std::string::npos) {
    const std::size_t end = text->find(kEnd, at);
    if (end == std::string::npos) break;
    const char* pem = text->data() + at;
    const DWORD pem_size = static_cast<DWORD>(end + kEnd.size() - at);
    at = end + kEnd.size();
    DWORD der_size = 0;
    if (!CryptStringToBinaryA(pem, pem_size, CRYPT_STRING_BASE64HEADER, nullptr, &der_size, nullptr,
                              nullptr)) {
      return Error{ErrorCode::kInvalidArgument, where + " holds a malformed PEM certificate"};
    }
    std::vector<BYTE> der(der_size);
    if (!CryptStringToBinaryA(pem, pem_size, CRYPT_STRING_BASE64HEADER, der.data(), &der_size,
                              nullptr, nullptr) ||
        !CertAddEncodedCertificateToStore(store.get(), X509_ASN_ENCODING, der.data(), der_size,
                                          CERT_STORE_ADD_ALWAYS, nullptr)) {
      return Error{ErrorCode::kInvalidArgument, where + " holds a certificate that does not parse"};
    }
    ++added;
  }
  if (added == 0) {
    return Error{ErrorCode::kInvalidArgument, where + " holds no PEM certificate"};
  }
  return store;
}

bool SameCertificate(const CERT_CONTEXT* a, const CERT_CONTEXT* b) {
  return a->cbCertEncoded == b->cbCertEncoded &&
         std::memcmp(a->pbCertEncoded, b->pbCertEncoded, a->cbCertEncoded) == 0;
}

// The address `host` spells when it is an IP literal ("127.0.0.1", "::1", "[::1]").
std::optional<std::vector<BYTE>> IpLiteral(std::wstring host) {
  if (host.size() > 2 && host.front() == L'[' && host.back() == L']') {
    host = host.substr(1, host.size() - 2);
  }
  IN_ADDR v4 = {};
  if (InetPtonW(AF_INET, host.c_str(), &v4) == 1) {
    const auto* b = reinterpret_cast<const BYTE*>(&v4);
    return std::vector<BYTE>(b, b + sizeof(v4));
  }
  IN6_ADDR v6 = {};
  if (InetPtonW(AF_INET6, host.c_str(), &v6) == 1) {
    const auto* b = reinterpret_cast<const BYTE*>(&v6);
    return std::vector<BYTE>(b, b + sizeof(v6));
  }
  return std::nullopt;
}

// Whether the certificate's subjectAltName lists `address` as an iPAddress.
bool HasIpName(const CERT_CONTEXT* cert, const std::vector<BYTE>& address) {
  const CERT_EXTENSION* extension = CertFindExtension(
      szOID_SUBJECT_ALT_NAME2, cert->pCertInfo->cExtension, cert->pCertInfo->rgExtension);
  if (extension == nullptr) return false;
  CERT_ALT_NAME_INFO* names = nullptr;
  DWORD size = 0;
  if (!CryptDecodeObjectEx(X509_ASN_ENCODING, X509_ALTERNATE_NAME, extension->Value.pbData,
                           extension->Value.cbData, CRYPT_DECODE_ALLOC_FLAG, nullptr, &names,
                           &size)) {
    return false;
  }
  bool found = false;
  for (DWORD i = 0; i < names->cAltEntry && !found; ++i) {
    const CERT_ALT_NAME_ENTRY& entry = names->rgAltEntry[i];
    found = entry.dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS &&
            entry.IPAddress.cbData == address.size() &&
            std::memcmp(entry.IPAddress.pbData, address.data(), address.size()) == 0;
  }
  LocalFree(names);
  return found;
}

// Why `server` is not a valid certificate for `host` now, or nothing when it is: its chain —
// built from the certificates the server sent (and the bundle's) — must end in a trust anchor
// and have no other error, and the TLS server policy (host name, dates, key usage) must hold.
// With a `bundle` its certificates are the only trust anchors, as with curl's CAINFO; without
// one, Windows' root store is.
std::optional<std::string> CheckChain(const CERT_CONTEXT* server, HCERTSTORE bundle,
                                      const std::wstring& host) {
  Store extra(CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, nullptr));
  if (!extra || (bundle != nullptr && !CertAddStoreToCollection(extra.get(), bundle, 0, 0)) ||
      (server->hCertStore != nullptr &&
       !CertAddStoreToCollection(extra.get(), server->hCertStore, 0, 0))) {
    return "cannot build the certificate chain";
  }
  CERT_CHAIN_PARA para = {};
  para.cbSize = sizeof(para);
  const CERT_CHAIN_CONTEXT* raw = nullptr;
  if (!CertGetCertificateChain(nullptr, server, nullptr, extra.get(), &para, 0, nullptr, &raw)) {
    return "cannot build the certificate chain";
  }
  Chain chain(raw);
  if (chain->cChain < 1 || chain->rgpChain[0]->cElement < 1) return "no certificate chain";
  // Revocation is not asked for (as with curl's default): its "unknown" bits are no error.
  DWORD accepted = CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION;
  if (bundle != nullptr) {
    const CERT_SIMPLE_CHAIN* simple = chain->rgpChain[0];
    const CERT_CONTEXT* root = simple->rgpElement[simple->cElement - 1]->pCertContext;
    bool anchored = false;
    for (const CERT_CONTEXT* c = nullptr;
         !anchored && (c = CertEnumCertificatesInStore(bundle, c)) != nullptr;) {
      anchored = SameCertificate(c, root);
      if (anchored) CertFreeCertificateContext(c);
    }
    if (!anchored) return "issued by a CA that is not in the CA bundle";
    accepted |= CERT_TRUST_IS_UNTRUSTED_ROOT;  // Windows does not know the bundle's root
  }
  const DWORD errors = chain->TrustStatus.dwErrorStatus & ~accepted;
  if (errors != 0) return ChainText(errors);
  SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl = {};
  ssl.cbSize = sizeof(ssl);
  ssl.dwAuthType = AUTHTYPE_SERVER;
  ssl.fdwChecks = bundle != nullptr ? SECURITY_FLAG_IGNORE_UNKNOWN_CA : 0;  // anchor checked above
  // An IP address is matched here against the iPAddress names, the same on every Windows
  // version and under Wine (whose policy matches DNS names only); the policy checks the rest.
  if (const auto address = IpLiteral(host)) {
    if (!HasIpName(server, *address)) return "issued for another host name";
    ssl.fdwChecks |= SECURITY_FLAG_IGNORE_CERT_CN_INVALID;
  }
  ssl.pwszServerName = const_cast<wchar_t*>(host.c_str());
  CERT_CHAIN_POLICY_PARA policy = {};
  policy.cbSize = sizeof(policy);
  policy.pvExtraPolicyPara = &ssl;
  CERT_CHAIN_POLICY_STATUS status = {};
  status.cbSize = sizeof(status);
  if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain.get(), &policy, &status)) {
    return "the TLS policy check could not run";
  }
  switch (static_cast<HRESULT>(status.dwError)) {
    case S_OK:
      return std::nullopt;
    case CERT_E_CN_NO_MATCH:
      return "issued for another host name";
    case CERT_E_EXPIRED:
      return "expired or not yet valid";
    case CERT_E_UNTRUSTEDROOT:
    case CERT_E_UNTRUSTEDCA:
      return "issued by a CA that is not trusted";
    case CERT_E_WRONG_USAGE:
      return "not meant for a TLS server";
    default:
      return "refused by the TLS server policy (error " + std::to_string(status.dwError) + ")";
  }
}

// curl's pin of a certificate: "sha256//" and the base64 SHA-256 of its DER SubjectPublicKeyInfo.
std::optional<std::string> PinOf(const CERT_CONTEXT* cert) {
  DWORD size = 0;
  CERT_PUBLIC_KEY_INFO* info = &cert->pCertInfo->SubjectPublicKeyInfo;
  if (!CryptEncodeObject(X509_ASN_ENCODING, X509_PUBLIC_KEY_INFO, info, nullptr, &size)) {
    return std::nullopt;
  }
  std::vector<BYTE> der(size);
  if (!CryptEncodeObject(X509_ASN_ENCODING, X509_PUBLIC_KEY_INFO, info, der.data(), &size)) {
    return std::nullopt;
  }
  BCRYPT_ALG_HANDLE alg = nullptr;
  if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) {
    return std::nullopt;
  }
  BYTE digest[32];
  BCRYPT_HASH_HANDLE hash = nullptr;
  bool ok = BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, nullptr, 0, nullptr, 0, 0));
  ok = ok && BCRYPT_SUCCESS(BCryptHashData(hash, der.data(), size, 0)) &&
       BCRYPT_SUCCESS(BCryptFinishHash(hash, digest, sizeof(digest), 0));
  if (hash != nullptr) BCryptDestroyHash(hash);
  BCryptCloseAlgorithmProvider(alg, 0);
  if (!ok) return std::nullopt;
  DWORD chars = 0;
  const DWORD flags = CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF;
  if (!CryptBinaryToStringA(digest, sizeof(digest), flags, nullptr, &chars)) return std::nullopt;
  std::string text(chars, '\0');
  if (!CryptBinaryToStringA(digest, sizeof(digest), flags, text.data(), &chars)) {
    return std::nullopt;
  }
  text.resize(chars);
  return "sha256//" + text;
}

// Whether `pin` is one of the ';'-separated pins of `pins`.
bool PinListed(const std::string& pins, const std::string& pin) {
  std::size_t at = 0;
  while (at <= pins.size()) {
    const std::size_t end = std::min(pins.find(';', at), pins.size());
    if (pins.compare(at, end - at, pin) == 0) return true;
    at = end + 1;
  }
  return false;
}

// The server certificate's checks (WinHTTP's own are off): the chain, the host name, the pins.
std::optional<Failure> CheckServer(HINTERNET request, const OnlineConfig& config, HCERTSTORE bundle,
                                   const std::wstring& host, const std::string& url) {
  const CERT_CONTEXT* raw = nullptr;
  DWORD size = sizeof(raw);
  if (!WinHttpQueryOption(request, WINHTTP_OPTION_SERVER_CERT_CONTEXT, &raw, &size) ||
      raw == nullptr) {
    return Fail(ErrorCode::kUntrusted,
                "the server " + url + " is not trusted: WinHTTP gave no certificate to check");
  }
  Cert cert(raw);
  if (auto why = CheckChain(cert.get(), bundle, host)) {
    return Fail(ErrorCode::kUntrusted,
                "the server " + url + " is not trusted: its TLS certificate did not verify (" +
                    *why + ")" +
                    (bundle != nullptr ? "; CA bundle " + config.ca_bundle
                                       : "; Windows' certificate store was used"));
  }
  if (!config.pinned_public_key.empty()) {
    const auto pin = PinOf(cert.get());
    if (!pin) return Fail(ErrorCode::kInternal, "cannot compute the server's public-key pin");
    if (!PinListed(config.pinned_public_key, *pin)) {
      return Fail(ErrorCode::kUntrusted, "the server " + url +
                                             " is not trusted: its public key does not match "
                                             "the pinned key (it is " +
                                             *pin + ")");
    }
  }
  return std::nullopt;
}

// Retry-After in seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
std::optional<std::int64_t> RetryAfter(HINTERNET request) {
  wchar_t buffer[128];
  DWORD size = sizeof(buffer);
  if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_RETRY_AFTER, WINHTTP_HEADER_NAME_BY_INDEX, buffer,
                           &size, WINHTTP_NO_HEADER_INDEX)) {
    return std::nullopt;
  }
  std::wstring value(buffer, size / sizeof(wchar_t));
  while (!value.empty() && value.back() == L' ') value.pop_back();
  if (!value.empty() && value.size() <= 9 &&
      std::all_of(value.begin(), value.end(), [](wchar_t c) { return c >= L'0' && c <= L'9'; })) {
    const std::int64_t seconds = std::stoll(value);
    return seconds > 0 ? std::optional<std::int64_t>(seconds) : std::nullopt;
  }
  SYSTEMTIME when = {};
  FILETIME when_file = {};
  FILETIME now_file = {};
  if (!WinHttpTimeToSystemTime(value.c_str(), &when) || !SystemTimeToFileTime(&when, &when_file)) {
    return std::nullopt;
  }
  GetSystemTimeAsFileTime(&now_file);
  auto ticks = [](const FILETIME& f) {
    return (static_cast<std::int64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
  };
  const std::int64_t seconds = (ticks(when_file) - ticks(now_file)) / 10'000'000;
  return seconds > 0 ? std::optional<std::int64_t>(seconds) : std::nullopt;
}

// Opens the session with the proxy `config` asks for.
Result<HINTERNET> OpenSession(const OnlineConfig& config, const std::wstring& user_agent) {
  if (NoProxy(config)) {
    return WinHttpOpen(user_agent.c_str(), WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                       WINHTTP_NO_PROXY_BYPASS, 0);
  }
  if (config.proxy.empty()) {
    // Windows' own proxy settings (WPAD, PAC, the user's settings) from Windows 8.1 on; before,
    // the WinHTTP default proxy (`netsh winhttp set proxy`).
    HINTERNET session = WinHttpOpen(user_agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                                    WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    if (session != nullptr) return session;
    return WinHttpOpen(user_agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
                       WINHTTP_NO_PROXY_BYPASS, 0);
  }
  // WinHTTP speaks to HTTP proxies only, and takes credentials through another call.
  const bool http_proxy =
      config.proxy.rfind("http://", 0) == 0 || config.proxy.find("://") == std::string::npos;
  if (!http_proxy || config.proxy.find('@') != std::string::npos) {
    return Error{ErrorCode::kUnsupported,
                 "on Windows the proxy must be an http:// proxy without credentials in the URL "
                 "(WinHTTP): " +
                     config.proxy};
  }
  // "HOST:PORT": Windows also takes a scheme, Wine does not.
  std::string host_port = config.proxy;
  if (host_port.rfind("http://", 0) == 0) host_port.erase(0, 7);
  host_port = host_port.substr(0, host_port.find('/'));
  const std::wstring proxy = ToUtf16(host_port);
  return WinHttpOpen(user_agent.c_str(), WINHTTP_ACCESS_TYPE_NAMED_PROXY, proxy.c_str(),
                     WINHTTP_NO_PROXY_BYPASS, 0);
}

// Sets the receive timeouts to what is left of the deadline; false when nothing is left.
bool ArmTimeouts(HINTERNET request, ULONGLONG deadline) {
  const ULONGLONG now = GetTickCount64();
  if (now >= deadline) return false;
  DWORD left = static_cast<DWORD>(std::min<ULONGLONG>(deadline - now, MAXDWORD));
  WinHttpSetOption(request, WINHTTP_OPTION_RECEIVE_TIMEOUT, &left, sizeof(left));
  WinHttpSetOption(request, WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT, &left, sizeof(left));
  WinHttpSetOption(request, WINHTTP_OPTION_SEND_TIMEOUT, &left, sizeof(left));
  return true;
}

}  // namespace

Outcome Post(const OnlineConfig& config, const std::string& url, std::string_view body,
             std::int64_t timeout_ms) {
  if (url.rfind("https://", 0) != 0) {
    return Failed(
        Fail(ErrorCode::kInvalidArgument, "the server URL must start with https://: " + url));
  }
  if (body.size() > MAXDWORD) return Failed(Fail(ErrorCode::kInvalidArgument, "body too large"));
  timeout_ms = std::max<std::int64_t>(timeout_ms, 1);
  const ULONGLONG deadline = GetTickCount64() + static_cast<ULONGLONG>(timeout_ms);
  const int total_ms = static_cast<int>(std::min<std::int64_t>(timeout_ms, INT_MAX));
  const int connect_ms =
      static_cast<int>(std::clamp<std::int64_t>(config.connect_timeout_ms, 1, total_ms));

  Store bundle;
  if (!config.ca_bundle.empty()) {
    auto loaded = LoadCaBundle(config.ca_bundle);
    if (!loaded) return Failed(Failure{loaded.error(), false});
    bundle = std::move(*loaded);
  }

  const std::wstring user_agent = ToUtf16(std::string("licagent/") + LICAGENT_VERSION);
  auto opened = OpenSession(config, user_agent);
  if (!opened) return Failed(Failure{opened.error(), false});
  Internet session(*opened);
  if (!session) return Failed(Classify(GetLastError(), url, config));
  // TLS 1.2 or later only. TLS 1.3 is unknown to WinHTTP before Windows 11 / Server 2022: then
  // TLS 1.2 alone.
  DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2 | WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3;
  if (!WinHttpSetOption(session.get(), WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                        sizeof(protocols))) {
    protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;
    if (!WinHttpSetOption(session.get(), WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                          sizeof(protocols))) {
      return Failed(Fail(ErrorCode::kUnsupported, "WinHTTP cannot be limited to TLS 1.2+"));
    }
  }
  if (!WinHttpSetTimeouts(session.get(), connect_ms, connect_ms, total_ms, total_ms)) {
    return Failed(Classify(GetLastError(), url, config));
  }

  // The URL's parts. WinHttpCrackUrl points into `wide_url`.
  const std::wstring wide_url = ToUtf16(url);
  URL_COMPONENTS parts = {};
  parts.dwStructSize = sizeof(parts);
  parts.dwHostNameLength = static_cast<DWORD>(-1);
  parts.dwUrlPathLength = static_cast<DWORD>(-1);
  parts.dwExtraInfoLength = static_cast<DWORD>(-1);
  if (!WinHttpCrackUrl(wide_url.c_str(), static_cast<DWORD>(wide_url.size()), 0, &parts) ||
      parts.nScheme != INTERNET_SCHEME_HTTPS || parts.dwHostNameLength == 0) {
    return Failed(Fail(ErrorCode::kInvalidArgument, "the server URL " + url + " is unusable"));
  }
  const std::wstring host(parts.lpszHostName, parts.dwHostNameLength);
  std::wstring path(parts.lpszUrlPath, parts.dwUrlPathLength);
  path.append(parts.lpszExtraInfo, parts.dwExtraInfoLength);
  if (path.empty()) path = L"/";

  Internet connection(WinHttpConnect(session.get(), host.c_str(), parts.nPort, 0));
  if (!connection) return Failed(Classify(GetLastError(), url, config));
  Internet request(WinHttpOpenRequest(connection.get(), L"POST", path.c_str(), nullptr,
                                      WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                                      WINHTTP_FLAG_SECURE));
  if (!request) return Failed(Classify(GetLastError(), url, config));

  // Every option must take: a security option that silently failed would fail open.
  DWORD never = WINHTTP_OPTION_REDIRECT_POLICY_NEVER;
  if (!WinHttpSetOption(request.get(), WINHTTP_OPTION_REDIRECT_POLICY, &never, sizeof(never))) {
    return Failed(Fail(ErrorCode::kUnsupported, "WinHTTP refused to disable redirects"));
  }
  // CheckServer verifies the certificate before the body is sent; WinHTTP's checks would only
  // refuse earlier with less precise errors (and, under Wine, without IP address names).
  DWORD ignore = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID |
                 SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
  if (!WinHttpSetOption(request.get(), WINHTTP_OPTION_SECURITY_FLAGS, &ignore, sizeof(ignore))) {
    return Failed(Fail(ErrorCode::kUnsupported, "WinHTTP refused the certificate-check flags"));
  }

  // The headers only: the body waits for the certificate checks.
  const wchar_t* headers = L"Content-Type: application/json\r\nAccept: application/json\r\n";
  if (!WinHttpSendRequest(request.get(), headers, static_cast<DWORD>(-1L), WINHTTP_NO_REQUEST_DATA,
                          0, static_cast<DWORD>(body.size()), 0)) {
    return Failed(Classify(GetLastError(), url, config));
  }
  if (auto refused = CheckServer(request.get(), config, bundle.get(), host, url)) {
    return Failed(std::move(*refused));
  }
  for (std::size_t sent = 0; sent < body.size();) {
    DWORD wrote = 0;
    if (!ArmTimeouts(request.get(), deadline))
      return Failed(Classify(ERROR_WINHTTP_TIMEOUT, url, config));
    if (!WinHttpWriteData(request.get(), body.data() + sent, static_cast<DWORD>(body.size() - sent),
                          &wrote) ||
        wrote == 0) {
      return Failed(Classify(GetLastError(), url, config));
    }
    sent += wrote;
  }
  if (!ArmTimeouts(request.get(), deadline) || !WinHttpReceiveResponse(request.get(), nullptr)) {
    return Failed(Classify(GetTickCount64() >= deadline ? ERROR_WINHTTP_TIMEOUT : GetLastError(),
                           url, config));
  }

  Response response;
  DWORD status = 0;
  DWORD size = sizeof(status);
  if (!WinHttpQueryHeaders(request.get(), WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                           WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX)) {
    return Failed(Fail(ErrorCode::kInternal, "WinHTTP gave no HTTP status"));
  }
  response.status = static_cast<long>(status);
  response.retry_after_seconds = RetryAfter(request.get());
  const std::string too_large = "the answer of " + url + " is larger than " +
                                std::to_string(protocol::kMaxAnswerBody / 1024) + " KiB";
  DWORD declared = 0;
  size = sizeof(declared);
  if (WinHttpQueryHeaders(request.get(), WINHTTP_QUERY_CONTENT_LENGTH | WINHTTP_QUERY_FLAG_NUMBER,
                          WINHTTP_HEADER_NAME_BY_INDEX, &declared, &size,
                          WINHTTP_NO_HEADER_INDEX) &&
      declared > protocol::kMaxAnswerBody) {
    return Failed(Fail(ErrorCode::kUnavailable, too_large));
  }
  // Read until the end, within the cap and the deadline; each read returns at least one byte.
  std::vector<char> chunk(16 * 1024);
  while (true) {
    if (!ArmTimeouts(request.get(), deadline)) {
      return Failed(Classify(ERROR_WINHTTP_TIMEOUT, url, config));
    }
    DWORD got = 0;
    if (!WinHttpReadData(request.get(), chunk.data(), static_cast<DWORD>(chunk.size()), &got)) {
      return Failed(Classify(GetLastError(), url, config));
    }
    if (got == 0) break;
    if (response.body.size() + got > protocol::kMaxAnswerBody) {
      return Failed(Fail(ErrorCode::kUnavailable, too_large));
    }
    response.body.append(chunk.data(), got);
  }
  Outcome out;
  out.response = std::move(response);
  return out;
}

}  // namespace licagent::http
