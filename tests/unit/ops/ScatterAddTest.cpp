//===- ScatterAddTest.cpp - scatter_add inference and reference kernel ----===//
#include "OpTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::testing;


/// scatter_add of `updates` at `index` into `init` or `numRows` zero rows.
struct ScatterRun {
  TestGraph g;
  Op *op = nullptr;
  std::vector<Tensor> outs;

  ScatterRun(const Tensor &updates, const Tensor &index, const Tensor *init,
             Dim numRows = 0) {
    Value *u = g.b.param("u", updates.type());
    Value *i = g.b.param("i", index.type());
    Value *n = init ? g.b.param("n", init->type()) : nullptr;
    op = g.b.scatter_add({.updates = u, .index = i, .init = n},
                         {.num_rows = numRows})
             .op();
    EXPECT_TRUE(g.b.ok()) << g.lastError();
    outs = evalOp(*op, {&updates, &index, init});
  }
  std::vector<double> result() const {
    return outs.empty() ? std::vector<double>{} : values(outs[0]);
  }
};

const Tensor kUpdates =
    makeTensor(DType::F32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});

TEST(ScatterAddTest, DuplicateIndicesAccumulate) {
  Tensor index = makeTensor(DType::I64, {4}, {2, 0, 2, 1});
  ScatterRun run(kUpdates, index, nullptr, 3);
  EXPECT_EQ(run.op->result()->type(), (TensorType{DType::F32, {3, 2}}));
  EXPECT_EQ(run.result(), (std::vector<double>{3, 4, 7, 8, 6, 8}));
}

TEST(ScatterAddTest, InitAndUntouchedRows) {
  Tensor index = makeTensor(DType::I32, {4}, {2, 0, 2, 0});
  Tensor init =
      makeTensor(DType::F32, {4, 2}, {10, 10, 20, 20, 30, 30, 40, 40});
  ScatterRun run(kUpdates, index, &init);
  EXPECT_EQ(run.op->result()->type(), (TensorType{DType::F32, {4, 2}}));
  EXPECT_EQ(run.result(),
            (std::vector<double>{20, 22, 20, 20, 36, 38, 40, 40}));
  ScatterRun same(kUpdates, index, &init, 4); // num_rows may repeat init's
  EXPECT_EQ(same.result(), run.result());
}

TEST(ScatterAddTest, HalfRoundsAfterEveryAdd) {
  // f16: 2048 + 1 rounds (tie, even) back to 2048 after each add.
  Tensor u = makeTensor(DType::F16, {3, 1}, {2048, 1, 1});
  Tensor index = makeTensor(DType::I64, {3}, {0, 0, 0});
  ScatterRun run(u, index, nullptr, 1);
  EXPECT_EQ(run.result(), (std::vector<double>{2048}));
  // bf16 with init 1: 1 + 2^-8 ties back to 1 twice.
  Tensor ub = makeTensor(DType::BF16, {2, 1}, {1.0 / 256, 1.0 / 256});
  Tensor ib = makeTensor(DType::I32, {2}, {1, 1});
  Tensor init = makeTensor(DType::BF16, {2, 1}, {5, 1});
  ScatterRun runB(ub, ib, &init);
  EXPECT_EQ(runB.result(), (std::vector<double>{5, 1}));
}

TEST(ScatterAddTest, Int32Wraps) {
  Tensor u = makeTensor(DType::I32, {3, 2}, {2147483647, 5, 1, -7, -3, 2});
  Tensor index = makeTensor(DType::I64, {3}, {0, 0, 1});
  ScatterRun run(u, index, nullptr, 2);
  EXPECT_EQ(run.result(), (std::vector<double>{-2147483648.0, -2, -3, 2}));
}

