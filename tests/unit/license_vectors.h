// The license test vectors in tests/data/licenses/ (signed by the openssl CLI, make-vectors.sh).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "licagent/license.h"
#include "tests/catch.h"

namespace licagent::testing {

// The bytes of tests/data/licenses/NAME.
inline std::string ReadLicenseData(const std::string& name) {
  std::ifstream in(std::string(LICAGENT_TEST_DATA_DIR) + "/licenses/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The public key in tests/data/licenses/NAME ("KEY_ID:BASE64" and a newline).
inline PublicKey VectorKey(const std::string& name) {
  std::string text = ReadLicenseData(name);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  auto key = ParsePublicKey(text);
  REQUIRE(key);
  return *key;
}

}  // namespace licagent::testing
