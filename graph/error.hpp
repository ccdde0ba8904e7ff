// The three kinds of failure dagrad reports, and the exit status each maps to.
// UserError: bad input the user can fix (exit 2). RuntimeFailure: the run failed (exit 1).
// InternalError: a broken invariant inside dagrad (exit 1, report as a bug).
#pragma once
#include <stdexcept>
#include <string>

namespace dagrad {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Throws InternalError with file and line when an internal invariant does not hold.
#define DAGRAD_ASSERT(cond, msg)                                                          \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::dagrad::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                    ": internal error: " + (msg));                        \
  } while (0)

}  // namespace dagrad
