//===- Npu.h - the eager torch_npu fused operators (kiln::npu::*) -*- C++ -*-=//
//
// Each function mirrors its torch_npu namesake: required tensors are
// positional, the keyword arguments live in an options struct with the same
// names and defaults. Each call builds a one-op graph and runs it; bad
// arguments throw kiln::Error with a diagnostic at the caller's line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"
#include "runtime/npu/QuantMatmulReduceSum.h"
#include "runtime/npu/WeightQuantBatchmatmul.h"
#include "runtime/npu/GroupedMatmulSwigluQuantV2.h"
#include "runtime/npu/GroupedMatmulFinalizeRouting.h"
#include "runtime/npu/MmAllReduceBase.h"
