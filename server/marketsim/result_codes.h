// The License 2.0 open API's result codes (reference/koogallery.md §4.6) and the gateway's
// (§3.1.3), each with the HTTP status and error_msg the simulator answers with. Clients must
// decide on error_code, never on the status (the published tables disagree on it).
#pragma once

namespace licagent::marketsim {

enum class ApiCode {
  kSuccess,             // 200 92020000
  kInternalError,       // 200 92020001 internal error
  kUnauthorized,        // 403 92020001 Unauthorized (the AK may not use this code's product)
  kInvalidParam,        // 200 92020002 invalid param (semantic: a bad time, a bad list)
  kIllegalState,        // 200 92020003 illegal state (activated twice, frozen, released...)
  kNotReceived,         // 200 92020004 not claimed by the buyer yet
  kNotExist,            // 200 92020005 no such code
  kNotActivated,        // 200 92020011 query before activate
  kInvalidCodeExists,   // 200 92020020 a batch holds an invalid code
  kReqParamInvalid,     // 400 95000001 required/type/length check
  kMethodNotSupported,  // 405 95000002
  kContentType,         // 415 95000003
  kNotReadable,         // 400 95000004 the body is not JSON
  kGatewayAuth,         // 401 APIGW.0301 bad/missing Authorization, unknown AK, bad signature
  kGatewayAppAuth,      // 401 APIGW.0303 X-Sdk-Date malformed or over 15 minutes off
  kGatewayNoApi,        // 404 APIGW.0101 no such API
};

struct ApiCodeInfo {
  int http_status;
  const char* error_code;
  const char* error_msg;
};

constexpr ApiCodeInfo Info(ApiCode code) {
  switch (code) {
    case ApiCode::kSuccess:
      return {200, "92020000", "Success"};
    case ApiCode::kInternalError:
      return {200, "92020001", "internal error"};
    case ApiCode::kUnauthorized:
      return {403, "92020001", "Unauthorized"};
    case ApiCode::kInvalidParam:
      return {200, "92020002", "invalid param"};
    case ApiCode::kIllegalState:
      return {200, "92020003", "illegal state"};
    case ApiCode::kNotReceived:
      return {200, "92020004", "can not active before user received."};
    case ApiCode::kNotExist:
      return {200, "92020005", "license code not exist"};
    case ApiCode::kNotActivated:
      return {200, "92020011", "license code has been not activated."};
    case ApiCode::kInvalidCodeExists:
      return {200, "92020020", "Invalid license code exists."};
    case ApiCode::kReqParamInvalid:
      return {400, "95000001", "req param is invalid"};
    case ApiCode::kMethodNotSupported:
      return {405, "95000002", "Request method not supported"};
    case ApiCode::kContentType:
      return {415, "95000003", "Content type not supported"};
    case ApiCode::kNotReadable:
      return {400, "95000004", "req message is not readable"};
    case ApiCode::kGatewayAuth:
      return {401, "APIGW.0301", "Incorrect IAM authentication information"};
    case ApiCode::kGatewayAppAuth:
      return {401, "APIGW.0303", "Incorrect app authentication information"};
    case ApiCode::kGatewayNoApi:
      return {404, "APIGW.0101", "The API does not exist or has not been published"};
  }
  return {500, "92020001", "internal error"};
}

}  // namespace licagent::marketsim
