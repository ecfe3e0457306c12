// Mint benchmark: how long loading a certificate item and minting SPIRE's intermediate CA take
// for each upstream key type, and the process's peak memory. Run with scripts/bench.sh (or
// `meson test -C build --benchmark --verbose`); results are written up in docs/benchmarks.md.
// This is a measurement, not a test: it asserts nothing about speed.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "akeyless_upstream/ca_signer.hpp"
#include "akeyless_upstream/csr.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/testing/pki.hpp"
#include "akeyless_upstream/upstream_material.hpp"

namespace aku = akeyless_upstream;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double median_us = 0;
  double p90_us = 0;
};

Stats summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 9 / 10]};
}

template <typename Fn>
Stats measure(int iterations, Fn&& fn) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    auto start = Clock::now();
    if (!fn()) {
      std::fprintf(stderr, "mint_bench: operation failed\n");
      std::exit(1);
    }
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return summarise(std::move(samples));
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  if (iterations < 10) {
    iterations = 10;
  }
  const aku::KeyType types[] = {aku::KeyType::kEcP256, aku::KeyType::kEcP384,
                                aku::KeyType::kRsa2048, aku::KeyType::kRsa3072,
                                aku::KeyType::kRsa4096};

  auto csr_key = aku::PrivateKey::generate(aku::KeyType::kEcP256);
  if (!csr_key) {
    std::fprintf(stderr, "mint_bench: %s\n", csr_key.error().to_string().c_str());
    return 1;
  }
  auto csr = aku::build_csr_der(*csr_key, aku::spire_like_csr_spec("example.org"));
  if (!csr) {
    std::fprintf(stderr, "mint_bench: %s\n", csr.error().to_string().c_str());
    return 1;
  }

  std::printf("iterations per cell: %d; CSR key: EC P-256 (SPIRE's default ca_key_type)\n",
              iterations);
  std::printf("%-10s %14s %14s %14s %14s\n", "upstream", "load med (us)", "load p90 (us)",
              "mint med (us)", "mint p90 (us)");
  for (aku::KeyType type : types) {
    aku::testing::CaOptions options;
    options.common_name = "bench upstream root";
    options.key_type = type;
    auto root = aku::testing::make_self_signed(options);
    if (!root) {
      std::fprintf(stderr, "mint_bench: %s\n", root.error().to_string().c_str());
      return 1;
    }
    auto key_pem = root->key.to_pkcs8_pem();
    if (!key_pem) {
      std::fprintf(stderr, "mint_bench: %s\n", key_pem.error().to_string().c_str());
      return 1;
    }
    std::string cert_pem = root->certificate.pem();

    Stats load = measure(iterations, [&] {
      return aku::UpstreamMaterial::load(cert_pem, *key_pem, std::nullopt).ok();
    });

    auto material = aku::UpstreamMaterial::load(cert_pem, *key_pem, std::nullopt);
    if (!material) {
      std::fprintf(stderr, "mint_bench: %s\n", material.error().to_string().c_str());
      return 1;
    }
    aku::CaSigner signer(std::make_shared<const aku::UpstreamMaterial>(std::move(*material)));
    Stats mint = measure(
        iterations, [&] { return signer.mint(*csr, "example.org", std::chrono::hours(24)).ok(); });

    std::printf("%-10s %14.0f %14.0f %14.0f %14.0f\n",
                std::string(aku::key_type_name(type)).c_str(), load.median_us, load.p90_us,
                mint.median_us, mint.p90_us);
  }
  std::printf("peak RSS: %ld KiB\n", peak_rss_kib());
  return 0;
}
