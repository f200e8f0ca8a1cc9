// Errors raised in native code carry one of SPEC's codes; the bridge turns them
// into JS errors with that code, and lib/ into SemfieldError.
#pragma once
#include <stdexcept>
#include <string>

namespace sf {

struct Error : std::runtime_error {
  std::string code;
  Error(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

[[noreturn]] inline void fail(const char* code, const std::string& msg) { throw Error(code, msg); }

}  // namespace sf