TEST(ScatterAddTest, OutOfRangeIndexIsAnError) {
  Tensor u = makeTensor(DType::F32, {6, 1}, {1, 2, 3, 4, 5, 6});
  Tensor index = makeTensor(DType::I64, {6}, {0, 1, 2, 3, 4, 9});
  ScatterRun run(u, index, nullptr, 8);
  EXPECT_TRUE(run.outs.empty());
  EXPECT_NE(run.g.lastError().find(
                "'scatter_add' op index[5] = 9 is out of range for 8 output "
                "rows"),
            std::string::npos)
      << run.g.lastError();
  Tensor negative = makeTensor(DType::I32, {6}, {0, -1, 0, 0, 0, 0});
  ScatterRun neg(u, negative, nullptr, 8);
  EXPECT_TRUE(neg.outs.empty());
  EXPECT_NE(neg.g.lastError().find("index[1] = -1 is out of range"),
            std::string::npos)
      << neg.g.lastError();
}

TEST(ScatterAddTest, SymbolicRows) {
  TestGraph g;
  g.b.symbols({"T", "R"});
  Value *u = g.b.param("u", {DType::BF16, {"R", 16}});
  Value *i = g.b.param("i", {DType::I32, {"R"}});
  Results r = g.b.scatter_add({.updates = u, .index = i}, {.num_rows = "T"});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::BF16, {"T", 16}}));
}

struct InferCase {
  const char *name;
  TensorType updates, index;
  std::optional<TensorType> init;
  Dim numRows;
  const char *error;
};

TEST(ScatterAddTest, InferenceErrors) {
  const TensorType u{DType::F32, {4, 2}}, i{DType::I64, {4}};
  const InferCase cases[] = {
      {"updDType",
       {DType::I8, {4, 2}},
       i,
       {},
       3,
       "'scatter_add' op updates must be f16, bf16, f32 or i32, got i8"},
      {"updNZ",
       {DType::F32, {16, 8}, Layout::NZ},
       {DType::I64, {16}},
       {},
       3,
       "updates must be in ND layout"},
      {"idxDType",
       u,
       {DType::F32, {4}},
       {},
       3,
       "index must be i32 or i64, got f32"},
      {"idxRank",
       u,
       {DType::I64, {4, 1}},
       {},
       3,
       "index must have rank 1, got i64[4,1]"},
      {"updRank",
       {DType::F32, {}},
       {DType::I64, {1}},
       {},
       3,
       "updates must have rank >= 1, got f32[]"},
      {"count",
       u,
       {DType::I64, {5}},
       {},
       3,
       "index has 5 entries but updates has 4 rows"},
      {"initDType", u, i, TensorType{DType::F16, {8, 2}}, 0,
       "init dtype f16 differs from updates dtype f32"},
      {"initShape", u, i, TensorType{DType::F32, {8, 3}}, 0,
       "init [8,3] must be [rows] + updates' trailing dims [2]"},
      {"initRank", u, i, TensorType{DType::F32, {8}}, 0,
       "init [8] must be [rows] + updates' trailing dims [2]"},
      {"initNZ",
       {DType::F32, {4, 8}},
       i,
       TensorType{DType::F32, {16, 8}, Layout::NZ},
       0,
       "init must be in ND layout"},
      {"rowsVsInit", u, i, TensorType{DType::F32, {8, 2}}, 9,
       "num_rows = 9 differs from init's 8 rows"},
      {"noRows", u, i, {}, 0, "num_rows must be set when there is no init"},
      {"negRows", u, i, {}, -3, "num_rows must be positive, got -3"},
      {"undeclared",
       u,
       i,
       {},
       "Q",
       "num_rows symbol Q is not declared in the graph"},
  };
  for (const InferCase &c : cases) {
    SCOPED_TRACE(c.name);
    TestGraph g;
    Value *vu = g.b.param("u", c.updates);
    Value *vi = g.b.param("i", c.index);
    Value *vn = c.init ? g.b.param("n", *c.init) : nullptr;
    g.b.scatter_add({.updates = vu, .index = vi, .init = vn},
                    {.num_rows = c.numRows});
    expectError(g, c.error);
  }
}

} // namespace
} // namespace kiln
