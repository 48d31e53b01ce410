//===- GroupList.h - group_list checks and walks ----------------*- C++ -*-===//
//
// A group_list (i32/i64 [E], count or cumsum, OPS.md §1.4) splits the rows
// of a grouped matmul or per-expert dequant among experts. The reference
// (ops/OpUtils.cpp groupOffsets) validates the whole list before writing any
// output; the lowerings do the same: checkGroupList first, then
// forEachGroup to walk the (now valid) groups.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ops/Common.h"

namespace kiln::codegen {

/// Emits the checks of groupOffsets against `rows`, entry by entry with the
/// same KernelError and a/b/c values: a negative entry, a decreasing cumsum,
/// a running end past `rows`.
void checkGroupList(LoweringContext &ctx, const Op &op, const Value *groupList,
                    GroupListType type, llvm::Value *rows);

/// Calls body(g, begin, end) for each group g in order, with [begin, end)
/// its rows (the list must have passed checkGroupList). Returns the end of
/// the last group (0 for an empty list): rows from there on are in no group.
llvm::Value *
forEachGroup(LoweringContext &ctx, const Value *groupList, GroupListType type,
             const std::function<void(llvm::Value *g, llvm::Value *begin,
                                      llvm::Value *end)> &body);

/// A block of at most `block` rows of one group: rows [begin, begin + rows)
/// of group `g`; rows == 0 for an index past the last block.
struct GroupBlock {
  llvm::Value *g, *begin, *rows;
};

/// Upper bound on the number of row blocks of `block` rows when each group
/// is split on its own: ceil(rows / block) + E.
llvm::Value *groupBlockCount(LoweringContext &ctx, const Value *groupList,
                             llvm::Value *rows, int64_t block);

/// Row block `t` of that split, groups in order (scans the list).
GroupBlock groupBlock(LoweringContext &ctx, const Value *groupList,
                      GroupListType type, llvm::Value *t, int64_t block);

} // namespace kiln::codegen
