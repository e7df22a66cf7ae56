// Base64 (RFC 4648, standard alphabet, padded). Decoding rejects characters outside the alphabet and bad
// padding; it accepts missing padding, as URL query strings often lose it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gyre {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace gyre
