// Backend constructors, used by Database::Open (database.cc). Not for direct use by other modules.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace gyre::store {

// location: a file path (relative to state_dir), "" for <state_dir>/gyre.db, or ":memory:".
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& location, const std::string& state_dir,
                                             Database::Options options);
// url: a libpq connection URI (postgresql://...).
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, Database::Options options);

}  // namespace gyre::store
