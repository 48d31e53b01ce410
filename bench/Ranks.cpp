//===- Ranks.cpp - kiln-bench --ranks: overlapped matmul + all-reduce -----===//
#include "bench/Ranks.h"

#include "bench/RankTiming.h"
#include "bench/Report.h"
#include "codegen/CommCalls.h"
#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/RandomInputs.h"
#include "runtime/comm/InProcess.h"
#include "runtime/mpi/World.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <regex>

namespace kiln::bench {

namespace {

struct Shape {
  std::string name;
  int64_t m, k, n; ///< k is the full k, split evenly across the ranks
  bool small;
};

std::vector<Shape> shapes() {
  return {{"seed", 1280, 5120, 640, false},
          {"decode", 16, 5120, 640, false},
          {"comparable", 1280, 128, 640, false},
          {"small", 160, 640, 80, true},
          {"small-decode", 16, 640, 80, true}};
}

struct Row {
  std::optional<double> mm, ar, seq, seqWindow, fused, unfused;
  int64_t chunks = 1;
};

/// How a body runs the fused op: chunk count (0: the plan) and transport.
struct Strategy {
  int64_t chunks;
  bool window;
};

Row measure(Communicator &comm, const Shape &s, const RanksOptions &o,
            DiagEngine &diags) {
  int64_t kr = s.k / comm.size();
  std::string kir = fmt::format(
      "func @fused(%x1: f16[{0},{1}], %x2: f16[{1},{2}]) -> f16[{0},{2}] {{\n"
      "  %o = npu.mm_all_reduce_base(%x1, %x2) : f16[{0},{2}]\n"
      "  return %o\n}}\n"
      "func @unfused(%x1: f16[{0},{1}], %x2: f16[{1},{2}]) -> f16[{0},{2}] "
      "{{\n  %p = matmul(%x1, %x2) : f16[{0},{2}]\n"
      "  %o = allreduce(%p) : f16[{0},{2}]\n  return %o\n}}\n",
      s.m, kr, s.n);
  Row row;
  std::unique_ptr<Module> mod = parseModule(kir, "ranks.kir", diags);
  if (!mod || failed(verify(*mod)))
    return row;
  std::vector<Tensor> in;
  for (unsigned i = 0; i < 2; ++i)
    in.push_back(*randomInput(*mod->graphs[0], i, {}, 1 + comm.rank()));
  auto exe = [&](int graph, Communicator *c) {
    CompileOptions co;
    co.eval.comm = c;
    co.threads = o.threads;
    return compile(*mod->graphs[graph], co, diags);
  };
  auto alone = exe(0, nullptr), fused = exe(0, &comm), unfused = exe(1, &comm);
  if (!alone || !fused || !unfused)
    return row;
  std::vector<float> partials(s.m * s.n, 1.0f);
  auto runs = [&](CompiledGraph &g, Strategy how) {
    return [&, how] {
      codegen::setMmAllReduceChunks(how.chunks);
      codegen::setMmAllReducePeerWindow(how.window);
      return !g.run(in).failed();
    };
  };
  auto reduce = [&] {
    return comm
        .allreduce(partials.data(), s.m * s.n,
                   {DType::F32, ReduceOp::Sum, Numerics::Golden, DType::F16})
        .ok();
  };
  std::vector<std::optional<double>> t =
      timed(comm, o.repeat,
            {runs(*alone, {0, true}), reduce, runs(*fused, {1, false}),
             runs(*fused, {1, true}), runs(*fused, {0, true}),
             runs(*unfused, {0, true})});
  codegen::setMmAllReduceChunks(0);
  codegen::setMmAllReducePeerWindow(true);
  row.mm = t[0];
  row.ar = t[1];
  row.seq = t[2];
  row.seqWindow = t[3];
  row.fused = t[4];
  row.unfused = t[5];
  bool window = comm.localSize() == comm.size(); // as the runtime decides
  row.chunks =
      codegen::planMmAllReduceChunks(&comm, o.threads, s.m, kr, s.n, window)
          .chunks;
  return row;
}

int benchOnRank(Communicator &comm, const RanksOptions &o) {
  std::optional<std::regex> filter;
  if (!o.filter.empty())
    filter.emplace(o.filter);
  bool print = comm.rank() == 0;
  if (print)
    fmt::print("kiln-bench --ranks: {} ranks ({} backend), {} compute "
               "thread(s) per rank, f16 x1 [m, k/{}] x2 [k/{}, n], medians "
               "of {} runs, the slowest rank\n",
               comm.size(), comm.backend(), o.threads, comm.size(),
               comm.size(), o.repeat);
  Table table({"case", "m", "k", "n", "chunks", "T_mm ms", "T_ar ms",
               "T_seq ms", "seq-win ms", "T_fused ms", "unfused ms",
               "fused/seq", "hidden", "overlap", "T_ar/T_mm"});
  DiagEngine diags;
  int status = 0;
  for (const Shape &s : shapes()) {
    if (s.small != o.small || (filter && !std::regex_search(s.name, *filter)))
      continue;
    Row r = measure(comm, s, o, diags);
    if (!r.seq || !r.fused || !r.mm || !r.ar) {
      status = 1;
      if (print)
        table.addRow({s.name, "error"});
      continue;
    }
    double shorter = std::min(*r.mm, *r.ar);
    double hidden = (*r.seq - *r.fused) / shorter;
    std::string overlap =
        r.seqWindow ? fmt::format("{:.2f}", (*r.seqWindow - *r.fused) / shorter)
                    : "-";
    auto ms = [](std::optional<double> v) {
      return v ? std::optional(*v * 1e3) : std::nullopt;
    };
    if (print)
      table.addRow({s.name, std::to_string(s.m), std::to_string(s.k),
                    std::to_string(s.n), std::to_string(r.chunks),
                    sig3(ms(r.mm)), sig3(ms(r.ar)), sig3(ms(r.seq)),
                    sig3(ms(r.seqWindow)), sig3(ms(r.fused)),
                    sig3(ms(r.unfused)), ratio(r.fused, r.seq),
                    fmt::format("{:.2f}", hidden), overlap, ratio(r.ar, r.mm)});
  }
  if (print) {
    table.print(stdout);
    fmt::print(
        "\nT_mm: the fused op on one rank, no reduction; T_ar: "
        "Communicator::allreduce alone of the [m, n] f32 partials;\n"
        "T_seq: the fused op sequential (matmul, then that all-reduce of "
        "its partials, then rounding); seq-win: sequential through the peer "
        "window\n"
        "  (ranks on one host: every rank reduces all partials from shared "
        "memory), no overlap; T_fused: the plan's chunks and transport;\n"
        "  unfused: matmul -> allreduce graph. hidden = (T_seq - T_fused) / "
        "min(T_mm, T_ar); overlap = (seq-win - T_fused) / min(T_mm, T_ar),\n"
        "  the part of it from chunking alone.\n");
  }
  return status;
}

} // namespace

int runRanksBench(int ranks, const RanksOptions &opts) {
  try {
    if (ranks > 0) {
      comm::InProcessGroup group(ranks);
      std::vector<int> st = group.run(
          [&](Communicator &c) { return benchOnRank(c, opts); });
      return *std::max_element(st.begin(), st.end());
    }
    std::string error;
    std::unique_ptr<Communicator> world = comm::openWorld(error);
    if (!world) {
      fmt::print(stderr, "kiln-bench: {}\n",
                 error.empty() ? "not started by mpirun" : error);
      return 1;
    }
    return benchOnRank(*world, opts);
  } catch (const std::regex_error &e) {
    fmt::print(stderr, "kiln-bench: bad --filter '{}': {}\n", opts.filter,
               e.what());
    return 1;
  }
}

} // namespace kiln::bench
