//===- TargetISA.h - which int8 multiply-add sequence kernels use -*- C++ -*-===//
//
// The int8 GEMM engine (codegen/Int8Gemm.h) emits one of several exact
// int8 x int8 -> int32 sequences; the choice is part of the compile
// options (and so of the compile-cache key) so that tests can force every
// path on one host and check each against the reference:
//
//   avx512vnni  vpdpwssd zmm on sign-extended int16 pairs
//   avx512      vpmaddwd zmm + vpaddd
//   avx2        vpmaddwd ymm + vpaddd
//   generic     portable LLVM vectors (sext, mul, add)
//
// `auto` resolves to the best sequence the host supports. A forced choice
// the host cannot run is reported by kiln::compile's kernel build, not
// emitted into code that would fault.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string_view>

namespace kiln::codegen {

enum class TargetISA { Auto, Avx512Vnni, Avx512, Avx2, Generic };

/// "auto", "avx512vnni", "avx512", "avx2", "generic".
const char *isaName(TargetISA isa);
std::optional<TargetISA> parseISA(std::string_view name);

/// The best sequence this host runs (from LLVM's host feature detection).
TargetISA hostISA();
/// Whether this host can run code emitted for `isa` (Auto: always).
bool hostSupports(TargetISA isa);
/// Auto -> hostISA(); anything else unchanged.
TargetISA resolveISA(TargetISA isa);

} // namespace kiln::codegen
