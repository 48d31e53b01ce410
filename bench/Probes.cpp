//===- Probes.cpp - int8 MAC, fp32 FMA and read-bandwidth probes ----------===//
//
// The probes are C++ compiled with per-function target attributes
// (ProbeKernels.cpp) and chosen at run time with __builtin_cpu_supports,
// not JIT-generated: a probe must measure the *hardware*, so it cannot share
// a code generator with the kernels it judges (a codegen weakness would
// lower the bar too), and intrinsics and inline assembly pin the exact
// instruction sequence.
//
//===----------------------------------------------------------------------===//
#include "bench/Probes.h"
#include "bench/ProbeKernels.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

namespace kiln::bench {

namespace {

using namespace kernels;
using Clock = std::chrono::steady_clock;
volatile int64_t gSink; ///< keeps probe results alive

/// Runs work(thread) on every thread of `pool` together and returns the
/// slowest thread's seconds. A spin barrier lines the threads up first, so
/// a late wake-up (up to a scheduler tick here) is not timed. Each thread
/// takes exactly one chunk: a thread in the barrier cannot take another.
double together(ThreadPool &pool, const std::function<void(unsigned)> &work) {
  unsigned n = pool.threads();
  std::atomic<unsigned> arrived{0};
  std::vector<double> secs(n);
  pool.run(n, [&](int64_t t) {
    arrived.fetch_add(1);
    while (arrived.load() < n)
      std::this_thread::yield();
    auto t0 = Clock::now();
    work(unsigned(t));
    secs[t] = std::chrono::duration<double>(Clock::now() - t0).count();
  });
  return *std::max_element(secs.begin(), secs.end());
}

/// Calibrates `reps` of `body(reps)` (per thread) to about 40 ms, then
/// times `runs` runs on all threads after an untimed one; `unitsPerRep` per
/// thread per rep.
ProbeResult measure(ThreadPool &pool, unsigned runs, double unitsPerRep,
                    const std::function<void(int64_t)> &body) {
  int64_t reps = 16;
  for (;;) {
    auto t0 = Clock::now();
    body(reps);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s > 0.01) {
      reps = std::max<int64_t>(1, int64_t(double(reps) * 0.04 / s));
      break;
    }
    reps *= 4;
  }
  std::vector<double> rates;
  for (unsigned r = 0; r <= runs; ++r) {
    double s = together(pool, [&](unsigned) { body(reps); });
    if (r == 0)
      continue;
    rates.push_back(unitsPerRep * double(reps) * pool.threads() / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  ProbeResult res{};
  res.median = rates[rates.size() / 2];
  res.min = rates.front();
  res.max = rates.back();
  res.runs = runs;
  return res;
}

} // namespace

std::string hostFeatures() {
  std::string s;
  auto add = [&](bool has, const char *name) {
    if (has)
      s += s.empty() ? name : std::string(" ") + name;
  };
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
  return s.empty() ? "none" : s;
}

std::vector<ProbeResult> runProbes(ThreadPool &pool, const ProbeOptions &opts) {
  unsigned runs = std::max(1u, opts.runs);
  bool avx2 = __builtin_cpu_supports("avx2");
  bool fma = avx2 && __builtin_cpu_supports("fma");
  bool avx512 = __builtin_cpu_supports("avx512f");
  bool vnni = avx512 && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vnni");
  std::vector<ProbeResult> out;
  auto add = [&](ProbeResult r, ProbeKind kind, const char *name,
                 const char *seq, const char *unit) {
    r.kind = kind;
    r.name = name;
    r.sequence = seq;
    r.unit = unit;
    r.isPeak = !peak(out, kind);
    out.push_back(std::move(r));
  };

  // int8 multiply-accumulate: the best exact sequence first (it is the peak).
  auto panel = std::make_unique<Int8Panel>();
  for (int i = 0; i < kPairs * 64; ++i)
    panel->b[i] = int8_t(i * 37 - 128);
  for (int i = 0; i < kPairs * kRows; ++i)
    panel->a[i] =
        int32_t(uint32_t(uint16_t(int16_t(i % 255 - 128))) * 0x10001u);
  const Int8Panel &p = *panel;
  if (vnni)
    add(measure(pool, runs, kPairs * kRows * 64.0,
                [&](int64_t n) { gSink = int8Vnni(p, n); }),
        ProbeKind::Int8Mac, "int8-mac",
        "vpmovsxbw + vpdpwssd zmm, 6x32 int32 tile in L1", "GMAC/s");
  if (avx2)
    add(measure(pool, runs, kPairs * kRowsYmm * 32.0,
                [&](int64_t n) { gSink = int8Avx2(p, n); }),
        ProbeKind::Int8Mac, "int8-mac",
        "vpmovsxbw + vpmaddwd + vpaddd ymm, 4x16 int32 tile in L1", "GMAC/s");
  else
    add(measure(pool, runs, kPairs * kRows * 8.0,
                [&](int64_t n) { gSink = int8Scalar(p, n); }),
        ProbeKind::Int8Mac, "int8-mac", "scalar int32, 6x4 tile", "GMAC/s");

  // fp32 FMA (2 flops each), for the float-path ops.
  volatile float m = 0.9999f, c = 1e-3f;
  if (avx512)
    add(measure(pool, runs, 12 * 16 * 2.0,
                [&](int64_t n) { gSink = int64_t(fmaAvx512(n, m, c)); }),
        ProbeKind::F32Fma, "fp32-fma", "vfmadd231ps zmm, 12 chains", "GFLOP/s");
  if (fma)
    add(measure(pool, runs, 12 * 8 * 2.0,
                [&](int64_t n) { gSink = int64_t(fmaAvx2(n, m, c)); }),
        ProbeKind::F32Fma, "fp32-fma", "vfmadd231ps ymm, 12 chains", "GFLOP/s");

  // Read bandwidth over one buffer, touched once so no run pays page faults.
  size_t threads = pool.threads();
  size_t slice = std::max<size_t>(opts.bandwidthBytes / threads / 128, 1) * 128;
  std::unique_ptr<std::byte, decltype(&std::free)> buf(
      static_cast<std::byte *>(std::aligned_alloc(4096, slice * threads)),
      &std::free);
  together(pool,
           [&](unsigned t) { std::memset(buf.get() + t * slice, 1, slice); });
  std::vector<double> rates;
  for (unsigned r = 0; r <= runs; ++r) {
    double s = together(pool, [&](unsigned t) {
      const std::byte *q = buf.get() + t * slice;
      gSink = avx2 ? readAvx2(q, slice) : readScalar(q, slice);
    });
    if (r > 0) // the first run is a warm-up
      rates.push_back(double(slice * threads) / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  ProbeResult bw{};
  bw.median = rates[rates.size() / 2];
  bw.min = rates.front();
  bw.max = rates.back();
  bw.runs = runs;
  std::string seq = std::to_string((slice * threads) >> 20) + " MiB, " +
                    (avx2 ? "ymm loads" : "scalar loads");
  add(bw, ProbeKind::ReadBandwidth, "read-bw", seq.c_str(), "GB/s");
  return out;
}

const ProbeResult *peak(const std::vector<ProbeResult> &probes,
                        ProbeKind kind) {
  for (const ProbeResult &p : probes)
    if (p.kind == kind && p.isPeak)
      return &p;
  return nullptr;
}

} // namespace kiln::bench
