#pragma once

// SecretString: holds an access key, a token or a private key PEM. Its memory is zeroed when the
// value is destroyed or replaced, it compares in constant time, it has no stream operator, and its
// bytes are read only through the explicit reveal().

#include <cstddef>
#include <cstring>
#include <memory>
#include <ostream>
#include <string_view>

#include <openssl/crypto.h>  // OPENSSL_cleanse, CRYPTO_memcmp (BoringSSL: via mem.h)

namespace akeyless_upstream {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view text) { assign(text); }

  SecretString(const SecretString& other) { assign(other.reveal()); }
  SecretString& operator=(const SecretString& other) {
    if (this != &other) {
      assign(other.reveal());
    }
    return *this;
  }
  SecretString(SecretString&& other) noexcept
      : bytes_(std::move(other.bytes_)), size_(other.size_) {
    other.size_ = 0;
  }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      size_ = other.size_;
      other.size_ = 0;
    }
    return *this;
  }
  ~SecretString() { wipe(); }

  // reveal gives read access to the secret bytes; the view is valid while this object lives
  // unchanged. Callers must not copy the bytes into logs, error messages or long-lived strings.
  std::string_view reveal() const noexcept {
    return bytes_ ? std::string_view(bytes_.get(), size_) : std::string_view();
  }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  // Constant-time in the length of the shorter operand; lengths are not secret.
  friend bool operator==(const SecretString& a, const SecretString& b) noexcept {
    return a.size_ == b.size_ &&
           (a.size_ == 0 || CRYPTO_memcmp(a.bytes_.get(), b.bytes_.get(), a.size_) == 0);
  }

 private:
  void assign(std::string_view text) {
    wipe();
    if (text.empty()) {
      return;
    }
    bytes_ = std::make_unique<char[]>(text.size());
    std::memcpy(bytes_.get(), text.data(), text.size());
    size_ = text.size();
  }

  void wipe() noexcept {
    if (bytes_) {
      OPENSSL_cleanse(bytes_.get(), size_);
      bytes_.reset();
    }
    size_ = 0;
  }

  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0;
};

// Printing a secret is a compile error.
std::ostream& operator<<(std::ostream&, const SecretString&) = delete;

}  // namespace akeyless_upstream
