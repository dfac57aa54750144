#pragma once
// Backend-neutral validation of a table definition before it is created. Pure, thread-safe.
#include "store/model/schema.hpp"

namespace pxt {

// Checks names (identifiers, not reserved, no duplicates ignoring case), the primary key (known,
// stored, keyable columns; they become required) and fills each computed column's depends_on.
// Error: invalid_argument naming the column and the reason, with "did you mean" for unknown names.
Result<void> check_columns(TableDef& def);
// After the backend has checked each expression: refuses cycles and infers the types of computed
// columns declared without one (infer_type), in dependency order.
Result<void> finish_computed(TableDef& def);

}  // namespace pxt
