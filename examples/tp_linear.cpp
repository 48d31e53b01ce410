//===- tp_linear.cpp - a tensor-parallel linear layer with the C++ API ----===//
//
//   build/bin/kiln-example-tp-linear --ranks 2          (threads, in-process)
//   mpirun -np 2 build/bin/kiln-example-tp-linear       (one rank / process)
//
// y = x @ W + b with x [M, K] and W [K, N] split along K across the ranks
// (row-parallel linear, as in Megatron / vLLM): rank r holds x[:, Kr] and
// W[Kr, :], computes its partial product and npu.mm_all_reduce_base sums
// the partials over the ranks, overlapping the reduction with the matmul
// where that pays (OPS.md §5). As vLLM does, only rank 0 passes the bias
// (bias is added on every rank before the reduction). Every backend prints
// the same result, equal to the single-process x @ W + b.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompiledGraph.h"
#include "ir/Builder.h"
#include "runtime/Float16.h"
#include "runtime/comm/InProcess.h"
#include "runtime/mpi/World.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

using namespace kiln;

namespace {

constexpr int64_t M = 4, K = 64, N = 6;

// The full (unsharded) operands: small integers and halves, exact in f16.
double xAt(int64_t i, int64_t k) { return ((i * 7 + k * 3) % 9 - 4) / 2.0; }
double wAt(int64_t k, int64_t j) { return ((k * 5 + j * 11) % 7 - 3) / 4.0; }
double biasAt(int64_t j) { return j - 2.5; }

/// Rank `rank` of `ranks`: its K slice of x and W, run through the JIT.
int runRank(Communicator *comm) {
  int rank = comm ? comm->rank() : 0, ranks = comm ? comm->size() : 1;
  int64_t k0 = K * rank / ranks, k1 = K * (rank + 1) / ranks, kr = k1 - k0;

  Graph g("tp_linear");
  Builder b(g);
  Value *x = b.param("x", {DType::F16, {M, kr}});
  Value *w = b.param("w", {DType::F16, {kr, N}});
  Value *bias = rank == 0 ? b.param("bias", {DType::F16, {N}}) : nullptr;
  b.returns({{b.npu_mm_all_reduce_base({.x1 = x, .x2 = w, .bias = bias}),
              "y"}});
  if (!b.ok())
    return 1;

  std::vector<Tensor> inputs{Tensor(DType::F16, {M, kr}),
                             Tensor(DType::F16, {kr, N})};
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < kr; ++k)
      inputs[0].setDouble(i * kr + k, xAt(i, k0 + k));
  for (int64_t k = 0; k < kr; ++k)
    for (int64_t j = 0; j < N; ++j)
      inputs[1].setDouble(k * N + j, wAt(k0 + k, j));
  if (bias) {
    inputs.emplace_back(DType::F16, Shape{N});
    for (int64_t j = 0; j < N; ++j)
      inputs.back().setDouble(j, biasAt(j));
  }

  DiagEngine &diags = DiagEngine::stderrEngine();
  CompileOptions options;
  options.eval.comm = comm; // null: a single rank
  std::unique_ptr<CompiledGraph> exe = compile(g, options, diags);
  if (!exe)
    return 1;
  FailureOr<std::vector<Tensor>> y = exe->run(inputs);
  if (y.failed())
    return 1;
  if (rank != 0)
    return 0;

  // Rank 0 prints y and checks it against x @ W + b computed here.
  fmt::print("tp_linear: {} rank(s) ({}), y = x @ W + b, [{}, {}]:\n", ranks,
             comm ? comm->backend() : "single process", M, N);
  int wrong = 0;
  for (int64_t i = 0; i < M; ++i) {
    std::string row;
    for (int64_t j = 0; j < N; ++j) {
      double want = biasAt(j);
      for (int64_t k = 0; k < K; ++k)
        want += xAt(i, k) * wAt(k, j);
      double got = (*y)[0].getDouble(i * N + j);
      wrong += got != roundToFloatType(want, DType::F16);
      row += fmt::format("{:>9}", got);
    }
    fmt::print("{}\n", row);
  }
  fmt::print("{}\n", wrong ? "MISMATCH against x @ W + b" : "matches x @ W + b");
  return wrong ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln-example-tp-linear: a tensor-parallel linear layer"};
  int ranks = 0;
  app.add_option("--ranks", ranks, "in-process ranks (threads)")
      ->check(CLI::Range(1, 16));
  CLI11_PARSE(app, argc, argv);
  if (ranks > 0) {
    comm::InProcessGroup group(ranks);
    std::vector<int> status =
        group.run([](Communicator &c) { return runRank(&c); });
    return *std::max_element(status.begin(), status.end());
  }
  std::string error;
  std::unique_ptr<Communicator> world = comm::openWorld(error); // mpirun
  if (!error.empty()) {
    fmt::print(stderr, "kiln-example-tp-linear: {}\n", error);
    return 1;
  }
  int status = runRank(world.get());
  if (status != 0 && world)
    world->abort("tp_linear failed");
  return status;
}
