//===- Jit.cpp - ORC LLJIT for the host CPU -------------------------------===//
#include "codegen/Jit.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>

#include <mutex>

namespace kiln::codegen {

namespace {
std::string message(llvm::Error err) { return llvm::toString(std::move(err)); }

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}
} // namespace

std::unique_ptr<Jit> Jit::create(DiagEngine &diags,
                                 std::vector<RuntimeSymbol> symbols) {
  initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    emitError(diags, {}) << "JIT: " << message(jtmb.takeError());
    return nullptr;
  }
  jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  jtmb->setCodeModel(llvm::CodeModel::Small);
  std::unique_ptr<Jit> self(new Jit());
  self->cpu_ = jtmb->getCPU();
  self->features_ = jtmb->getFeatures().getString();
  auto tm = jtmb->createTargetMachine();
  if (!tm) {
    emitError(diags, {}) << "JIT: " << message(tm.takeError());
    return nullptr;
  }
  self->tm_ = std::move(*tm);
  self->objectCache_ = std::make_unique<DiskObjectCache>();
  // The default compiler, with the object cache attached. Compiles happen
  // under the compile cache's lock, so one owned TargetMachine suffices.
  DiskObjectCache *objectCache = self->objectCache_.get();
  auto jit =
      llvm::orc::LLJITBuilder()
          .setJITTargetMachineBuilder(*jtmb)
          .setCompileFunctionCreator(
              [objectCache](llvm::orc::JITTargetMachineBuilder b)
                  -> llvm::Expected<
                      std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                auto machine = b.createTargetMachine();
                if (!machine)
                  return machine.takeError();
                return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(
                    std::move(*machine), objectCache);
              })
          .create();
  if (!jit) {
    emitError(diags, {}) << "JIT: " << message(jit.takeError());
    return nullptr;
  }
  self->jit_ = std::move(*jit);

  llvm::orc::JITDylib &jd = self->jit_->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      self->jit_->getDataLayout().getGlobalPrefix());
  if (!process) {
    emitError(diags, {}) << "JIT: " << message(process.takeError());
    return nullptr;
  }
  jd.addGenerator(std::move(*process));
  llvm::orc::SymbolMap map;
  for (const RuntimeSymbol &s : symbols)
    map[self->jit_->mangleAndIntern(s.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(s.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  if (!map.empty())
    if (llvm::Error err = jd.define(llvm::orc::absoluteSymbols(std::move(map)))) {
      emitError(diags, {}) << "JIT: " << message(std::move(err));
      return nullptr;
    }
  return self;
}

const llvm::DataLayout &Jit::dataLayout() const {
  return jit_->getDataLayout();
}

std::string Jit::targetTriple() const {
  return jit_->getTargetTriple().str();
}

void Jit::optimize(llvm::Module &m) const {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(tm_.get(), tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(m, mam);
}

LogicalResult Jit::addModule(std::unique_ptr<llvm::Module> module,
                             std::unique_ptr<llvm::LLVMContext> context,
                             DiagEngine &diags) {
  module->setDataLayout(dataLayout());
  module->setTargetTriple(targetTriple());
  optimize(*module);
  llvm::orc::ThreadSafeModule tsm(std::move(module), std::move(context));
  if (llvm::Error err = jit_->addIRModule(std::move(tsm)))
    return emitError(diags, {}) << "JIT: " << message(std::move(err));
  return success();
}

LogicalResult Jit::addObject(std::unique_ptr<llvm::MemoryBuffer> object,
                           DiagEngine &diags) {
  if (llvm::Error err = jit_->addObjectFile(std::move(object)))
    return emitError(diags, {}) << "JIT: " << message(std::move(err));
  return success();
}

void *Jit::lookup(const std::string &name, DiagEngine &diags) {
  auto addr = jit_->lookup(name);
  if (!addr) {
    emitError(diags, {}) << "JIT: " << message(addr.takeError());
    return nullptr;
  }
  return addr->toPtr<void *>();
}

} // namespace kiln::codegen
