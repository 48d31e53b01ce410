//===- Codegen.cpp - a graph to one LLVM module ---------------------------===//
#include "codegen/Codegen.h"

#include "codegen/LoweringHooks.h"

#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace kiln::codegen {

namespace {
const LowerFn kLowerings[] = {
#define OPERANDS(...)
#define ATTRS(...)
#define OP(Class, name, traits, operands, attrs) &lower##Class,
#include "ir/Ops.def"
#undef OPERANDS
#undef ATTRS
};
} // namespace

LowerFn lowering(OpKind kind) { return kLowerings[static_cast<size_t>(kind)]; }

FailureOr<GeneratedModule> generate(const Graph &g, ShapeMode mode,
                                    const SymbolBindings &bindings,
                                    const EvalOptions &options,
                                    const std::string &entry,
                                    TargetISA isa) {
  GeneratedModule out;
  out.context = std::make_unique<llvm::LLVMContext>();
  out.module = std::make_unique<llvm::Module>(g.name(), *out.context);
  out.entry = entry;
  llvm::LLVMContext &c = *out.context;
  llvm::Type *ptr = llvm::PointerType::get(c, 0);
  auto *fnType = llvm::FunctionType::get(llvm::Type::getInt32Ty(c),
                                         {ptr, ptr, ptr}, false);
  llvm::Function *fn = llvm::Function::Create(
      fnType, llvm::Function::ExternalLinkage, entry, *out.module);
  fn->getArg(0)->setName("buffers");
  fn->getArg(1)->setName("dims");
  fn->getArg(2)->setName("rt");
  for (unsigned i = 0; i < 3; ++i)
    fn->addParamAttr(i, llvm::Attribute::NoAlias);
  KernelSetup setup{g, mode, bindings, options, *out.module};
  setup.isa = resolveISA(isa);
  LoweringContext ctx(setup, fn);
  for (const auto &op : g.ops())
    if (failed(lowering(op->kind())(*op, ctx)))
      return failure();
  ctx.b().CreateRet(ctx.b().getInt32(0));

  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*out.module, &os))
    return emitError(g.diags(), g.loc())
           << "internal error: invalid LLVM IR for @" << g.name() << ": "
           << os.str();
  return out;
}

} // namespace kiln::codegen
