//===- kiln-bench.cpp - fused operators against this machine's peaks ------===//
//
//   kiln-bench [--filter REGEX] [--repeat N] [--threads N] [--small]
//              [--no-reference] [--list] [--int8-peak best|avx2]
//   kiln-bench --ranks N [--filter REGEX] [--repeat N] [--threads N]
//   mpirun -np N kiln-bench [--filter REGEX] [--repeat N] [--threads N]
//
// Probes this machine's peaks first (bench/Probes.h), then times each fused
// operator (bench/Shapes.h) as (a) the fused graph on the JIT, static and
// dynamic, (b) its primitive decomposition on the JIT and (c) the reference
// executor (small shapes only), and prints one table. Times are medians of
// --repeat runs after a warm-up. Nothing here asserts a timing.
//
//===----------------------------------------------------------------------===//
#include "bench/Measure.h"
#include "bench/Probes.h"
#include "bench/Ranks.h"
#include "bench/Report.h"
#include "bench/Shapes.h"
#include "runtime/ThreadPool.h"
#include "runtime/mpi/World.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <regex>

using namespace kiln;
using namespace kiln::bench;

namespace {

struct Options {
  std::string filter;
  unsigned repeat = 5;
  unsigned threads = 0;
  bool small = false;
  bool noReference = false;
  bool list = false;
  std::string int8Peak = "best";
  int ranks = 0;
};

std::string probeLine(const ProbeResult &p) {
  return fmt::format("probe {:<9} {:>8.1f} {:<8} median of {} (min {:.1f}, "
                     "max {:.1f}) {}{}",
                     p.name, p.median, p.unit, p.runs, p.min, p.max, p.sequence,
                     p.isPeak ? " [peak]" : "");
}

int run(const Options &opts) {
  std::vector<BenchCase> cases;
  std::optional<std::regex> filter;
  if (!opts.filter.empty())
    filter.emplace(opts.filter);
  for (BenchCase &c : benchCases())
    if ((!opts.small || c.small) &&
        (!filter || std::regex_search(c.name, *filter)))
      cases.push_back(std::move(c));
  if (opts.list) {
    for (const BenchCase &c : cases)
      fmt::print("{}\n", c.name);
    return 0;
  }

  unsigned threads =
      opts.threads ? opts.threads : ThreadPool::hardwareThreads();
  fmt::print("kiln-bench: {} threads, {} timed runs after a warm-up, host "
             "features: {}\n",
             threads, opts.repeat, hostFeatures());
  std::vector<ProbeResult> probes;
  {
    ThreadPool pool(threads);
    ProbeOptions po;
    if (opts.small)
      po.bandwidthBytes = size_t(128) << 20; // CI: still 4x the LLC
    probes = runProbes(pool, po);
  }
  if (opts.int8Peak == "avx2")
    for (ProbeResult &p : probes)
      if (p.kind == ProbeKind::Int8Mac)
        p.isPeak = p.sequence.find("vpmaddwd") != std::string::npos;
  for (const ProbeResult &p : probes)
    fmt::print("{}\n", probeLine(p));
  auto peakOf = [&](ProbeKind k) {
    const ProbeResult *p = peak(probes, k);
    return p ? p->median : 0.0;
  };
  double int8Peak = peakOf(ProbeKind::Int8Mac);        // GMAC/s
  double f32Peak = peakOf(ProbeKind::F32Fma) / 2;      // GMAC/s
  double bandwidth = peakOf(ProbeKind::ReadBandwidth); // GB/s
  fmt::print("\n");
  std::fflush(stdout);

  Table table({"case", "fused ms", "dyn ms", "unfused ms", "ref ms", "unf/fus",
               "ref/fus", "dyn/st", "GOP/s", "%mac", "GB/s", "%bw", "cold ms",
               "hit us", "call us", "dyn cold ms"});
  DiagEngine diags;
  int status = 0;
  for (const BenchCase &c : cases) {
    Measurement r =
        measure(c, {opts.repeat, opts.threads, !opts.noReference}, diags);
    if (!r.error.empty() || !r.failed.empty()) {
      status = 1;
      std::string what = r.error;
      for (const std::string &f : r.failed)
        what += (what.empty() ? "" : ", ") + f;
      fmt::print(stderr, "kiln-bench: {}: failed: {}\n", c.name, what);
      if (!r.error.empty()) {
        table.addRow({c.name, "error: " + r.error});
        continue;
      }
    }
    auto ms = [](std::optional<double> s) -> std::optional<double> {
      return s ? std::optional(*s * 1e3) : std::nullopt;
    };
    auto us = [](std::optional<double> s) -> std::optional<double> {
      return s ? std::optional(*s * 1e6) : std::nullopt;
    };
    double macPeak = c.int8 ? int8Peak : f32Peak;
    std::string gops = "-", gbs = "-", macPct = "-", bwPct = "-";
    if (r.fused && *r.fused > 0) {
      double macRate = c.macs / *r.fused / 1e9,
             byteRate = r.bytes / *r.fused / 1e9;
      // The roofline: whichever resource bounds this shape gets the '*'.
      bool memoryBound = r.bytes / bandwidth > c.macs / macPeak;
      gops = sig3(2 * macRate);
      gbs = sig3(byteRate);
      macPct = percent(macRate, macPeak, memoryBound ? "" : "*");
      bwPct = percent(byteRate, bandwidth, memoryBound ? "*" : "");
    }
    table.addRow({c.name, sig3(ms(r.fused)), sig3(ms(r.dynamic)),
                  sig3(ms(r.unfused)), sig3(ms(r.reference)),
                  ratio(r.unfused, r.fused), ratio(r.reference, r.fused),
                  ratio(r.dynamic, r.fused), gops, macPct, gbs, bwPct,
                  sig3(ms(r.staticCold)),
                  sig3(us(r.hit)), sig3(us(r.call)), sig3(ms(r.dynamicCold))});
    if (cases.size() > 1) // progress for long runs, on stderr
      fmt::print(stderr, "kiln-bench: done {}\n", c.name);
  }
  table.print(stdout);
  fmt::print(
      "\n"
      "fused/dyn/unfused: the JIT on the fused graph (static, dynamic mode) "
      "and on the primitive graph (static); ref: the reference executor\n"
      "  (small shapes only); medians, ratios are the first time over fused.\n"
      "GOP/s = 2 x MACs / fused time; %mac: MAC rate over the int8 MAC peak "
      "(int8 ops) or fp32 FMA peak / 2 (f16 ops); GB/s: input bytes\n"
      "  (weights + scales + activations) / fused time, %bw over read-bw; "
      "* marks the roofline bound of the shape.\n"
      "cold: static, compile() + prepare() at the case's shapes (lowering, "
      "O3, codegen, link, buffer plan); dynamic, compile() + a run\n"
      "  with every symbol 1 (one artefact serves every shape), median of 3 "
      "renamed "
      "copies; hit: compile() + first run of an already\n"
      "  compiled graph with every symbol 1 (static); call: run() alone there "
      "(bind shapes, cache lookup, buffers).\n");
  return status;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln-bench: fused operators against this machine's peaks"};
  Options opts;
  app.add_option("--filter", opts.filter, "ECMAScript regex over case names");
  app.add_option("--repeat", opts.repeat, "timed runs per measurement")
      ->check(CLI::Range(1u, 1000u));
  app.add_option("--threads", opts.threads, "threads (0: every core)");
  app.add_flag("--small", opts.small, "only the small shapes (CI smoke test)");
  app.add_flag("--no-reference", opts.noReference,
               "skip the reference executor");
  app.add_flag("--list", opts.list, "print the selected case names and exit");
  app.add_option("--int8-peak", opts.int8Peak,
                 "int8 peak: the best exact sequence or AVX2 vpmaddwd")
      ->check(CLI::IsMember({"best", "avx2"}));
  app.add_option("--ranks", opts.ranks,
                 "time mm_all_reduce_base overlap on N in-process ranks "
                 "(bench/Ranks.h); under mpirun: on MPI's ranks")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  if (opts.ranks > 0 || comm::launcherWorldSize() > 0)
    return runRanksBench(opts.ranks,
                         {opts.repeat, opts.threads ? opts.threads : 1u,
                          opts.filter, opts.small});
  try {
    return run(opts);
  } catch (const std::regex_error &e) {
    fmt::print(stderr, "kiln-bench: bad --filter '{}': {}\n", opts.filter,
               e.what());
    return 1;
  }
}
