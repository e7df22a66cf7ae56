// SQL for one comparison of the MLflow search grammar (tracking/search_filter.h), shared by the stores that
// search (tracking runs and experiments, registry models and versions). Each returns a condition on an SQL
// expression `column` with `?` placeholders and appends its parameters; `what` names the operand in
// errors ("param 'model'", "attribute 'start_time'").
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tracking/search_filter.h"

namespace gyre::tracking {

// = != LIKE ILIKE, and IN / NOT IN when allow_in. LIKE is case-sensitive and ILIKE is not, on both
// backends. The value must be a quoted string.
Result<std::string> StringComparisonSql(const std::string& column, const Comparison& c,
                                        std::vector<store::Value>& params, const std::string& what, bool allow_in);

// = != > >= < <= against a numeric literal, compared as double precision (so "version_number > 2.5"
// works on an integer column on PostgreSQL too).
Result<std::string> NumericComparisonSql(const std::string& column, const Comparison& c,
                                         std::vector<store::Value>& params, const std::string& what);

}  // namespace gyre::tracking
