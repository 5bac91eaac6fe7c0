// dsv4 bench --long: a long-context run (bench_long.cc).
#pragma once

#include "commands.h"

namespace dsv4 {

int run_bench_long(const BenchOptions& o);

}  // namespace dsv4
