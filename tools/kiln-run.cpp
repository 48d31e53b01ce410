//===- kiln-run.cpp - run a .kir graph on .npy or seeded inputs -----------===//
//
//   kiln-run FILE [--func NAME] [--input NAME=PATH.npy]... [--random-inputs]
//            [--seed N] [--dim SYM=N]... [--output-dir DIR] [--print-values]
//            [--mode static|dynamic|reference] [--check] [--repeat N]
//            [--threads N] [--passes PIPELINE]
//            [--numerics golden|npu-compat] [--ranks N] [--cache-dir DIR]
//
// Prints one line per result: name, shape and dtype, and checksums; with
// --check, the largest difference from the reference executor per result;
// with --repeat, the median run time.
//
// Multi-rank (allreduce, npu.mm_all_reduce_base reduce over the ranks):
// under `mpirun -np N` every process is one rank (MPI backend); with
// --ranks N, N ranks run as threads of this process (in-process backend).
// `{rank}` in an --input path becomes the rank, so each rank reads its own
// shard; --random-inputs seeds rank r with seed + r. Rank 0 prints and
// writes the results. The ranks first agree on their input shapes; an
// error on any rank ends every rank with a non-zero status.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "runtime/DimFlags.h"
#include "runtime/Executor.h"
#include "runtime/Npy.h"
#include "runtime/comm/InProcess.h"
#include "runtime/mpi/World.h"
#include "tools/ResultText.h"
#include "tools/RunSteps.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace kiln;
using tools::checkAgainstReference, tools::execute, tools::readInputs,
    tools::shapeSignature;

