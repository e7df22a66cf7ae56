// Reading AtoOptions from YAML (examples/ato/datagen.yaml): the same settings as the CLI flags, spelled
// with underscores. Strict like every gyre YAML file (core/config.h): unknown keys, wrong types and
// out-of-range values are errors naming file:line:column and the key.
//
//   seed: 42
//   users: 20000
//   days: 30
//   start: 2026-01-01          # a date or an RFC 3339 timestamp, UTC
//   drift_day: 20
//   out: data                  # relative paths are resolved against the YAML file's folder
//   fraud_rate: 0.03           # and every other AtoOptions field by its name
#pragma once

#include <string>

#include "core/config.h"
#include "core/status.h"
#include "datagen/ato.h"

namespace gyre::datagen {

// Reads the options in `doc` over `defaults`; relative `out` paths are joined to `base_dir`.
Result<AtoOptions> ReadAtoOptions(const ConfigDocument& doc, const std::string& base_dir, AtoOptions defaults = {});

// Loads and reads a YAML file; its folder is the base for `out`.
Result<AtoOptions> LoadAtoOptions(const std::string& path, AtoOptions defaults = {});

// The first invalid option: its name (as in AtoOptions and the YAML keys, "out_dir" for out) and why.
// Returns false when all are valid. ValidateAtoOptions is this, formatted as a Status.
bool FindBadOption(const AtoOptions& options, std::string* option, std::string* message);

}  // namespace gyre::datagen
