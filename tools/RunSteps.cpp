//===- RunSteps.cpp - the steps of one kiln-run rank ----------------------===//
#include "tools/RunSteps.h"

#include "codegen/CompiledGraph.h"
#include "passes/Pass.h"
#include "runtime/Compare.h"
#include "runtime/DimFlags.h"
#include "runtime/Npy.h"
#include "runtime/RandomInputs.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

namespace kiln::tools {

std::optional<std::vector<Tensor>>
readInputs(const RunOptions &opts, const Graph &g, const SymbolBindings &preset,
           int rank, const std::string &who, DiagEngine &diags) {
  // Inputs from files first: they bind symbols the random ones may need.
  std::vector<std::optional<Tensor>> inputs(g.params().size());
  for (const std::string &spec : opts.inputs) {
    auto kv = splitAssignment(spec);
    if (!kv) {
      Line(who) << "--input expects NAME=VALUE, got '" << spec << "'\n";
      return std::nullopt;
    }
    const auto &[name, pattern] = *kv;
    std::string path = pattern;
    for (size_t at; (at = path.find("{rank}")) != std::string::npos;)
      path.replace(at, 6, std::to_string(rank));
    Value *p = g.lookupParam(name);
    if (!p) {
      Line(who) << "--input " << name << ": @" << g.name()
                << " has no parameter %" << name << '\n';
      return std::nullopt;
    }
    NpyExpect expect{p->type(), p->name()};
    FailureOr<Tensor> t = readNpy(path, diags, &expect);
    if (t.failed())
      return std::nullopt;
    inputs[p->index()] = std::move(*t);
  }
  std::vector<const Tensor *> known;
  for (auto &t : inputs)
    known.push_back(t ? &*t : nullptr);
  FailureOr<SymbolBindings> dims = bindSymbols(g, known, preset);
  if (dims.failed())
    return std::nullopt;
  for (unsigned i = 0; i < inputs.size(); ++i) {
    if (inputs[i])
      continue;
    if (!opts.random) {
      Line(who) << "no input for %" << g.param(i)->name() << "; pass --input "
                << g.param(i)->name() << "=FILE.npy or --random-inputs\n";
      return std::nullopt;
    }
    FailureOr<Tensor> t = randomInput(g, i, *dims, opts.seed + rank);
    if (t.failed())
      return std::nullopt;
    inputs[i] = std::move(*t);
  }

  std::vector<Tensor> args;
  for (auto &t : inputs)
    args.push_back(std::move(*t));
  return args;
}

std::string shapeSignature(const Graph &g, std::span<const Tensor> args,
                           const SymbolBindings &preset) {
  std::string s = "@" + g.name() + "(";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", %" : "%") + g.param(i)->name() + ": " +
         toString(args[i].type());
  s += ")";
  for (const auto &[sym, size] : preset)
    s += fmt::format(" {}={}", sym, size);
  return s;
}

FailureOr<std::vector<Tensor>> execute(const RunOptions &opts, const Graph &g,
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
    if (failed(pm.addPipeline(pipeline, diags)) || failed(pm.run(*transformed)))
      return failure();
    CompileOptions co;
    co.mode = opts.mode == "dynamic" ? codegen::ShapeMode::Dynamic
                                     : codegen::ShapeMode::Static;
    co.eval = eval;
    co.threads = opts.threads;
    co.cacheDir = opts.cacheDir;
    exe = compile(*transformed->graphs.front(), co, diags);
    if (!exe)
      return failure();
  }
  std::vector<double> times;
  FailureOr<std::vector<Tensor>> results = failure();
  for (unsigned r = 0; r < std::max(opts.repeat, 1u); ++r) {
    auto start = std::chrono::steady_clock::now();
    results =
        exe ? exe->run(args, preset) : runReference(g, args, eval, preset);
    auto end = std::chrono::steady_clock::now();
    if (results.failed())
      return failure();
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  medianMs = times[times.size() / 2];
  return results;
}

bool checkAgainstReference(const Graph &g, std::span<const Tensor> args,
                           const EvalOptions &eval,
                           const SymbolBindings &preset,
                           const std::vector<Tensor> &got, bool print) {
  FailureOr<std::vector<Tensor>> want = runReference(g, args, eval, preset);
  if (want.failed())
    return false;
  bool ok = true;
  for (size_t i = 0; i < got.size(); ++i) {
    Difference d = compare((*want)[i], got[i]);
    bool pass = isInteger(got[i].dtype()) ? d.mismatches == 0 : d.maxUlps <= 1;
    ok &= pass;
    std::string name = g.results()[i].name;
    if (print)
      fmt::print("check {}: max_abs={:.3g} max_rel={:.3g} max_ulps={:.3g} "
                 "mismatches={} {}\n",
                 name.empty() ? "out" + std::to_string(i) : name, d.maxAbs,
                 d.maxRel, d.maxUlps, d.mismatches, pass ? "PASS" : "FAIL");
  }
  return ok;
}

} // namespace kiln::tools
