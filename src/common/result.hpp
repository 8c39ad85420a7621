#pragma once

#include "common/error.hpp"

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace otad {

/// Either a value or an Error. A small stand-in for std::expected, which libstdc++ 12 only
/// offers under C++23.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const& {
        assert(!ok());
        return std::get<1>(v_);
    }
    Error&& error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT implicit

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& {
        assert(!ok());
        return *error_;
    }
    Error&& error() && {
        assert(!ok());
        return std::move(*error_);
    }

  private:
    std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() {
    return {};
}

}  // namespace otad

// Propagates a failed Result/Status out of the enclosing function.
#define OTA_CONCAT_INNER(a, b) a##b
#define OTA_CONCAT(a, b) OTA_CONCAT_INNER(a, b)

#define OTA_TRY(expr) OTA_TRY_IMPL(OTA_CONCAT(ota_try_result_, __COUNTER__), expr)
#define OTA_TRY_IMPL(tmp, expr)            \
    do {                                   \
        auto&& tmp = (expr);               \
        if (!tmp.ok()) {                   \
            return std::move(tmp).error(); \
        }                                  \
    } while (false)

// Declares `lhs` from a successful Result, or returns its error.
#define OTA_ASSIGN_OR_RETURN(lhs, expr) \
    OTA_ASSIGN_OR_RETURN_IMPL(OTA_CONCAT(ota_result_, __COUNTER__), lhs, expr)
#define OTA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                            \
    if (!tmp.ok()) {                              \
        return std::move(tmp).error();            \
    }                                             \
    lhs = std::move(tmp).value()
