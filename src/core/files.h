// Whole-file reads for small text files (configuration, model descriptors). Errors name the path.
#pragma once

#include <string>

#include "core/status.h"

namespace gyre {

// NotFound when the file does not exist, IOError when it cannot be read.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace gyre
