#include "store/models/uses.hpp"

#include "store/expr/computed.hpp"
#include "store/models/client.hpp"
#include "store/models/provider.hpp"
#include "util/strings.hpp"

namespace pxt::models {

namespace {

bool is_model_function(std::string_view name) {
  return iequals(name, "chat") || iequals(name, "chat_completion") || iequals(name, "embed");
}

}  // namespace

std::vector<ModelUse> model_uses_in(std::string_view sql, const std::string& where) {
  std::vector<ModelUse> out;
  std::vector<SqlToken> toks = tokenize_sql(sql);
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (toks[i].kind != SqlToken::Kind::Ident || toks[i + 1].kind != SqlToken::Kind::LParen) continue;
    if (!is_model_function(toks[i].text)) continue;
    // The second argument at this call's own nesting level.
    int depth = 0;
    size_t arg = 0;
    for (size_t j = i + 1; j < toks.size(); ++j) {
      const SqlToken& t = toks[j];
      if (t.kind == SqlToken::Kind::LParen) {
        ++depth;
      } else if (t.kind == SqlToken::Kind::RParen) {
        if (--depth == 0) break;
      } else if (t.kind == SqlToken::Kind::Comma && depth == 1) {
        if (++arg == 2) break;
      } else if (depth == 1 && arg == 1 && t.kind == SqlToken::Kind::String) {
        bool alone =
            toks[j - 1].kind == SqlToken::Kind::Comma && j + 1 < toks.size() &&
            (toks[j + 1].kind == SqlToken::Kind::Comma || toks[j + 1].kind == SqlToken::Kind::RParen);
        if (alone) out.push_back({to_lower(toks[i].text), t.text, where});
      }
    }
  }
  return out;
}

std::vector<ModelUse> model_uses(const TableDef& t) {
  std::vector<ModelUse> out;
  for (const auto& c : t.columns) {
    if (!c.is_computed()) continue;
    auto uses = model_uses_in(c.computed, "column '" + c.name + "' of table '" + t.path + "'");
    out.insert(out.end(), uses.begin(), uses.end());
  }
  for (const auto& i : t.indexes) {
    auto uses = model_uses_in(i.embedding, "index '" + i.name + "' of table '" + t.path + "'");
    out.insert(out.end(), uses.begin(), uses.end());
  }
  return out;
}

std::vector<std::string> check_model_uses(const std::vector<ModelUse>& uses) {
  std::vector<std::string> out;
  for (const auto& u : uses) {
    auto ref = parse_model_ref(u.model);
    if (!ref) {
      out.push_back(u.where + ": " + u.function + "(): " + ref.error().message);
      continue;
    }
    auto provider = provider_for(*ref);
    if (!provider) {
      out.push_back(u.where + ": " + u.function + "(): " + provider.error().message);
      continue;
    }
    // OpenAI itself refuses every request without a key; local servers need none.
    const ProviderConfig& cfg = (*provider)->config();
    if (cfg.api_key.empty() && cfg.base_url.find("://api.openai.com") != std::string::npos) {
      out.push_back(u.where + ": " + u.function + "(): model provider '" + cfg.name + "' (" + cfg.base_url +
                    ") has no api_key: set OPENAI_API_KEY, or api_key = \"${VAR}\" in [models." + cfg.name +
                    "]");
    }
  }
  return out;
}

}  // namespace pxt::models
