//===- MmAllReduceBase.cpp - kiln::npu::mm_all_reduce_base ----------------===//
#include "runtime/npu/MmAllReduceBase.h"

#include "ir/Diagnostics.h"

namespace kiln::npu {

Tensor mm_all_reduce_base(const Tensor &x1, const Tensor &x2,
                          std::string_view hcom,
                          const MmAllReduceBaseOptions &options,
                          std::source_location loc) {
  if (hcom.empty())
    throw Error(format(Diagnostic{
        Severity::Error, Location::fromCpp(loc),
        "'npu.mm_all_reduce_base' op hcom must name a communicator group "
        "(kiln has one world group; any name selects it)"}));
  const MmAllReduceBaseOptions &o = options;
  std::vector<Tensor> r =
      runSingleOp(OpKind::MmAllReduceBase,
                  {&x1, &x2, o.bias, o.antiquant_scale, o.antiquant_offset,
                   o.x3, o.dequant_scale, o.pertoken_scale,
                   o.comm_quant_scale_1, o.comm_quant_scale_2},
                  ops::MmAllReduceBase::Attrs{.reduce_op = o.reduce_op,
                                              .comm_turn = o.comm_turn,
                                              .antiquant_group_size =
                                                  o.antiquant_group_size},
                  loc);
  return std::move(r[0]);
}

} // namespace kiln::npu
