#pragma once

// `akeyless-upstream-sm check`: runs the whole path SPIRE would run, without SPIRE, and prints a
// report for the operator.

namespace akeyless_upstream::plugin {

// run_check parses `check --config FILE --trust-domain TD [--ca-ttl SECONDS]` (argv[0] is
// "check"), then: parses the configuration, logs in, reads the certificate item (and bundle),
// validates it, signs a test CSR shaped like SPIRE's, verifies the minted CA to the roots and
// prints a report on stdout. Returns 0 when SPIRE would accept the configuration, 1 otherwise
// (the reason on stderr), 2 for a usage error.
int run_check(int argc, char** argv);

}  // namespace akeyless_upstream::plugin
