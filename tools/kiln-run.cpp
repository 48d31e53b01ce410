//===- kiln-run.cpp - run a .kir graph on .npy or seeded inputs -----------===//
//
//   kiln-run FILE [--func NAME] [--input NAME=PATH.npy]... [--random-inputs]
//            [--seed N] [--dim SYM=N]... [--output-dir DIR] [--print-values]
//            [--mode static|dynamic|reference] [--check] [--repeat N]
//            [--threads N] [--passes PIPELINE]
//            [--numerics golden|npu-compat]
//
// Prints one line per result: name, shape and dtype, and checksums; with
// --check, the largest difference from the reference executor per result;
// with --repeat, the median run time.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "passes/Pass.h"
#include "ir/Verifier.h"
#include "runtime/Compare.h"
#include "runtime/DimFlags.h"
#include "runtime/Executor.h"
#include "runtime/Npy.h"
#include "runtime/RandomInputs.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace kiln;

namespace {

struct Options {
  std::string file;
  std::string func;
  std::vector<std::string> inputs;
  std::vector<std::string> dims;
  bool random = false;
  uint64_t seed = 0;
  std::string outputDir;
  std::string mode = "static";
  bool check = false;
  unsigned repeat = 1;
  unsigned threads = 0;
  std::string passes = "fuse-all";
  std::string numerics = "golden";
  bool printValues = false;
};


/// Runs `g` `repeat` times in the chosen mode; returns the last results and
/// stores the median wall time.
FailureOr<std::vector<Tensor>> execute(const Options &opts, const Graph &g,
                                       std::span<const Tensor> args,
                                       const EvalOptions &eval,
                                       const SymbolBindings &preset,
                                       DiagEngine &diags, double &medianMs) {
  std::unique_ptr<CompiledGraph> exe;
  std::unique_ptr<Module> transformed; // the graph after --passes
  if (opts.mode != "reference") {
    transformed = std::make_unique<Module>();
    transformed->graphs.push_back(g.clone());
    PassManager pm;
    std::string pipeline = opts.passes == "none" ? "" : opts.passes;
    if (failed(pm.addPipeline(pipeline, diags)) ||
        failed(pm.run(*transformed)))
      return failure();
    CompileOptions co;
    co.mode = opts.mode == "dynamic" ? codegen::ShapeMode::Dynamic
                                     : codegen::ShapeMode::Static;
    co.eval = eval;
    co.threads = opts.threads;
    exe = compile(*transformed->graphs.front(), co, diags);
    if (!exe)
      return failure();
  }
  std::vector<double> times;
  FailureOr<std::vector<Tensor>> results = failure();
  for (unsigned r = 0; r < std::max(opts.repeat, 1u); ++r) {
    auto start = std::chrono::steady_clock::now();
    results = exe ? exe->run(args, preset) : runReference(g, args, eval, preset);
    auto end = std::chrono::steady_clock::now();
    if (results.failed())
      return failure();
    times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  medianMs = times[times.size() / 2];
  return results;
}

/// Prints the difference of each result from the reference executor;
/// false when an integer differs or a float is off by more than one ulp.
bool checkAgainstReference(const Graph &g, std::span<const Tensor> args,
                           const EvalOptions &eval, const SymbolBindings &preset,
                           const std::vector<Tensor> &got) {
  FailureOr<std::vector<Tensor>> want = runReference(g, args, eval, preset);
  if (want.failed())
    return false;
  bool ok = true;
  for (size_t i = 0; i < got.size(); ++i) {
    Difference d = compare((*want)[i], got[i]);
    bool pass = isInteger(got[i].dtype()) ? d.mismatches == 0 : d.maxUlps <= 1;
    ok &= pass;
    std::string name = g.results()[i].name;
    fmt::print("check {}: max_abs={:.3g} max_rel={:.3g} max_ulps={:.3g} "
               "mismatches={} {}\n",
               name.empty() ? "out" + std::to_string(i) : name, d.maxAbs,
               d.maxRel, d.maxUlps, d.mismatches, pass ? "PASS" : "FAIL");
  }
  return ok;
}

/// Writes `t` as nested lists, e.g. [[1, 2], [3, 4]].
void printValues(const Tensor &t) {
  Shape strides = rowMajorStrides(t.shape());
  std::string out;
  int64_t n = t.numel();
  for (int64_t i = 0; i < n || (n == 0 && i == 0); ++i) {
    for (size_t d = 0; d < strides.size(); ++d)
      if (n == 0 || i % (strides[d] * t.shape()[d]) == 0)
        out += '[';
    if (n == 0)
      break;
    out += isInteger(t.dtype()) ? std::to_string(t.getInt(i))
                                : fmt::format("{}", static_cast<float>(
                                                        t.getDouble(i)));
    size_t closed = 0;
    for (size_t d = strides.size(); d-- > 0;) {
      if ((i + 1) % (strides[d] * t.shape()[d]) != 0)
        break;
      out += ']';
      ++closed;
    }
    if (i + 1 < n)
      out += closed ? ",\n  " : ", ";
  }
  if (n == 0)
    out.append(strides.size(), ']');
  fmt::print("  {}\n", out);
}

/// FNV-1a over the logical values, so equal results hash equally whatever
/// their layout.
uint64_t checksum(const Tensor &t) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint64_t bits = isInteger(t.dtype())
                        ? static_cast<uint64_t>(t.getInt(i))
                        : std::bit_cast<uint64_t>(t.getDouble(i));
    for (int b = 0; b < 8; ++b) {
      h ^= (bits >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h;
}

int run(const Options &opts) {
  DiagEngine diags;
  std::ifstream f(opts.file, std::ios::binary);
  if (!f) {
    std::cerr << "kiln-run: cannot open '" << opts.file << "'\n";
    return 1;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  std::unique_ptr<Module> m = parseModule(ss.str(), opts.file, diags);
  if (!m || failed(verify(*m)))
    return 1;
  if (m->graphs.empty()) {
    std::cerr << "kiln-run: " << opts.file << " has no function\n";
    return 1;
  }
  Graph *g = opts.func.empty() ? m->graphs.front().get() : m->lookup(opts.func);
  if (!g) {
    std::cerr << "kiln-run: no function @" << opts.func << " in "
              << opts.file << '\n';
    return 1;
  }

  std::string error;
  std::optional<SymbolBindings> dimFlags = parseDimFlags(opts.dims, g, error);
  if (!dimFlags) {
    std::cerr << "kiln-run: " << error << '\n';
    return 1;
  }
  const SymbolBindings &preset = *dimFlags;

  // Inputs from files first: they bind symbols the random ones may need.
  std::vector<std::optional<Tensor>> inputs(g->params().size());
  for (const std::string &spec : opts.inputs) {
    auto kv = splitAssignment(spec);
    if (!kv) {
      std::cerr << "kiln-run: --input expects NAME=VALUE, got '" << spec
                << "'\n";
      return 1;
    }
    const auto &[name, path] = *kv;
    Value *p = g->lookupParam(name);
    if (!p) {
      std::cerr << "kiln-run: --input " << name << ": @" << g->name()
                << " has no parameter %" << name << '\n';
      return 1;
    }
    NpyExpect expect{p->type(), p->name()};
    FailureOr<Tensor> t = readNpy(path, diags, &expect);
    if (t.failed())
      return 1;
    inputs[p->index()] = std::move(*t);
  }
  std::vector<const Tensor *> known;
  for (auto &t : inputs)
    known.push_back(t ? &*t : nullptr);
  FailureOr<SymbolBindings> dims = bindSymbols(*g, known, preset);
  if (dims.failed())
    return 1;
  for (unsigned i = 0; i < inputs.size(); ++i) {
    if (inputs[i])
      continue;
    if (!opts.random) {
      std::cerr << "kiln-run: no input for %" << g->param(i)->name()
                << "; pass --input " << g->param(i)->name()
                << "=FILE.npy or --random-inputs\n";
      return 1;
    }
    FailureOr<Tensor> t = randomInput(*g, i, *dims, opts.seed);
    if (t.failed())
      return 1;
    inputs[i] = std::move(*t);
  }

  std::vector<Tensor> args;
  for (auto &t : inputs)
    args.push_back(std::move(*t));
  EvalOptions eval;
  eval.numerics =
      opts.numerics == "npu-compat" ? Numerics::NpuCompat : Numerics::Golden;
  double medianMs = 0;
  FailureOr<std::vector<Tensor>> results =
      execute(opts, *g, args, eval, preset, diags, medianMs);
  if (results.failed())
    return 1;

  if (!opts.outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.outputDir, ec);
    if (ec) {
      std::cerr << "kiln-run: cannot create '" << opts.outputDir
                << "': " << ec.message() << '\n';
      return 1;
    }
  }
  for (size_t i = 0; i < results->size(); ++i) {
    const Tensor &t = (*results)[i];
    std::string name = g->results()[i].name;
    if (name.empty())
      name = "out" + std::to_string(i);
    double sum = 0;
    for (int64_t j = 0; j < t.numel(); ++j)
      sum += t.getDouble(j);
    fmt::print("{}: {} sum={:.9g} hash={:016x}\n", name, toString(t.type()),
               sum, checksum(t));
    if (opts.printValues)
      printValues(t);
    if (!opts.outputDir.empty() &&
        failed(writeNpy(opts.outputDir + "/" + name + ".npy", t, diags)))
      return 1;
  }
  if (opts.repeat > 1)
    fmt::print("median time over {} runs ({}): {:.3f} ms\n", opts.repeat,
               opts.mode, medianMs);
  if (opts.check && !checkAgainstReference(*g, args, eval, preset, *results))
    return 1;
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln-run: run a kiln graph"};
  Options opts;
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
  app.add_option("--numerics", opts.numerics, "numerics mode")
      ->check(CLI::IsMember({"golden", "npu-compat"}));
  app.add_flag("--print-values", opts.printValues,
               "also print every result value (for small results)");
  CLI11_PARSE(app, argc, argv);
  return run(opts);
}
