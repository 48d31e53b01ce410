//===- SingleOp.h - run one op eagerly, torch_npu single-op style -*- C++ -*-=//
//
// The eager API (kiln::npu::*) builds a one-op graph per call and runs it
// through the JIT: the graph, compiled in static mode, is cached by its
// text (op, attributes, input types and shapes) and numerics, so a second
// call with the same shapes costs graph building plus a compiled run. The
// reference executor stays available (EagerBackend::Reference), e.g. for
// tests that compare the two. Calls that pass a Communicator
// (EvalOptions::comm) run on the reference executor: a compiled graph takes
// its communicator from its compile options, not per call. Compiled graphs
// are kept for the process's life (one per op, attributes and shapes).
// Lives in kiln_eager (it needs kiln_codegen); kiln_core has no LLVM.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/OpDefs.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <source_location>
#include <stdexcept>
#include <vector>

namespace kiln {

/// Thrown by the eager single-op API (kiln::npu::*) on bad arguments, like
/// torch's RuntimeError; what() is the located diagnostic.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What runs eager calls: compiled code from the compile cache (the
/// default) or the reference executor.
enum class EagerBackend { Jit, Reference };

/// The backend eager calls on this thread use: the innermost
/// EagerBackendScope's, else Reference if $KILN_EAGER=reference, else Jit.
EagerBackend eagerBackend();

/// Makes eager calls on this thread use `backend` while in scope.
class EagerBackendScope {
public:
  explicit EagerBackendScope(EagerBackend backend);
  ~EagerBackendScope();
  EagerBackendScope(const EagerBackendScope &) = delete;
  EagerBackendScope &operator=(const EagerBackendScope &) = delete;

private:
  int previous_;
};

/// Counters of the eager API's compiled-graph cache (for tests).
struct EagerCacheStats {
  uint64_t compiled = 0; ///< one-op graphs compiled (cache misses)
  uint64_t hits = 0;     ///< calls that found their compiled graph
};
EagerCacheStats eagerCacheStats();

/// Builds a one-op graph of `kind` whose parameters have the types of
/// `inputs` (nullptr for an absent optional operand), verifies it and runs
/// it on eagerBackend(). Errors are reported at `loc` (the user's call)
/// and thrown as kiln::Error, with the same messages on both backends.
std::vector<Tensor> runSingleOp(OpKind kind,
                                const std::vector<const Tensor *> &inputs,
                                OpAttrs attrs, std::source_location loc,
                                const EvalOptions &options = {});

} // namespace kiln
