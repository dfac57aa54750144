#pragma once
// Checks of an embedding index's declaration against its table, the same for every backend.
// Pure functions (besides reading the configured model providers), thread-safe.
#include "store/model/schema.hpp"

namespace pxt {

// Checks idx against def and fills its defaults (the column's spelling, the name "<column>_idx",
// the metric's canonical name). Errors (invalid_argument): an unknown column (did you mean), a
// name that is not an identifier, an unknown metric, ef_search outside 1..10000, an empty
// expression, one that reads another column than the indexed one or gives no Vector, an unknown
// model provider.
Result<void> check_index_def(const TableDef& def, IndexDef& idx);
// Whether two declarations of an index are the same (column, expression, metric, ef_search).
bool same_index_def(const IndexDef& a, const IndexDef& b);
// The error for `if_exists = ignore` meeting a different index of that name.
Error index_differs_error(const TableDef& def, const IndexDef& existing);

}  // namespace pxt
