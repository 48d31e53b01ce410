//===- kiln-opt.cpp - parse, verify, transform and print .kir -------------===//
//
//   kiln-opt FILE [--passes=a,b,c] [--split-input-file] [--verify-diagnostics]
//            [--print-ir-after-all] [--emit=ir|dot|llvm] [--debug-fusion]
//            [--mode static|dynamic] [--dim SYM=N]... [-o OUT]
//
//===----------------------------------------------------------------------===//
#include "codegen/CompiledGraph.h"
#include "ir/DiagnosticVerifier.h"
#include "runtime/DimFlags.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

using namespace kiln;

namespace {

struct Options {
  std::string input = "-";
  std::string output = "-";
  std::string passes;
  std::string emit = "ir";
  bool split = false;
  bool verifyDiagnostics = false;
  bool printAfterAll = false;
  bool debugFusion = false;
  std::string mode = "dynamic";
  std::vector<std::string> dims;
  std::string isa = "auto";
};

/// Prints the optimised LLVM module of each graph (--emit=llvm).
bool emitLLVM(const Module &m, const Options &opts, DiagEngine &diags,
              std::ostream &out) {
  std::string error;
  std::optional<SymbolBindings> parsed = parseDimFlags(opts.dims, nullptr, error);
  if (!parsed) {
    std::cerr << "kiln-opt: " << error << '\n';
    return false;
  }
  const SymbolBindings &bindings = *parsed;
  CompileOptions co;
  co.mode = opts.mode == "static" ? codegen::ShapeMode::Static
                                  : codegen::ShapeMode::Dynamic;
  co.isa = *codegen::parseISA(opts.isa);
  for (const auto &g : m.graphs) {
    if (co.mode == codegen::ShapeMode::Static)
      for (const std::string &s : g->symbols())
        if (!bindings.count(s)) {
          std::cerr << "kiln-opt: static mode needs --dim " << s << "=N\n";
          return false;
        }
    std::unique_ptr<CompiledGraph> exe = compile(*g, co, diags);
    if (!exe)
      return false;
    FailureOr<std::string> ir = exe->llvmIR(bindings, /*optimized=*/true);
    if (ir.failed())
      return false;
    out << *ir;
  }
  return true;
}

struct Chunk {
  std::string text;
  unsigned firstLine;
};

/// Splits on `// -----` lines, keeping each chunk's first line number.
std::vector<Chunk> splitInput(const std::string &buffer, bool split) {
  if (!split)
    return {{buffer, 1}};
  static const std::regex marker(R"(^\s*// -----\s*$)");
  std::vector<Chunk> chunks{{"", 1}};
  std::istringstream in(buffer);
  std::string line;
  unsigned n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (std::regex_match(line, marker)) {
      chunks.push_back({"", n + 1});
      continue;
    }
    chunks.back().text += line + '\n';
  }
  return chunks;
}

/// Parses, verifies, transforms and prints one chunk.
bool processChunk(const Chunk &chunk, const Options &opts, DiagEngine &diags,
                  std::ostream &out) {
  std::unique_ptr<Module> m =
      parseModule(chunk.text, opts.input, diags, chunk.firstLine);
  if (!m || failed(verify(*m)))
    return false;
  PassManager pm(PassOptions{opts.debugFusion});
  if (failed(pm.addPipeline(opts.passes, diags)))
    return false;
  if (opts.printAfterAll)
    pm.setAfterPass([&](std::string_view name, const Module &mod) {
      std::cerr << "// -----// IR Dump After " << name << " //----- //\n";
      print(std::cerr, mod);
    });
  if (failed(pm.run(*m)))
    return false;
  if (opts.emit == "llvm")
    return emitLLVM(*m, opts, diags, out);
  if (opts.emit == "dot") {
    for (const auto &g : m->graphs)
      printDot(out, *g);
  } else {
    print(out, *m);
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln-opt: parse, verify, transform and print kiln IR"};
  Options opts;
  app.add_option("input", opts.input, "input .kir file ('-' for stdin)");
  app.add_option("-o", opts.output, "output file ('-' for stdout)");
  app.add_option("--passes", opts.passes, "comma-separated pass pipeline");
  app.add_option("--emit", opts.emit, "what to print")
      ->check(CLI::IsMember({"ir", "dot", "llvm"}));
  app.add_option("--mode", opts.mode,
                 "shape mode for --emit=llvm: dynamic (symbols are kernel "
                 "arguments) or static (needs --dim for every symbol)")
      ->check(CLI::IsMember({"static", "dynamic"}));
  app.add_option("--dim", opts.dims, "SYM=N for --emit=llvm --mode static");
  app.add_option("--isa", opts.isa,
                 "int8 GEMM sequence for --emit=llvm (codegen/TargetISA.h)")
      ->check(CLI::IsMember(
          {"auto", "avx512vnni", "avx512", "avx2", "generic"}));
  app.add_flag("--split-input-file", opts.split,
               "process each '// -----' chunk separately");
  app.add_flag("--verify-diagnostics", opts.verifyDiagnostics,
               "check diagnostics against expected-* comments");
  app.add_flag("--print-ir-after-all", opts.printAfterAll,
               "print the IR to stderr after every pass");
  app.add_flag("--debug-fusion", opts.debugFusion,
               "explain why fusion candidates did not fuse");
  app.add_flag_callback(
      "--list-passes",
      [] {
        for (const PassInfo &p : allPasses())
          std::cout << p.name << "  " << p.summary << '\n';
        std::exit(0);
      },
      "list the available passes");
  CLI11_PARSE(app, argc, argv);

  std::string buffer;
  if (opts.input == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    buffer = ss.str();
    opts.input = "<stdin>";
  } else {
    std::ifstream f(opts.input, std::ios::binary);
    if (!f) {
      std::cerr << "kiln-opt: cannot open '" << opts.input << "'\n";
      return 1;
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    buffer = ss.str();
  }

  std::ofstream file;
  if (opts.output != "-") {
    file.open(opts.output);
    if (!file) {
      std::cerr << "kiln-opt: cannot write '" << opts.output << "'\n";
      return 1;
    }
  }
  std::ostream &out = opts.output == "-" ? std::cout : file;

  DiagEngine stderrDiags;
  bool ok = true;
  std::vector<Chunk> chunks = splitInput(buffer, opts.split);
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i)
      out << "// -----\n";
    if (!opts.verifyDiagnostics) {
      ok &= processChunk(chunks[i], opts, stderrDiags, out);
      continue;
    }
    DiagnosticVerifier verifier(chunks[i].text, chunks[i].firstLine);
    DiagEngine collect([&](const Diagnostic &d) { verifier.handle(d); });
    processChunk(chunks[i], opts, collect, out);
    ok &= succeeded(verifier.finish(stderrDiags, opts.input));
  }
  return ok ? 0 : 1;
}
