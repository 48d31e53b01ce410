//===- SingleOp.cpp - run one op eagerly ----------------------------------===//
#include "runtime/SingleOp.h"

#include "ir/Builder.h"
#include "ir/Verifier.h"
#include "runtime/Executor.h"

namespace kiln {

std::vector<Tensor> runSingleOp(OpKind kind,
                                const std::vector<const Tensor *> &inputs,
                                OpAttrs attrs, std::source_location loc,
                                const EvalOptions &options) {
  std::string messages;
  DiagEngine diags([&](const Diagnostic &d) {
    messages += (messages.empty() ? "" : "\n") + format(d);
  });
  Graph g(std::string(opInfo(kind).mnemonic), Location::fromCpp(loc));
  g.setDiags(diags);
  Builder b(g);
  std::vector<Value *> operands;
  std::vector<Tensor> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      operands.push_back(nullptr);
      continue;
    }
    operands.push_back(b.param(std::string(opInfo(kind).operands[i].name),
                               inputs[i]->type()));
    args.push_back(*inputs[i]);
  }
  Results r = b.create(kind, operands, std::move(attrs), Location::fromCpp(loc));
  std::vector<GraphResult> results;
  for (Value *v : r.op()->results())
    results.push_back({v, ""});
  b.returns(std::move(results));
  if (!b.ok() || failed(verify(g)))
    throw Error(messages);
  FailureOr<std::vector<Tensor>> out = runReference(g, args, options);
  if (out.failed())
    throw Error(messages);
  return std::move(*out);
}

} // namespace kiln
