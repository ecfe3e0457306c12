// sign_csr: mint an intermediate CA for a SPIRE-style CSR with an upstream CA held in files, the
// way the plugin does with an Akeyless certificate item. It shows the embedder's path through the
// library: UpstreamMaterial::load, then CaSigner::mint.
//
//   sign_csr --upstream-cert CERT.pem --upstream-key KEY.pem [--bundle ROOTS.pem]
//            --csr CSR --trust-domain TD [--ttl SECONDS]
//            --out-chain CHAIN.pem --out-roots ROOTS.pem
//
// CSR may be DER or PEM. CHAIN.pem receives the minted CA followed by the item's non-root
// certificates; ROOTS.pem receives the roots. Exit status 0 on success; on any error, 1 and one
// line on stderr.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "akeyless_upstream/ca_signer.hpp"
#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"
#include "akeyless_upstream/upstream_material.hpp"

namespace aku = akeyless_upstream;

namespace {

constexpr std::string_view kUsage =
    "usage: sign_csr --upstream-cert CERT.pem --upstream-key KEY.pem [--bundle ROOTS.pem] "
    "--csr CSR --trust-domain TD [--ttl SECONDS] --out-chain CHAIN.pem --out-roots ROOTS.pem";

// Options holds the parsed command line, by flag name without the leading dashes.
using Options = std::map<std::string, std::string, std::less<>>;

aku::Result<Options> parse_arguments(int argc, char** argv) {
  static const std::vector<std::string_view> kKnown = {"upstream-cert", "upstream-key", "bundle",
                                                       "csr",           "trust-domain", "ttl",
                                                       "out-chain",     "out-roots"};
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      return aku::Error(aku::ErrorCode::kInvalidArgument, std::string(kUsage));
    }
    if (!flag.starts_with("--")) {
      return aku::Error(
          aku::ErrorCode::kInvalidArgument,
          "unexpected argument \"" + std::string(flag) + "\"; " + std::string(kUsage));
    }
    flag.remove_prefix(2);
    std::optional<std::string> inline_value;
    if (auto equals = flag.find('='); equals != std::string_view::npos) {
      inline_value = std::string(flag.substr(equals + 1));
      flag = flag.substr(0, equals);
    }
    if (std::find(kKnown.begin(), kKnown.end(), flag) == kKnown.end()) {
      return aku::Error(aku::ErrorCode::kInvalidArgument,
                        "unknown flag --" + std::string(flag) + "; " + std::string(kUsage));
    }
    if (!inline_value.has_value()) {
      if (i + 1 >= argc) {
        return aku::Error(aku::ErrorCode::kInvalidArgument,
                          "flag --" + std::string(flag) + " needs a value");
      }
      inline_value = argv[++i];
    }
    if (!options.emplace(std::string(flag), *inline_value).second) {
      return aku::Error(aku::ErrorCode::kInvalidArgument,
                        "flag --" + std::string(flag) + " is given more than once");
    }
  }
  for (std::string_view required :
       {"upstream-cert", "upstream-key", "csr", "trust-domain", "out-chain", "out-roots"}) {
    if (options.find(required) == options.end()) {
      return aku::Error(
          aku::ErrorCode::kInvalidArgument,
          "missing required flag --" + std::string(required) + "; " + std::string(kUsage));
    }
  }
  return options;
}

aku::Result<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return aku::Error(aku::ErrorCode::kNotFound,
                      "cannot open " + std::string(what) + " file \"" + path + "\"");
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return aku::Error(aku::ErrorCode::kUnavailable,
                      "cannot read " + std::string(what) + " file \"" + path + "\"");
  }
  return content;
}

// read_secret_file reads the key file straight into a SecretString; the staging buffer is
// cleared, so the key never lives in an ordinary string.
aku::Result<aku::SecretString> read_secret_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return aku::Error(aku::ErrorCode::kNotFound, "cannot open upstream key file \"" + path + "\"");
  }
  std::streamsize size = in.tellg();
  if (size < 0) {
    return aku::Error(aku::ErrorCode::kUnavailable,
                      "cannot read upstream key file \"" + path + "\"");
  }
  std::vector<char> buffer(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(buffer.data(), size);
  bool read_ok = static_cast<bool>(in);
  aku::SecretString secret(std::string_view(buffer.data(), buffer.size()));
  OPENSSL_cleanse(buffer.data(), buffer.size());
  if (!read_ok) {
    return aku::Error(aku::ErrorCode::kUnavailable,
                      "cannot read upstream key file \"" + path + "\"");
  }
  return secret;
}

