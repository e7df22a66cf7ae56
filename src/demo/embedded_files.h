// Files compiled into the gyre binary (see cmake/embed_files.cmake), so `gyre demo` can lay out the
// examples/ato project in any workspace without knowing where the source tree is.
#pragma once

#include <span>
#include <string_view>

namespace gyre::demo {

struct EmbeddedFile {
  std::string_view path;  // relative to the example's root, '/'-separated
  std::string_view content;
};

// The files of examples/ato/, sorted by path. Valid for the life of the program.
std::span<const EmbeddedFile> AtoExampleFiles();

}  // namespace gyre::demo
