#pragma once
// Which models a table or a query calls: the literal model arguments of chat(), chat_completion()
// and embed() in computed columns, embedding indexes and query SQL. `pxt serve` checks them before
// serving (every provider named must be configured) and --dry-run lists them. A model given by a
// column or a parameter instead of a literal is only known when the call runs.
// Pure functions, thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt::models {

struct ModelUse {
  std::string function;  // "chat", "embed", ...
  std::string model;     // the literal as written: "openai/gpt-4o-mini"
  std::string where;     // "column 'result' of table 'app.docs'"
};

// The model literals in one SQL expression or statement.
std::vector<ModelUse> model_uses_in(std::string_view sql, const std::string& where);
// Every model a table's computed columns call.
std::vector<ModelUse> model_uses(const TableDef& t);

// Problems with the uses (an unknown provider, a malformed model name), one message each, for the
// providers configured now.
std::vector<std::string> check_model_uses(const std::vector<ModelUse>& uses);

}  // namespace pxt::models