// csr_der accepts a DER CSR or a PEM "CERTIFICATE REQUEST" (or "NEW CERTIFICATE REQUEST") block.
aku::Result<aku::Bytes> csr_der(const std::string& content) {
  for (std::string_view label : {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}) {
    std::string begin = "-----BEGIN " + std::string(label) + "-----";
    std::string end = "-----END " + std::string(label) + "-----";
    auto start = content.find(begin);
    if (start == std::string::npos) {
      continue;
    }
    auto stop = content.find(end, start);
    if (stop == std::string::npos) {
      return aku::Error(aku::ErrorCode::kInvalidArgument, "CSR PEM block has no END line");
    }
    std::string body;
    for (char c : content.substr(start + begin.size(), stop - start - begin.size())) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
        body += c;
      }
    }
    auto decoded = aku::base64_decode(body);
    if (!decoded.ok()) {
      return decoded.error().with_context("CSR PEM body");
    }
    return decoded;
  }
  return aku::Bytes(content.begin(), content.end());
}

aku::Status write_file(const std::string& path, const std::string& content, std::string_view what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    return aku::Error(aku::ErrorCode::kUnavailable,
                      "cannot write " + std::string(what) + " file \"" + path + "\"");
  }
  return aku::Status::success();
}

aku::Status run(int argc, char** argv) {
  // == command line ==
  auto options = parse_arguments(argc, argv);
  if (!options.ok()) {
    return options.error();
  }
  std::chrono::seconds ttl{0};
  if (auto found = options->find("ttl"); found != options->end()) {
    const std::string& text = found->second;
    long long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0) {
      return aku::Error(aku::ErrorCode::kInvalidArgument,
                        "--ttl must be a whole number of seconds, 0 or more");
    }
    ttl = std::chrono::seconds(value);
  }

  // == inputs ==
  auto certificate_pem = read_file(options->at("upstream-cert"), "upstream certificate");
  if (!certificate_pem.ok()) {
    return certificate_pem.error();
  }
  auto key_pem = read_secret_file(options->at("upstream-key"));
  if (!key_pem.ok()) {
    return key_pem.error();
  }
  std::optional<std::string> bundle;
  if (auto found = options->find("bundle"); found != options->end()) {
    auto content = read_file(found->second, "bundle");
    if (!content.ok()) {
      return content.error();
    }
    bundle = std::move(content).value();
  }
  auto csr_content = read_file(options->at("csr"), "CSR");
  if (!csr_content.ok()) {
    return csr_content.error();
  }
  auto csr = csr_der(*csr_content);
  if (!csr.ok()) {
    return csr.error();
  }

  // == load and validate the upstream CA, as the plugin does with a certificate item ==
  std::optional<std::string_view> bundle_view;
  if (bundle.has_value()) {
    bundle_view = *bundle;
  }
  auto material = aku::UpstreamMaterial::load(*certificate_pem, *key_pem, bundle_view);
  if (!material.ok()) {
    return material.error();
  }

  // == mint ==
  aku::CaSigner signer(std::make_shared<const aku::UpstreamMaterial>(std::move(material).value()));
  auto minted = signer.mint(*csr, options->at("trust-domain"), ttl);
  if (!minted.ok()) {
    return minted.error();
  }

  // == outputs ==
  if (auto written = write_file(options->at("out-chain"), aku::to_pem(minted->chain), "chain");
      !written.ok()) {
    return written;
  }
  if (auto written = write_file(options->at("out-roots"), aku::to_pem(minted->roots), "roots");
      !written.ok()) {
    return written;
  }
  std::time_t expiry = std::chrono::system_clock::to_time_t(minted->certificate.not_after());
  std::tm parts{};
  gmtime_r(&expiry, &parts);
  char expiry_text[32];
  std::strftime(expiry_text, sizeof(expiry_text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  std::cout << "minted CA serial " << minted->certificate.serial_hex() << ", subject \""
            << minted->certificate.subject() << "\", expires " << expiry_text
            << (minted->ttl_clamped ? " (clamped to the upstream certificate)" : "") << "\n";
  return aku::Status::success();
}

}  // namespace

int main(int argc, char** argv) {
  aku::Status status = run(argc, argv);
  if (!status.ok()) {
    // One line: the message may name files and flags, never key material.
    std::string line = status.error().to_string();
    for (char& c : line) {
      if (c == '\n' || c == '\r') {
        c = ' ';
      }
    }
    std::cerr << "sign_csr: " << line << "\n";
    return 1;
  }
  return 0;
}
