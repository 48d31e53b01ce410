//===- ObjectCache.cpp - compiled kernels on disk, across processes -------===//
#include "codegen/ObjectCache.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

#include <cstring>

namespace kiln::codegen {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'O', 'B', 'J', '1'};

void putU64(std::string &out, uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  out.append(bytes, 8);
}

void putString(std::string &out, llvm::StringRef s) {
  putU64(out, s.size());
  out.append(s.data(), s.size());
}

/// Reads the file's fields in order; every read checks the bounds.
struct Reader {
  llvm::StringRef data;
  size_t at = 0;
  bool ok = true;

  uint64_t u64() {
    if (!ok || data.size() - at < 8)
      return ok = false, 0;
    uint64_t v;
    std::memcpy(&v, data.data() + at, 8);
    at += 8;
    return v;
  }
  llvm::StringRef string() {
    uint64_t n = u64();
    if (!ok || data.size() - at < n)
      return ok = false, llvm::StringRef();
    llvm::StringRef s = data.substr(at, n);
    at += n;
    return s;
  }
};

std::string path(const std::string &dir, const std::string &key) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, DiskObjectCache::fileName(key));
  return std::string(p);
}

/// Writes `bytes` to `final` through a temporary file and a rename.
bool writeAtomically(const std::string &dir, const std::string &final,
                     llvm::StringRef bytes) {
  if (llvm::sys::fs::create_directories(dir))
    return false;
  llvm::SmallString<256> model(dir), temp;
  llvm::sys::path::append(model, "tmp-%%%%%%%%%%%%.kilnobj");
  int fd;
  if (llvm::sys::fs::createUniqueFile(model, fd, temp))
    return false;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    if (os.has_error()) {
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return false;
    }
  }
  if (llvm::sys::fs::rename(temp, final)) {
    llvm::sys::fs::remove(temp);
    return false;
  }
  return true;
}

} // namespace

std::string DiskObjectCache::fileName(const std::string &key) {
  llvm::XXH128_hash_t h = llvm::xxh3_128bits(
      llvm::ArrayRef(reinterpret_cast<const uint8_t *>(key.data()), key.size()));
  char name[64];
  std::snprintf(name, sizeof name, "%016llx%016llx.kilnobj",
                static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return name;
}

std::string DiskObjectCache::encode(llvm::StringRef key, llvm::StringRef entry,
                                    llvm::StringRef object) {
  std::string bytes(kMagic, sizeof kMagic);
  putString(bytes, key);
  putString(bytes, entry);
  putString(bytes, object);
  putU64(bytes, llvm::xxh3_64bits(bytes));
  return bytes;
}

std::variant<CachedObject, CacheMiss>
DiskObjectCache::load(const std::string &dir, const std::string &key) {
  auto file = llvm::MemoryBuffer::getFile(path(dir, key), /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return CacheMiss::Absent;
  Reader r{(*file)->getBuffer()};
  if (r.data.size() < sizeof kMagic ||
      std::memcmp(r.data.data(), kMagic, sizeof kMagic) != 0)
    return CacheMiss::Invalid;
  r.at = sizeof kMagic;
  llvm::StringRef storedKey = r.string();
  llvm::StringRef entry = r.string();
  llvm::StringRef object = r.string();
  size_t hashed = r.at;
  uint64_t hash = r.u64();
  if (!r.ok || r.at != r.data.size() || storedKey != key || entry.empty() ||
      hash != llvm::xxh3_64bits(r.data.take_front(hashed)))
    return CacheMiss::Invalid;
  return CachedObject{entry.str(),
                      llvm::MemoryBuffer::getMemBufferCopy(object, entry)};
}

void DiskObjectCache::storeWhenCompiled(const std::string &moduleId,
                                        std::string dir, std::string key,
                                        std::string entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_[moduleId] = {std::move(dir), std::move(key), std::move(entry)};
}

bool DiskObjectCache::stored(const std::string &moduleId) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = done_.find(moduleId);
  bool ok = it != done_.end() && it->second;
  if (it != done_.end())
    done_.erase(it);
  pending_.erase(moduleId);
  return ok;
}

void DiskObjectCache::notifyObjectCompiled(const llvm::Module *m,
                                           llvm::MemoryBufferRef object) {
  Pending p;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(m->getModuleIdentifier());
    if (it == pending_.end())
      return;
    p = std::move(it->second);
    pending_.erase(it);
  }
  bool ok = writeAtomically(p.dir, path(p.dir, p.key),
                            encode(p.key, p.entry, object.getBuffer()));
  std::lock_guard<std::mutex> lock(mutex_);
  done_[m->getModuleIdentifier()] = ok;
}

} // namespace kiln::codegen
