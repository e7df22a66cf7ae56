// Text encodings. Base64 (RFC 4648, standard alphabet, padded): decoding rejects characters outside the
// alphabet and bad padding, and accepts missing padding, as URL query strings often lose it. Hex digits, for
// the percent-decoders of URLs (http) and artifact paths (tracking).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gyre {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

// 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else.
int HexDigitValue(char c);

}  // namespace gyre
