// Developer subcommands call the core's internals, which throw ernie::Error;
// the CLI's contract is an exit code of 10 + status (cli_args.h).
#pragma once

#include "cli_args.h"
#include "util/error.h"

namespace cli {

template <typename Fn>
auto with_core_errors(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ernie::Error& e) {
    throw Failure(kExitStatusBase + e.status(), e.what());
  }
}

}  // namespace cli
