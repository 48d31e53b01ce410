//===- JitTest.cpp - the LLJIT wrapper compiles and runs a module ---------===//
#include "codegen/Jit.h"

#include <llvm/IR/IRBuilder.h>

#include <gtest/gtest.h>

namespace kiln::codegen {
namespace {

extern "C" int64_t kilnTestTwice(int64_t x) { return 2 * x; }

TEST(Jit, CompilesAndCallsRuntimeSymbols) {
  DiagEngine diags;
  std::unique_ptr<Jit> jit =
      Jit::create(diags, {{"kiln_test_twice", (void *)&kilnTestTwice}});
  ASSERT_TRUE(jit);
  EXPECT_FALSE(jit->cpuName().empty());

  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto m = std::make_unique<llvm::Module>("t", *ctx);
  llvm::IRBuilder<> b(*ctx);
  auto *i64 = b.getInt64Ty();
  auto *twiceTy = llvm::FunctionType::get(i64, {i64}, false);
  auto twice = m->getOrInsertFunction("kiln_test_twice", twiceTy);
  auto *fn = llvm::Function::Create(twiceTy, llvm::Function::ExternalLinkage,
                                    "plus_one_twice", *m);
  b.SetInsertPoint(llvm::BasicBlock::Create(*ctx, "entry", fn));
  llvm::Value *sum = b.CreateAdd(fn->getArg(0), b.getInt64(1));
  b.CreateRet(b.CreateCall(twice, {sum}));
  ASSERT_TRUE(succeeded(jit->addModule(std::move(m), std::move(ctx), diags)));
  auto *f = reinterpret_cast<int64_t (*)(int64_t)>(
      jit->lookup("plus_one_twice", diags));
  ASSERT_TRUE(f);
  EXPECT_EQ(f(20), 42);
}

TEST(Jit, MissingSymbolIsAnError) {
  std::vector<std::string> errors;
  DiagEngine diags([&](const Diagnostic &d) { errors.push_back(d.message); });
  std::unique_ptr<Jit> jit = Jit::create(diags);
  ASSERT_TRUE(jit);
  EXPECT_EQ(jit->lookup("no_such_function", diags), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("no_such_function"), std::string::npos);
}

} // namespace
} // namespace kiln::codegen
