//===- Diagnostics.h - located errors and LogicalResult ---------*- C++ -*-===//
//
// User-facing failures (bad IR, bad shapes, bad data) are reported through a
// DiagEngine and propagated as LogicalResult, MLIR style; nothing throws.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Location.h"

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace kiln {

/// Success or failure of an operation that already reported its error.
class [[nodiscard]] LogicalResult {
public:
  static LogicalResult success() { return LogicalResult(true); }
  static LogicalResult failure() { return LogicalResult(false); }
  bool succeeded() const { return ok_; }
  bool failed() const { return !ok_; }

private:
  explicit LogicalResult(bool ok) : ok_(ok) {}
  bool ok_;
};

inline LogicalResult success(bool ok = true) {
  return ok ? LogicalResult::success() : LogicalResult::failure();
}
inline LogicalResult failure(bool fail = true) { return success(!fail); }
inline bool succeeded(LogicalResult r) { return r.succeeded(); }
inline bool failed(LogicalResult r) { return r.failed(); }

/// A value, or a failure that has already been reported.
template <class T> class [[nodiscard]] FailureOr : public std::optional<T> {
public:
  FailureOr(LogicalResult r) { (void)r; }
  FailureOr(T value) : std::optional<T>(std::move(value)) {}
  bool failed() const { return !this->has_value(); }
  operator LogicalResult() const { return success(this->has_value()); }
};

enum class Severity { Error, Warning, Note, Remark };

struct Diagnostic {
  Severity severity = Severity::Error;
  Location loc;
  std::string message;
};

/// Formats `file:line:col: error: message` (no trailing newline).
std::string format(const Diagnostic &d);

/// Collects diagnostics and hands them to a handler (stderr by default).
class DiagEngine {
public:
  using Handler = std::function<void(const Diagnostic &)>;

  DiagEngine();
  explicit DiagEngine(Handler handler) : handler_(std::move(handler)) {}

  void emit(Diagnostic d);
  unsigned numErrors() const { return numErrors_; }
  void setHandler(Handler h) { handler_ = std::move(h); }

  /// The engine used when nothing else was configured: prints to stderr.
  static DiagEngine &stderrEngine();

private:
  Handler handler_;
  /// Ranks of an in-process group may report into one engine at once (the
  /// handler must then be thread-safe too).
  std::atomic<unsigned> numErrors_{0};
};

/// A diagnostic being built with `<<`; emitted when it goes out of scope.
/// Converts to a failed LogicalResult so `return op.emitError() << ...;` works.
class InFlightDiag {
public:
  InFlightDiag(DiagEngine &engine, Severity sev, Location loc)
      : engine_(&engine), diag_{sev, std::move(loc), {}} {}
  InFlightDiag(InFlightDiag &&other) noexcept
      : engine_(other.engine_), diag_(std::move(other.diag_)),
        stream_(std::move(other.stream_)) {
    other.engine_ = nullptr;
  }
  InFlightDiag &operator=(InFlightDiag &&) = delete;
  ~InFlightDiag();

  template <class T> InFlightDiag &operator<<(const T &value) {
    stream_ << value;
    return *this;
  }
  operator LogicalResult() const { return failure(); }
  template <class T> operator FailureOr<T>() const { return failure(); }

private:
  DiagEngine *engine_;
  Diagnostic diag_;
  std::ostringstream stream_;
};

inline InFlightDiag emitError(DiagEngine &engine, const Location &loc) {
  return InFlightDiag(engine, Severity::Error, loc);
}

} // namespace kiln
