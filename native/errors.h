// Errors raised in native code carry one of SPEC's codes; the bridge turns them
// into JS errors with that code, and lib/ into SemfieldError.
#pragma once
#include <charconv>
#include <stdexcept>
#include <string>

namespace sf {

struct Error : std::runtime_error {
  std::string code;
  Error(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

[[noreturn]] inline void fail(const char* code, const std::string& msg) { throw Error(code, msg); }

// A number as a message prints it: the shortest form that reads back to the
// same double (1.0000001192092896 for the float just above 1, never the
// 1.000000 of %f, which hides why a value fails).
inline std::string num(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace sf
