//===- Measure.h - time one fused operator every way ------------*- C++ -*-===//
#pragma once

#include "bench/Shapes.h"
#include "ir/Diagnostics.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln::bench {

struct MeasureOptions {
  unsigned repeat = 5;   ///< timed runs per median (after a warm-up)
  unsigned threads = 0;  ///< CompileOptions::threads (0: every core)
  bool reference = true; ///< also time the reference executor (small cases)
};

/// What one case measured, in seconds; a missing value prints as "-".
struct Measurement {
  std::optional<double> fused, dynamic, unfused, reference; ///< medians
  std::optional<double> staticCold, dynamicCold, hit, call;
  double bytes = 0;  ///< the inputs' storage: weights, scales, activations
  std::string error; ///< why the case stopped early
  std::vector<std::string> failed; ///< measurements that failed
};

/// Builds the case's primitive and fused graphs and inputs, and times:
/// the fused graph on the JIT, static (compile() + prepare() at the case's
/// shapes is the cold compile) and dynamic (cold compile timed on 1-sized
/// inputs), a cache hit and a plain call at 1-sized inputs, the primitive
/// graph on the JIT, and the reference executor (small cases only).
/// Errors go to `diags` and name the measurement in the result.
Measurement measure(const BenchCase &c, const MeasureOptions &opts,
                    DiagEngine &diags);

} // namespace kiln::bench
