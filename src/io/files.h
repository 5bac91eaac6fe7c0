// Whole-file reads and writes for the small files around a model or a dataset (JSON, token shards).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace dsv4 {

Result<std::string> read_file(const std::string& path);

// The file appears complete or not at all: the bytes go to path + ".tmp", which is flushed to disk and
// renamed onto `path`; on failure the temporary file is removed.
Status write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace dsv4
