// Error values and Result<T>: the one error model of rackscale.
//
// Every fallible parse, I/O and scheduling-input path returns a Result<T>
// (a value or an Error) instead of throwing. An Error carries where it
// happened (file or request, 1-based line, field) and what was expected, so
// that a user can fix the input without reading the code.
//
// Thread-safety: values only; no shared state.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace rackscale {

// Why an operation failed. Exit codes follow from the kind (see docs/cli.md).
enum class ErrorKind : uint8_t {
  kInvalidInput,  // malformed input data or arguments (exit code 2)
  kIo,            // file could not be read or written (exit code 1)
  kInternal,      // a broken invariant (exit code 1)
};

struct Error {
  ErrorKind kind = ErrorKind::kInvalidInput;
  std::string source;  // file name or request; empty if none
  int64_t line = 0;    // 1-based; 0 if not line-oriented
  std::string field;   // field or key name; empty if none
  std::string message; // what was wrong and what was expected

  // "FILE:LINE: field 'F': MESSAGE", omitting the parts that are empty.
  std::string ToString() const;

  static Error InvalidInput(std::string source, int64_t line, std::string field,
                            std::string message) {
    return Error{ErrorKind::kInvalidInput, std::move(source), line, std::move(field),
                 std::move(message)};
  }
  static Error Io(std::string source, std::string message) {
    return Error{ErrorKind::kIo, std::move(source), 0, {}, std::move(message)};
  }
};

// A value of type T or an Error. Accessing the wrong alternative is a bug and
// asserts in debug builds.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}    // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace rackscale
