//===- Measure.cpp - time one fused operator every way --------------------===//
#include "bench/Measure.h"

#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#include "runtime/RandomInputs.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace kiln::bench {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The median seconds of `n` runs of `body` (and their max - min in
/// `spread`); nullopt if one fails.
std::optional<double> medianOf(unsigned n, const std::function<bool()> &body,
                               double *spread = nullptr) {
  std::vector<double> s;
  for (unsigned i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    if (!body())
      return std::nullopt;
    s.push_back(since(t0));
  }
  if (spread)
    *spread = *std::max_element(s.begin(), s.end()) -
              *std::min_element(s.begin(), s.end());
  return median(s);
}

/// One untimed warm-up run, then medianOf(n, body).
std::optional<double> warmMedian(unsigned n,
                                 const std::function<bool()> &body) {
  return body() ? medianOf(n, body) : std::nullopt;
}

/// `kir` parsed and verified (one function), renamed @<name><suffix> so
/// that its text, and so its compile-cache key, differs from other copies;
/// with `fuse`, after fuse-all, which must leave exactly one npu.* op.
std::unique_ptr<Module> load(const BenchCase &c, const std::string &suffix,
                             bool fuse, DiagEngine &diags) {
  std::string kir = c.kir;
  kir.insert(kir.find('(', kir.find("func @")), suffix);
  std::unique_ptr<Module> m = parseModule(kir, "<" + c.name + ">", diags);
  if (!m || m->graphs.size() != 1 || failed(verify(*m)))
    return nullptr;
  if (!fuse)
    return m;
  PassManager pm;
  if (failed(pm.addPipeline("fuse-all", diags)) || failed(pm.run(*m)))
    return nullptr;
  unsigned npuOps = 0;
  for (const auto &op : m->graphs.front()->ops())
    npuOps += op->mnemonic().starts_with("npu.");
  if (npuOps != 1) {
    fmt::print(stderr, "kiln-bench: {}: fuse-all left {} npu.* ops\n", c.name,
               npuOps);
    return nullptr;
  }
  return m;
}

/// Seeded inputs for every parameter of `g` at `dims`.
std::optional<std::vector<Tensor>> makeInputs(const Graph &g,
                                              const SymbolBindings &dims) {
  std::vector<Tensor> inputs;
  for (unsigned i = 0; i < g.params().size(); ++i) {
    FailureOr<Tensor> t = randomInput(g, i, dims, /*seed=*/i + 1);
    if (t.failed())
      return std::nullopt;
    inputs.push_back(std::move(*t));
  }
  return inputs;
}

} // namespace

Measurement measure(const BenchCase &c, const MeasureOptions &opts,
                    DiagEngine &diags) {
  Measurement row;
  auto stop = [&](const char *what) {
    row.error = what;
    return row;
  };
  // Records a failed measurement (its diagnostics went to stderr).
  auto check = [&](std::optional<double> v, const char *what) {
    if (!v)
      row.failed.push_back(what);
    return v;
  };
  std::unique_ptr<Module> prim = load(c, "", false, diags);
  std::unique_ptr<Module> fusedModule = load(c, "", true, diags);
  if (!prim || !fusedModule)
    return stop("parse or fuse");
  const Graph &primal = *prim->graphs.front(),
              &fused = *fusedModule->graphs.front();

  // The case's dims and a shape with every symbol 1, whose run does little
  // work.
  SymbolBindings dims, tinyDims;
  for (const std::string &s : fused.symbols()) {
    dims[s] = c.dims.at(s);
    tinyDims[s] = 1;
  }
  auto inputs = makeInputs(fused, dims), tiny = makeInputs(fused, tinyDims);
  if (!inputs || !tiny)
    return stop("inputs");
  for (const Tensor &t : *inputs)
    row.bytes += double(t.byteSize());

  auto options = [&](codegen::ShapeMode mode) {
    CompileOptions o;
    o.mode = mode;
    o.threads = opts.threads;
    return o;
  };
  auto runs = [](CompiledGraph &cg, const std::vector<Tensor> &in) {
    return [&cg, &in] { return !cg.run(in).failed(); };
  };
  const auto kStatic = codegen::ShapeMode::Static;
  const auto kDynamic = codegen::ShapeMode::Dynamic;

  // (a) Fused, static: compile() and prepare() at the case's shape are the
  // cold compile (lowering, O3, codegen, link, buffer plan); then one
  // untimed warm-up run and the timed ones.
  auto t0 = Clock::now();
  std::unique_ptr<CompiledGraph> st = compile(fused, options(kStatic), diags);
  if (!st || failed(st->prepare(dims)))
    return stop("fused static");
  row.staticCold = since(t0);
  if (st->run(*inputs).failed())
    return stop("fused static");
  row.fused = check(medianOf(opts.repeat, runs(*st, *inputs)), "fused");

  // A cache hit: compile() of an already compiled graph and its first run,
  // at the 1-sized shape so the kernel itself costs next to nothing; and a
  // plain run() there (every run() looks its kernel up in the cache).
  unsigned quick = std::max(5u, opts.repeat);
  if (auto warm = compile(fused, options(kStatic), diags);
      warm && !warm->run(*tiny).failed()) {
    std::vector<std::unique_ptr<CompiledGraph>> keep; // destroyed untimed
    row.hit = medianOf(quick, [&] {
      keep.push_back(compile(fused, options(kStatic), diags));
      return keep.back() && !keep.back()->run(*tiny).failed();
    });
    row.call = medianOf(quick, runs(*warm, *tiny));
  }
  check(row.hit, "hit");

  // Fused, dynamic: one artefact for every shape, so compiling it for the
  // 1-sized run is the whole cold compile; the median of three renamed
  // copies (renamed so none finds another's artefact).
  std::vector<double> colds;
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<Module> copy =
        load(c, fmt::format("_cold{}", i), true, diags);
    t0 = Clock::now();
    auto cold = copy ? compile(*copy->graphs.front(), options(kDynamic), diags)
                     : nullptr;
    if (!cold || cold->run(*tiny).failed())
      break;
    colds.push_back(since(t0));
  }
  if (colds.size() == 3)
    row.dynamicCold = median(colds);
  check(row.dynamicCold, "dynamic cold");
  if (auto dyn = compile(fused, options(kDynamic), diags))
    row.dynamic = warmMedian(opts.repeat, runs(*dyn, *inputs));
  check(row.dynamic, "dynamic");

  // (b) The primitive graph on the JIT, static.
  if (auto un = compile(primal, options(kStatic), diags))
    row.unfused = warmMedian(opts.repeat, runs(*un, *inputs));
  check(row.unfused, "unfused");

  // (c) The reference executor on the fused graph (its npu.* kernel).
  if (c.small && opts.reference)
    check(row.reference = warmMedian(
              opts.repeat,
              [&] { return !runReference(fused, *inputs).failed(); }),
          "reference");
  return row;
}

} // namespace kiln::bench
