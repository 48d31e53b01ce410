//===- DiskCacheTest.cpp - compiled kernels persist across processes ------===//
//
// A child process (fork) compiles a graph with a cache directory and exits;
// the parent, which never compiled that graph, then loads the kernel from
// disk instead of compiling it. A truncated or bit-flipped file is ignored:
// the parent recompiles, gets the right answer and rewrites the file, as
// it does for a well-formed file whose object does not link.
// Each test uses a graph name of its own, so no earlier test of this
// process has the kernel in memory.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

#include "codegen/CompileCache.h"
#include "codegen/ObjectCache.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace kiln {
namespace {

using lowering_test::Kir;
namespace fs = std::filesystem;

std::string graphText(const std::string &name) {
  return "func @" + name + R"((%x: i8[5,7], %w: i8[7,3]) -> (y: i32[5,3]) {
  %y = matmul(%x, %w) : i32[5,3]
  return %y
}
)";
}

/// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("kiln-disk-cache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

/// Compiles and runs `name`'s graph with `dir` as the cache; the result, or
/// an empty tensor after an error.
Tensor compileAndRun(const std::string &name, const std::string &dir) {
  Kir k(graphText(name));
  if (!k.g)
    return {};
  CompileOptions o;
  o.threads = 1;
  o.cacheDir = dir;
  std::unique_ptr<CompiledGraph> cg = compile(*k.g, o, k.engine);
  std::vector<Tensor> in;
  for (unsigned i = 0; i < 2; ++i)
    in.push_back(*randomInput(*k.g, i, {}, i + 1));
  auto out = cg ? cg->run(in) : FailureOr<std::vector<Tensor>>(failure());
  return !out.failed() ? (*out)[0] : Tensor();
}

/// The reference result of compileAndRun's graph and inputs.
Tensor reference(const std::string &name) {
  Kir k(graphText(name));
  std::vector<Tensor> in;
  for (unsigned i = 0; i < 2; ++i)
    in.push_back(*randomInput(*k.g, i, {}, i + 1));
  return (*runReference(*k.g, in))[0];
}

/// Runs compileAndRun in a child process; true if it succeeded there.
bool compileInChild(const std::string &name, const std::string &dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    Tensor t = compileAndRun(name, dir);
    ::_exit(t.empty() || !t.sameValues(reference(name)) ? 1 : 0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// The one cache file in `dir`.
fs::path onlyFile(const fs::path &dir) {
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(dir))
    files.push_back(e.path());
  EXPECT_EQ(files.size(), 1u);
  return files.empty() ? fs::path() : files[0];
}

TEST(DiskCache, SecondProcessLoadsInsteadOfCompiling) {
  TempDir dir;
  std::string name = "disk_hit_" + std::to_string(::getpid());
  ASSERT_TRUE(compileInChild(name, dir.path));
  EXPECT_EQ(onlyFile(dir.path).extension(), ".kilnobj");

  CompileCacheStats before = compileCacheStats();
  Tensor got = compileAndRun(name, dir.path);
  CompileCacheStats after = compileCacheStats();
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got.sameValues(reference(name)));
  EXPECT_EQ(after.diskHits, before.diskHits + 1);
  EXPECT_EQ(after.compiles, before.compiles);
}

/// Damages the cache file with `damage`, then checks that the parent
/// recompiles, computes the right values and leaves a valid file.
void checkRecovers(const std::string &tag,
                   const std::function<void(const fs::path &)> &damage) {
  TempDir dir;
  std::string name = tag + "_" + std::to_string(::getpid());
  ASSERT_TRUE(compileInChild(name, dir.path));
  fs::path file = onlyFile(dir.path);
  damage(file);

  CompileCacheStats before = compileCacheStats();
  Tensor got = compileAndRun(name, dir.path);
  CompileCacheStats after = compileCacheStats();
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got.sameValues(reference(name)));
  EXPECT_EQ(after.diskInvalid, before.diskInvalid + 1);
  EXPECT_EQ(after.compiles, before.compiles + 1);
  EXPECT_EQ(after.diskWrites, before.diskWrites + 1);
  // The rewritten file serves the next process.
  EXPECT_TRUE(compileInChild(name, dir.path));
}

TEST(DiskCache, TruncatedFileIsRecompiled) {
  checkRecovers("truncated", [](const fs::path &f) {
    fs::resize_file(f, fs::file_size(f) / 2);
  });
}

TEST(DiskCache, FlippedByteIsRecompiled) {
  checkRecovers("flipped", [](const fs::path &f) {
    std::fstream s(f, std::ios::in | std::ios::out | std::ios::binary);
    s.seekg(static_cast<std::streamoff>(fs::file_size(f) / 2));
    char c;
    s.read(&c, 1);
    c ^= 0x10;
    s.seekp(static_cast<std::streamoff>(fs::file_size(f) / 2));
    s.write(&c, 1);
  });
}

TEST(DiskCache, GarbageFileIsRecompiled) {
  checkRecovers("garbage", [](const fs::path &f) {
    std::ofstream(f, std::ios::binary | std::ios::trunc) << "not an object";
  });
}

/// The key and entry symbol stored in a cache file (its format is in
/// codegen/ObjectCache.h).
std::pair<std::string, std::string> keyAndEntry(const fs::path &f) {
  std::ifstream in(f, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  size_t at = 8;
  auto field = [&] {
    uint64_t n;
    std::memcpy(&n, bytes.data() + at, 8);
    std::string s = bytes.substr(at + 8, n);
    at += 8 + n;
    return s;
  };
  std::string key = field();
  return {key, field()};
}

// A well-formed file (right key, right hash) whose object does not link:
// the kernel is recompiled under another symbol name.
TEST(DiskCache, ObjectThatDoesNotLinkIsRecompiled) {
  checkRecovers("unlinkable", [](const fs::path &f) {
    auto [key, entry] = keyAndEntry(f);
    std::ofstream(f, std::ios::binary | std::ios::trunc)
        << codegen::DiskObjectCache::encode(key, entry, "not an ELF object");
  });
}

} // namespace
} // namespace kiln
