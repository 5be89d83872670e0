// A value or an error message, for small functions below the exception boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mloop::util {

struct Failure {
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    Result(Failure f) : m_v(std::in_place_index<1>, std::move(f)) {}    // NOLINT: implicit

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T* operator->() { return &value(); }
    T& operator*() & { return value(); }
    const std::string& error() const { return std::get<1>(m_v).message; }

  private:
    std::variant<T, Failure> m_v;
};

}  // namespace mloop::util
