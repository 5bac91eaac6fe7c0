// The process's peak resident set, as the kernel keeps it: VmHWM in /proc/self/status, which counts
// anonymous memory and mapped file pages (the weights) alike.
#pragma once

#include <cstdint>

namespace dsv4 {

int64_t peak_rss_bytes();  // 0 when /proc/self/status cannot be read
// Resets the high-water mark to the current RSS (`5` into /proc/self/clear_refs, Linux ≥ 4.0), so that
// scratch freed before this point does not count. False when the kernel refuses.
bool reset_peak_rss();

}  // namespace dsv4
