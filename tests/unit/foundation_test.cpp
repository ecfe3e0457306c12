#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"
#include "akeyless_upstream/version.hpp"

namespace aku = akeyless_upstream;

TEST_CASE("base64 round-trips the RFC 4648 test vectors", "[encoding]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(aku::base64_encode(plain) == encoded);
    auto decoded = aku::base64_decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(std::string(decoded->begin(), decoded->end()) == plain);
  }
}

TEST_CASE("base64 decoding rejects characters outside the alphabet and names the offset",
          "[encoding]") {
  auto decoded = aku::base64_decode("Zm9v!mFy");
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(decoded.error().message().find("offset 4") != std::string::npos);
}

TEST_CASE("sha256 and hmac-sha256 match published vectors", "[encoding]") {
  CHECK(aku::hex_encode(aku::sha256(aku::as_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  CHECK(aku::hex_encode(aku::hmac_sha256(aku::as_bytes("Jefe"),
                                         aku::as_bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(aku::hex_colon_encode(aku::as_bytes("\x01\xab")) == "01:AB");
}

TEST_CASE("a secret compares by content and is emptied when moved from", "[secret]") {
  aku::SecretString a("s3cr3t");
  aku::SecretString b("s3cr3t");
  aku::SecretString c("other!");
  CHECK(a == b);
  CHECK_FALSE(a == c);
  aku::SecretString moved(std::move(a));
  CHECK(moved.reveal() == "s3cr3t");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is part of the contract
}

TEST_CASE("a result carries either a value or an error with its code", "[result]") {
  aku::Result<int> good(7);
  REQUIRE(good.ok());
  CHECK(*good == 7);
  aku::Result<int> bad(aku::Error(aku::ErrorCode::kNotFound, "no item"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == aku::ErrorCode::kNotFound);
  CHECK(bad.error().with_context("reading /a").message() == "reading /a: no item");
  CHECK(bad.error().to_string() == "NOT_FOUND: no item");
  CHECK(aku::kUserAgent.starts_with("akeyless-upstream/"));
}
