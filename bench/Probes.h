//===- Probes.h - this machine's peaks, measured at start -------*- C++ -*-===//
//
// kiln-bench judges every kernel against rates measured here, on this host,
// now: the machine is shared, so a constant from a data sheet (or from last
// week) would flatter or blame the kernels for the neighbours' load. Each
// probe runs on every thread of the pool at once, repeats, and reports the
// median with its spread.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/ThreadPool.h"

#include <cstddef>
#include <string>
#include <vector>

namespace kiln::bench {

/// What a probe measures; the peak each benchmark row is compared against.
enum class ProbeKind { Int8Mac, F32Fma, ReadBandwidth };

/// One probe's rate over several runs (unit: GMAC/s, GFLOP/s or GB/s).
struct ProbeResult {
  ProbeKind kind;
  std::string name;     ///< e.g. "int8-mac"
  std::string sequence; ///< the instructions / access pattern measured
  std::string unit;
  double median = 0, min = 0, max = 0;
  unsigned runs = 0;
  bool isPeak = false; ///< the figure rows of this kind are judged against
};

struct ProbeOptions {
  unsigned runs = 7;                         ///< timed runs per probe
  size_t bandwidthBytes = size_t(512) << 20; ///< read buffer (>> LLC)
};

/// Runs every probe this CPU supports (the best exact int8 sequence and the
/// AVX2 `vpmaddwd` one, fp32 FMA, read bandwidth) on all threads of `pool`.
std::vector<ProbeResult> runProbes(ThreadPool &pool, const ProbeOptions &opts);

/// The result of `kind` marked as the peak (nullptr if none ran).
const ProbeResult *peak(const std::vector<ProbeResult> &probes, ProbeKind kind);

/// The ISA extensions relevant to the kernels, e.g. "avx2 fma avx512vnni".
std::string hostFeatures();

} // namespace kiln::bench
