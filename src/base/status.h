// Status and Result<T>: how errors cross boundaries (files, configs, command lines).
// An error is one human-readable line that names the file, tensor or field, what was expected and what
// was found. Hot paths never produce these; they use DSV4_CHECK (check.h) for internal invariants.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

namespace dsv4 {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  template <typename... Args>
  static Status error(fmt::format_string<Args...> f, Args&&... args) {
    Status s;
    s.failed_ = true;
    s.message_ = fmt::format(f, std::forward<Args>(args)...);
    return s;
  }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Prefixes context ("model.safetensors: ") to an error; ok statuses pass through.
  Status with_context(const std::string& prefix) const {
    if (!failed_) return *this;
    Status s = *this;
    s.message_ = prefix + message_;
    return s;
  }

 private:
  bool failed_ = false;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.is_ok()) status_ = Status::error("internal: Result built from an ok Status");
  }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace dsv4

// Propagates an error Status from an expression returning Status.
#define DSV4_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::dsv4::Status dsv4_status_ = (expr);       \
    if (!dsv4_status_.is_ok()) return dsv4_status_; \
  } while (0)

#define DSV4_CONCAT_INNER(a, b) a##b
#define DSV4_CONCAT(a, b) DSV4_CONCAT_INNER(a, b)
#define DSV4_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.is_ok()) return tmp.status();           \
  lhs = std::move(tmp).value()
// `DSV4_ASSIGN_OR_RETURN(auto x, f());` assigns the value of a Result or returns its error.
#define DSV4_ASSIGN_OR_RETURN(lhs, expr) \
  DSV4_ASSIGN_OR_RETURN_IMPL(DSV4_CONCAT(dsv4_result_, __LINE__), lhs, expr)
