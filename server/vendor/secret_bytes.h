// A buffer for private key material that is wiped with OPENSSL_cleanse when it dies.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace licagent::vendor {

// Owns key bytes (a raw seed, a PEM file's text). Move-only. Allocated once at its final
// capacity and never grown, so no reallocation leaves an unwiped copy behind; the whole
// capacity is wiped on destruction and on move-assignment. Not thread-safe.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t capacity) : buffer_(capacity) {}
  ~SecretBytes() { Wipe(); }

  SecretBytes(SecretBytes&& other) noexcept
      : buffer_(std::move(other.buffer_)), size_(std::exchange(other.size_, 0)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Wipe();
      buffer_ = std::move(other.buffer_);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  unsigned char* data() noexcept { return buffer_.data(); }
  const unsigned char* data() const noexcept { return buffer_.data(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return buffer_.size(); }
  // Sets how many bytes are in use (at most capacity()); never reallocates.
  void set_size(std::size_t size) noexcept {
    size_ = size <= buffer_.size() ? size : buffer_.size();
  }
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(buffer_.data()), size_};
  }

 private:
  void Wipe() noexcept {
    if (!buffer_.empty()) OPENSSL_cleanse(buffer_.data(), buffer_.size());
    size_ = 0;
  }

  std::vector<unsigned char> buffer_;
  std::size_t size_ = 0;
};

}  // namespace licagent::vendor