namespace {

/// One rank's run; `comm` is null for a single-rank run. Messages name the
/// rank when there are several.
int runRank(const tools::RunOptions &opts, Communicator *comm) {
  int rank = comm ? comm->rank() : 0;
  bool multi = comm && comm->size() > 1, rank0 = rank == 0;
  std::string who = multi ? fmt::format("kiln-run: rank {}", rank) : "kiln-run";
  DiagEngine diags;
  if (multi)
    diags.setHandler(
        [who](const Diagnostic &d) { tools::Line(who) << format(d) << '\n'; });
  std::ifstream f(opts.file, std::ios::binary);
  if (!f) {
    tools::Line(who) << "cannot open '" << opts.file << "'\n";
    return 1;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  std::unique_ptr<Module> m = parseModule(ss.str(), opts.file, diags);
  if (!m || failed(verify(*m)))
    return 1;
  if (m->graphs.empty()) {
    tools::Line(who) << opts.file << " has no function\n";
    return 1;
  }
  Graph *g = opts.func.empty() ? m->graphs.front().get() : m->lookup(opts.func);
  if (!g) {
    tools::Line(who) << "no function @" << opts.func << " in " << opts.file
                     << '\n';
    return 1;
  }

  std::string error;
  std::optional<SymbolBindings> dimFlags = parseDimFlags(opts.dims, g, error);
  if (!dimFlags) {
    tools::Line(who) << error << '\n';
    return 1;
  }
  const SymbolBindings &preset = *dimFlags;

  std::optional<std::vector<Tensor>> read =
      readInputs(opts, *g, preset, rank, who, diags);
  if (!read)
    return 1;
  std::vector<Tensor> &args = *read;
  EvalOptions eval;
  eval.numerics =
      opts.numerics == "npu-compat" ? Numerics::NpuCompat : Numerics::Golden;
  eval.comm = comm;
  if (multi) {
    CommStatus agreed = comm->agree(shapeSignature(*g, args, preset));
    if (!agreed.ok()) {
      tools::Line(who) << agreed.message() << '\n';
      return 1;
    }
  }
  double medianMs = 0;
  FailureOr<std::vector<Tensor>> results =
      execute(opts, *g, args, eval, preset, diags, medianMs);
  if (results.failed())
    return 1;

  if (!opts.outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.outputDir, ec);
    if (ec) {
      tools::Line(who) << "cannot create '" << opts.outputDir
                       << "': " << ec.message() << '\n';
      return 1;
    }
  }
  for (size_t i = 0; i < results->size() && rank0; ++i) {
    const Tensor &t = (*results)[i];
    std::string name = g->results()[i].name;
    if (name.empty())
      name = "out" + std::to_string(i);
    double sum = 0;
    for (int64_t j = 0; j < t.numel(); ++j)
      sum += t.getDouble(j);
    fmt::print("{}: {} sum={:.9g} hash={:016x}\n", name, toString(t.type()),
               sum, tools::checksum(t));
    if (opts.printValues)
      tools::printValues(t);
    if (!opts.outputDir.empty() &&
        failed(writeNpy(opts.outputDir + "/" + name + ".npy", t, diags)))
      return 1;
  }
  if (opts.repeat > 1 && rank0)
    fmt::print("median time over {} runs ({}): {:.3f} ms\n", opts.repeat,
               opts.mode, medianMs);
  if (opts.check &&
      !checkAgainstReference(*g, args, eval, preset, *results, rank0))
    return 1;
  return 0;
}

/// runRank on every rank; a rank that fails tells the others (abort), and
/// a rank that succeeded confirms every other one did too, so an error
/// anywhere ends every rank non-zero.
int runOnRank(const tools::RunOptions &opts, Communicator *comm) {
  int status = runRank(opts, comm);
  if (!comm || comm->size() == 1)
    return status;
  if (status != 0) {
    comm->abort("see its error above");
    return status;
  }
  CommStatus done = comm->agree("finished");
  if (!done.ok()) {
    tools::Line(fmt::format("kiln-run: rank {}", comm->rank()))
        << done.message() << '\n';
    return 1;
  }
  return 0;
}

int run(const tools::RunOptions &opts) {
  if (opts.ranks > 0) {
    if (comm::launcherWorldSize() > 0) {
      std::cerr << "kiln-run: --ranks runs ranks as threads; do not combine "
                   "it with mpirun\n";
      return 1;
    }
    comm::InProcessGroup group(opts.ranks);
    std::vector<int> status = group.run(
        [&](Communicator &c) { return runOnRank(opts, &c); });
    for (int s : status)
      if (s != 0)
        return 1;
    return 0;
  }
  std::string error;
  std::unique_ptr<Communicator> world = comm::openWorld(error);
  if (!error.empty()) {
    std::cerr << "kiln-run: " << error << '\n';
    return 1;
  }
  return runOnRank(opts, world.get());
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln-run: run a kiln graph"};
  tools::RunOptions opts;
  app.add_option("file", opts.file, "the .kir file")->required();
  app.add_option("--func", opts.func, "function to run (default: the first)");
  app.add_option("--input", opts.inputs, "NAME=PATH.npy for a parameter");
  app.add_flag("--random-inputs", opts.random,
               "seeded random values for parameters without --input");
  app.add_option("--seed", opts.seed, "seed for --random-inputs");
  app.add_option("--dim", opts.dims, "SYM=N binds a symbolic dim");
  app.add_option("--output-dir", opts.outputDir,
                 "write DIR/<result>.npy for each result");
  app.add_option("--mode", opts.mode,
                 "static (specialised to the input shapes), dynamic (one "
                 "kernel for all shapes) or reference (the interpreter)")
      ->check(CLI::IsMember({"static", "dynamic", "reference"}));
  app.add_flag("--check", opts.check,
               "also run the reference executor and compare each result");
  app.add_option("--repeat", opts.repeat, "run N times, print the median time");
  app.add_option("--passes", opts.passes,
                 "pipeline run before compiling (default fuse-all; 'none' for "
                 "no passes); --check compares against the graph as written");
  app.add_option("--threads", opts.threads,
                 "threads for compiled code (default: all cores)");
  app.add_option("--cache-dir", opts.cacheDir,
                 "keep compiled kernels in DIR across runs (default: "
                 "$KILN_CACHE_DIR if set; KILN_LOG=cache logs hits)");
  app.add_option("--numerics", opts.numerics, "numerics mode")
      ->check(CLI::IsMember({"golden", "npu-compat"}));
  app.add_option("--ranks", opts.ranks,
                 "run N ranks as threads of this process (in-process "
                 "communicator); under mpirun each process is one rank")
      ->check(CLI::Range(1, 64));
  app.add_flag("--print-values", opts.printValues,
               "also print every result value (for small results)");
  CLI11_PARSE(app, argc, argv);
  return run(opts);
}
