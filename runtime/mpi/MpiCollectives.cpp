//===- MpiCollectives.cpp - the MPI backend's all-reduce and agreement ----===//
//
// reduce(): 0. headers (count, dtype, op, numerics) to and from every rank,
// so a mismatch fails everywhere with one message before data moves;
// 1. reduce-scatter: rank s receives slice s of every buffer and reduces it
// in rank order (runtime/comm/Reduce.h, as the in-process backend does);
// 2. all-gather of the reduced slices. agreeOnText(): every rank's string
// to every rank, compared with rank 0's.
//
//===----------------------------------------------------------------------===//
#include "runtime/mpi/MpiComm.h"

#include <climits>

namespace kiln::comm::mpi {

CommStatus MpiComm::reduce(Task &t) {
  if (size_ == 1)
    return CommStatus::success();
  std::string what = describe(t.seq, t.count, t.spec);
  Clock::time_point deadline = Clock::now() + timeout();
  int64_t bytes = elementBytes(t.spec.dtype);
  if (t.count * bytes > INT_MAX)
    return CommStatus::error(what + ": more than 2 GiB in one collective");
  // 0. Headers.
  std::vector<Header> hdr(size_);
  hdr[rank_] = headerOf(t.count, t.spec);
  auto header = [&](int p) {
    return Bytes{&hdr[p], static_cast<int>(sizeof(Header))};
  };
  if (CommStatus s = exchange(dataTag(t.seq, 0), header,
                              [&](int) { return header(rank_); }, what,
                              deadline);
      !s.ok())
    return s;
  for (int r = 1; r < size_; ++r)
    if (!sameCollective(hdr[r].count, specOf(hdr[r]), hdr[0].count,
                        specOf(hdr[0]))) {
      fail(fmt::format("ranks disagree on allreduce #{}: rank 0 has {}, rank "
                       "{} has {}",
                       t.seq, describe(t.seq, hdr[0].count, specOf(hdr[0])), r,
                       describe(t.seq, hdr[r].count, specOf(hdr[r]))));
      return failed();
    }
  // 1. Reduce-scatter in rank order; 2. all-gather.
  auto lo = [&](int s) { return t.count * s / size_; };
  char *data = static_cast<char *>(t.data);
  auto slice = [&](int s) {
    return Bytes{data + lo(s) * bytes,
                 static_cast<int>((lo(s + 1) - lo(s)) * bytes)};
  };
  std::vector<std::vector<char>> tmp(size_);
  for (int p = 0; p < size_; ++p)
    if (p != rank_)
      tmp[p].resize(slice(rank_).size);
  auto partial = [&](int p) {
    return Bytes{tmp[p].data(), slice(rank_).size};
  };
  if (CommStatus s = exchange(dataTag(t.seq, 1), partial, slice, what, deadline);
      !s.ok())
    return s;
  std::vector<const void *> srcs;
  for (int r = 0; r < size_; ++r)
    srcs.push_back(r == rank_ ? slice(rank_).data : tmp[r].data());
  reduceInRankOrder(srcs, slice(rank_).data, lo(rank_ + 1) - lo(rank_),
                    t.spec);
  return exchange(dataTag(t.seq, 2), slice, [&](int) { return slice(rank_); },
                  what, deadline);
}

CommStatus MpiComm::exchange(int tag, const std::function<Bytes(int)> &recv,
                             const std::function<Bytes(int)> &send,
                             const std::string &what,
                             Clock::time_point deadline) {
  std::vector<MPI_Request> reqs;
  std::vector<int> peer;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_)
      continue;
    reqs.resize(reqs.size() + 2);
    peer.insert(peer.end(), {p, p});
    Bytes in = recv(p), out = send(p);
    MPI_Irecv(in.data, in.size, MPI_BYTE, p, tag, MPI_COMM_WORLD,
              &reqs[reqs.size() - 2]);
    MPI_Isend(out.data, out.size, MPI_BYTE, p, tag, MPI_COMM_WORLD,
              &reqs.back());
  }
  return await(reqs, peer, what, deadline);
}

CommStatus MpiComm::agreeOnText(Task &t) {
  std::vector<std::string> text(size_, std::string(kMaxAgree, '\0'));
  text[rank_] = t.text;
  std::string what = fmt::format("agreeing on '{}'", t.text);
  auto received = [&](int p) { return Bytes{text[p].data(), kMaxAgree}; };
  auto mine = [&](int) {
    return Bytes{text[rank_].data(), static_cast<int>(text[rank_].size()) + 1};
  };
  if (CommStatus s = exchange(kAgreeTag, received, mine, what,
                              Clock::now() + timeout());
      !s.ok())
    return s;
  for (std::string &s : text)
    s = s.c_str(); // up to the terminator
  for (int r = 1; r < size_; ++r)
    if (text[r] != text[0]) {
      fail(fmt::format("ranks disagree: rank 0 has {}; rank {} has {}",
                       text[0], r, text[r]));
      return failed();
    }
  return CommStatus::success();
}

} // namespace kiln::comm::mpi
