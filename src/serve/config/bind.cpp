// bind_routes: loads the service's schema modules, then resolves every RouteSpec against the
// catalog into a BoundRoute (defaults filled in, request fields typed), collecting every problem.
#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "serve/config/config.hpp"
#include "serve/config/detail.hpp"
#include "store/expr/computed.hpp"
#include "store/index/similarity_sql.hpp"
#include "util/strings.hpp"

namespace pxt {

using namespace config_detail;

std::vector<models::ModelUse> route_model_uses(const BoundRoute& b) { return b.model_uses; }

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Continuation lines of a multi-line message (a module's own errors) stay readable when the
// message is printed as one indented error entry.
std::string indent_continuations(const std::string& msg) {
  std::string out;
  for (char c : msg) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

class Binder {
 public:
  Binder(Store& store, const ServiceSpec& s) : store_(store), s_(s) {
    std::vector<std::string> extra;
    if (!s.config_file.empty()) {
      auto dir = std::filesystem::path(s.config_file).parent_path();
      extra.push_back(dir.empty() ? "." : dir.string());
    }
    search_ = module_search_path(extra);
  }

  std::vector<BoundRoute> run();
  Errors& errors() { return errs_; }

 private:
  const ModuleDef* load_module(const std::string& name, const std::string& loc, const std::string& key);
  const TableDef* table(const RouteSpec& r);
  bool known_columns(const RouteSpec& r, const std::string& key, const std::vector<std::string>& cols,
                     const TableDef& t, const std::string& what);
  void refuse_computed(const RouteSpec& r, const std::string& key, const std::vector<std::string>& cols,
                       const TableDef& t);
  void check_uploads(const RouteSpec& r, const std::vector<std::string>& uploads,
                     const std::vector<std::pair<std::string, std::optional<ColumnType>>>& types);
  // `defaulted`: the route's outputs were not given (every column).
  void check_fileresponse(const RouteSpec& r, const std::vector<ResultColumn>& outputs,
                          bool defaulted = false);
  void bind_outputs(BoundRoute& b, const TableDef& t);
  bool bind_insert(BoundRoute& b, const TableDef& t);
  bool bind_update(BoundRoute& b, const TableDef& t);
  bool bind_delete(BoundRoute& b, const TableDef& t);
  bool bind_query(BoundRoute& b);
  bool check_models(BoundRoute& b);

  Store& store_;
  const ServiceSpec& s_;
  std::vector<std::string> search_;
  Errors errs_;
  std::map<std::string, std::optional<ModuleDef>> modules_;  // nullopt: failed (reported once)
  std::map<std::string, std::optional<TableDef>> tables_;
};

const ModuleDef* Binder::load_module(const std::string& name, const std::string& loc,
                                     const std::string& key) {
  if (auto it = modules_.find(name); it != modules_.end()) return it->second ? &*it->second : nullptr;
  auto fail = [&](const Error& e) -> const ModuleDef* {
    errs_.add(loc, key, "module '" + name + "' could not be loaded: " + indent_continuations(e.message));
    modules_[name] = std::nullopt;
    return nullptr;
  };
  auto file = find_module_file(name, search_);
  if (!file) return fail(file.error());
  auto parsed = parse_module(*file, name);
  if (!parsed) return fail(parsed.error());
  auto applied = apply_module(store_, *parsed);
  if (!applied) return fail(applied.error());
  return &*(modules_[name] = std::move(parsed).value());
}

const TableDef* Binder::table(const RouteSpec& r) {
  auto it = tables_.find(r.table);
  if (it == tables_.end()) {
    auto t = store_.get_table(r.table);
    if (!t) errs_.add(location_of(r, "table"), "table", t.error().message);
    it = tables_.emplace(r.table, t ? std::optional<TableDef>(*t) : std::nullopt).first;
  }
  return it->second ? &*it->second : nullptr;
}

bool Binder::known_columns(const RouteSpec& r, const std::string& key, const std::vector<std::string>& cols,
                           const TableDef& t, const std::string& what) {
  bool ok = true;
  for (const auto& c : cols) {
    if (t.find(c)) continue;
    errs_.add(location_of(r, key), key,
              "unknown " + what + " column '" + c + "' in table '" + t.path + "'" +
                  did_you_mean(c, t.column_names()));
    ok = false;
  }
  return ok;
}

void Binder::refuse_computed(const RouteSpec& r, const std::string& key, const std::vector<std::string>& cols,
                             const TableDef& t) {
  for (const auto& c : cols)
    if (const ColumnDef* col = t.find(c); col && col->is_computed())
      errs_.add(location_of(r, key), key, "'" + c + "' is a computed column and cannot be used as input");
}

void Binder::check_uploads(const RouteSpec& r, const std::vector<std::string>& uploads,
                           const std::vector<std::pair<std::string, std::optional<ColumnType>>>& types) {
  for (const auto& u : uploads) {
    auto it = std::find_if(types.begin(), types.end(), [&](const auto& p) { return p.first == u; });
    if (it == types.end() || !it->second || is_media(*it->second)) continue;  // unknown: reported elsewhere
    errs_.add(location_of(r, "uploadfile_inputs"), "uploadfile_inputs",
              "'" + u + "' has type " + std::string(type_name(*it->second)) +
                  "; uploads must be media columns (Image, Video, Audio or Document)");
  }
}

// Pixeltable's rule: the response is that one file, so the route has exactly one output and it is
// media-typed (a second output would be dropped silently).
void Binder::check_fileresponse(const RouteSpec& r, const std::vector<ResultColumn>& outputs,
                                bool defaulted) {
  if (!r.return_fileresponse) return;
  if (outputs.size() == 1 && outputs[0].type && is_media(*outputs[0].type)) return;
  std::vector<std::string> all, media;
  for (const auto& o : outputs) {
    all.push_back(o.name);
    if (o.type && is_media(*o.type)) media.push_back(o.name);
  }
  const bool query = r.type == RouteType::Query;
  std::string what = query       ? "the query returns "
                     : defaulted ? "outputs default to every column, "
                                 : "outputs are ";
  std::string hint;
  if (media.size() == 1 && all.size() > 1)
    hint = query ? "; select only '" + media[0] + "' in the query" : "; set outputs = [\"" + media[0] + "\"]";
  errs_.add(location_of(r, "return_fileresponse"), "return_fileresponse",
            "return_fileresponse = true requires exactly one media-typed output column; " + what + "[" +
                quoted_list(all) + "]" + hint);
}

// A file-response insert or compute route answers with its file output; a request that leaves
// an input it depends on out (or null) could only get a null file. Those inputs are required
// (and OpenAPI says so), so the request is refused before anything is stored.
void require_file_inputs(BoundRoute& b, const TableDef& t) {
  if (!b.spec.return_fileresponse || b.outputs.size() != 1) return;
  std::set<std::string> needed;
  std::vector<std::string> todo{b.outputs[0].name};
  while (!todo.empty()) {
    std::string name = todo.back();
    todo.pop_back();
    if (!needed.insert(name).second) continue;
    if (const ColumnDef* c = t.find(name))
      for (const auto& dep : c->depends_on) todo.push_back(dep);
  }
  for (auto* fields : {&b.fields, &b.uploads})
    for (auto& f : *fields)
      if (needed.count(f.name)) {
        f.required = true;
        f.nullable = false;
      }
}

RequestField field_of(const ColumnDef& c, bool required) {
  RequestField f;
  f.name = c.name;
  f.type = c.type;
  f.required = required;
  f.nullable = !c.required;
  return f;
}

void Binder::bind_outputs(BoundRoute& b, const TableDef& t) {
  const bool defaulted = !b.spec.outputs;
  std::vector<std::string> outs = defaulted ? t.column_names() : *b.spec.outputs;
  if (!known_columns(b.spec, "outputs", outs, t, "output")) return;
  b.spec.outputs = outs;
  for (const auto& o : outs) {
    const ColumnDef* c = t.find(o);
    b.outputs.push_back({c->name, c->type, !c->required});
  }
  check_fileresponse(b.spec, b.outputs, defaulted);
}

bool Binder::bind_insert(BoundRoute& b, const TableDef& t) {
  const RouteSpec& r = b.spec;
  const auto& uploads = r.uploadfile_inputs;
  std::vector<std::string> inputs;
  if (r.inputs) {
    inputs = *r.inputs;
  } else {
    for (const auto& c : t.columns)
      if (!c.is_computed() && !contains(uploads, c.name)) inputs.push_back(c.name);
  }
  bool ok = known_columns(r, "inputs", inputs, t, "input");
  ok = known_columns(r, "uploadfile_inputs", uploads, t, "upload") && ok;
  refuse_computed(r, "inputs", inputs, t);
  refuse_computed(r, "uploadfile_inputs", uploads, t);
  std::vector<std::pair<std::string, std::optional<ColumnType>>> types;
  for (const auto& c : t.columns) types.emplace_back(c.name, c.type);
  check_uploads(r, uploads, types);
  if (r.type == RouteType::Insert) {
    // A required column the request cannot set would make every insert fail.
    for (const auto& c : t.columns)
      if (c.required && !c.is_computed() && !contains(inputs, c.name) && !contains(uploads, c.name))
        errs_.add(location_of(r, "inputs"), "inputs",
                  "required column '" + c.name + "' is not an input, so every insert would fail");
  }
  b.spec.inputs = inputs;
  if (ok) {
    for (const auto& i : inputs) b.fields.push_back(field_of(*t.find(i), t.find(i)->required));
    for (const auto& u : uploads) b.uploads.push_back(field_of(*t.find(u), t.find(u)->required));
  }
  bind_outputs(b, t);
  if (ok) require_file_inputs(b, t);
  return ok;
}

bool Binder::bind_update(BoundRoute& b, const TableDef& t) {
  const RouteSpec& r = b.spec;
  if (t.primary_key.empty()) {
    errs_.add(location_of(r, "table"), "table",
              "table has no primary key; update routes find the row by it ('" + t.path + "')");
    return false;
  }
  std::vector<std::string> inputs;
  if (r.inputs) {
    inputs = *r.inputs;
  } else {
    for (const auto& c : t.columns)
      if (!t.is_pk(c.name) && !c.is_computed() && !is_media(c.type)) inputs.push_back(c.name);
    if (inputs.empty())
      errs_.add(location_of(r, "table"), "inputs",
                "table '" + t.path +
                    "' has no column an update could set (all are primary key, computed or "
                    "media columns)");
  }
  bool ok = known_columns(r, "inputs", inputs, t, "input");
  for (const auto& i : inputs) {
    const ColumnDef* c = t.find(i);
    if (!c) continue;
    if (t.is_pk(i))
      errs_.add(
          location_of(r, "inputs"), "inputs",
          "'" + i + "' is a primary key column and cannot be used as input (the request always carries it)");
    else if (c->is_computed())
      errs_.add(location_of(r, "inputs"), "inputs",
                "'" + i + "' is a computed column and cannot be used as input");
    else if (is_media(c->type))
      errs_.add(location_of(r, "inputs"), "inputs",
                "'" + i + "' is a media column (" + std::string(type_name(c->type)) +
                    ") and cannot be updated; delete the row and insert a new one");
  }
  b.spec.inputs = inputs;
  if (ok) {
    for (const auto& pk : t.primary_key) {
      RequestField f = field_of(*t.find(pk), true);
      f.nullable = false;
      b.fields.push_back(f);
    }
    for (const auto& i : inputs) b.fields.push_back(field_of(*t.find(i), false));
  }
  bind_outputs(b, t);
  return ok;
}

bool Binder::bind_delete(BoundRoute& b, const TableDef& t) {
  const RouteSpec& r = b.spec;
  if (!r.match_columns && t.primary_key.empty()) {
    errs_.add(location_of(r, "table"), "match_columns",
              "table has no primary key; specify `match_columns` explicitly ('" + t.path + "')");
    return false;
  }
  std::vector<std::string> match = r.match_columns ? *r.match_columns : t.primary_key;
  if (!known_columns(r, "match_columns", match, t, "match")) return false;
  b.spec.match_columns = match;
  for (const auto& m : match) {
    RequestField f = field_of(*t.find(m), true);
    f.nullable = false;  // SQL equality never matches null
    b.fields.push_back(f);
  }
  b.outputs.push_back({"num_rows", ColumnType::Int, false});
  return true;
}

bool Binder::bind_query(BoundRoute& b) {
  const RouteSpec& r = b.spec;
  auto ref = parse_query_ref(r.query);
  if (!ref) return false;  // reported by check_route_static
  const ModuleDef* m = load_module(ref->module, location_of(r, "query"), "query");
  if (!m) return false;
  auto found = std::find_if(m->queries.begin(), m->queries.end(),
                            [&](const QueryDef& q) { return q.name == ref->name; });
  if (found == m->queries.end()) {
    std::vector<std::string> names;
    for (const auto& q : m->queries) names.push_back(q.name);
    errs_.add(location_of(r, "query"), "query",
              "module '" + ref->module + "' (" + m->file + ") has no query '" + ref->name + "'" +
                  did_you_mean(ref->name, names));
    return false;
  }
  QueryDef q = *found;
  if (auto rp = resolve_retrieval_params(store_, q); !rp) {
    errs_.add(location_of(r, "query"), "query", rp.error().message);
    return false;
  }
  auto cols = store_.describe_query(q);
  if (!cols) {
    errs_.add(location_of(r, "query"), "query",
              "query '" + r.query + "' does not resolve: " + cols.error().message);
    return false;
  }
  b.query = q;
  b.outputs = *cols;
  check_fileresponse(r, b.outputs);

  std::vector<std::string> param_names;
  std::vector<std::pair<std::string, std::optional<ColumnType>>> types;
  for (const auto& p : q.params) {
    param_names.push_back(p.name);
    types.emplace_back(p.name, p.type);
  }
  std::vector<std::string> inputs;
  if (r.inputs) {
    inputs = *r.inputs;
  } else {
    for (const auto& p : param_names)
      if (!contains(r.uploadfile_inputs, p)) inputs.push_back(p);
  }
  bool ok = true;
  for (const auto& key : {std::string("inputs"), std::string("uploadfile_inputs")}) {
    for (const auto& i : key == "inputs" ? inputs : r.uploadfile_inputs) {
      if (contains(param_names, i)) continue;
      errs_.add(location_of(r, key), key,
                "unknown " + std::string(key == "inputs" ? "input" : "upload") + " parameter '" + i +
                    "' of query '" + r.query + "'" + did_you_mean(i, param_names));
      ok = false;
    }
  }
  check_uploads(r, r.uploadfile_inputs, types);
  for (const auto& p : q.params)
    if (!p.default_value && !contains(inputs, p.name) && !contains(r.uploadfile_inputs, p.name))
      errs_.add(
          location_of(r, "inputs"), "inputs",
          "parameter '" + p.name + "' of query '" + r.query + "' has no default, so it must be an input");
  b.spec.inputs = inputs;
  if (!ok) return false;
  const std::vector<std::string> in_limit =
      q.kind == QueryDef::Kind::Sql ? limit_parameters(q.sql) : std::vector<std::string>{};
  for (const auto& p : q.params) {
    const auto* n = p.default_value ? std::get_if<int64_t>(&*p.default_value) : nullptr;
    if (n != nullptr && *n < 0 && contains(in_limit, p.name)) {
      errs_.add(location_of(r, "query"), "query",
                "parameter '" + p.name + "' of query '" + r.query +
                    "' is used in LIMIT or OFFSET, so its default must not be negative, got " +
                    std::to_string(*n));
      return false;
    }
  }
  auto field = [&](const std::string& name) {
    const QueryParam& p =
        *std::find_if(q.params.begin(), q.params.end(), [&](const auto& x) { return x.name == name; });
    RequestField f;
    if (p.type == ColumnType::Int && contains(in_limit, p.name)) f.minimum = 0;
    f.name = p.name;
    f.type = p.type;
    f.required = !p.default_value;
    f.nullable = p.default_value && is_null(*p.default_value);
    f.default_value = p.default_value;
    return f;
  };
  for (const auto& i : inputs) b.fields.push_back(field(i));
  for (const auto& u : r.uploadfile_inputs) b.uploads.push_back(field(u));
  return true;
}

// Every model the route's table or query calls must have a configured provider: a typo in a
// provider name is found before serving, not by the first request.
bool Binder::check_models(BoundRoute& b) {
  const RouteSpec& r = b.spec;
  std::vector<models::ModelUse> uses;
  if (r.type == RouteType::Query) {
    if (b.query.kind == QueryDef::Kind::Sql) {
      uses = models::model_uses_in(b.query.sql, "query '" + b.query.qualified_name() + "'");
      // similarity() on an indexed column embeds the parameter with the index's expression.
      std::map<std::string, TableDef> seen;
      auto lookup = [&](const std::string& path) -> const TableDef* {
        auto it = seen.find(path);
        if (it == seen.end()) {
          auto t = store_.get_table(path);
          if (!t) return nullptr;
          it = seen.emplace(path, std::move(*t)).first;
        }
        return &it->second;
      };
      if (auto plan = plan_similarity(b.query.sql, lookup)) {
        for (const auto& call : plan->calls) {
          auto more = models::model_uses_in(call.index.embedding,
                                            "index '" + call.index.name + "' of table '" + call.table + "'");
          uses.insert(uses.end(), more.begin(), more.end());
        }
      }
    }
  } else if (r.type != RouteType::Delete) {
    uses = models::model_uses(b.table);
  }
  b.model_uses = uses;
  bool ok = true;
  for (const auto& problem : models::check_model_uses(uses)) {
    const char* key = r.type == RouteType::Query ? "query" : "table";
    errs_.add(location_of(r, key), key, problem);
    ok = false;
  }
  return ok;
}

std::vector<BoundRoute> Binder::run() {
  check_service_static(s_, errs_);
  for (const auto& r : s_.routes) check_route_static(r, errs_);
  check_route_paths(s_, errs_);
  for (const auto& m : s_.modules)
    if (is_module_name(m)) load_module(m, location_of(s_, "modules"), "modules");

  std::vector<BoundRoute> out;
  for (const auto& r : s_.routes) {
    BoundRoute b;
    b.spec = r;
    b.full_path = full_path(s_, r);
    b.http_method = http_method(r);
    bool ok = false;
    if (r.type == RouteType::Query) {
      ok = bind_query(b);
    } else if (!r.table.empty()) {
      if (const TableDef* t = table(r)) {
        b.table = *t;
        switch (r.type) {
          case RouteType::Insert:
          case RouteType::Compute:
            ok = bind_insert(b, *t);
            break;
          case RouteType::Update:
            ok = bind_update(b, *t);
            break;
          default:
            ok = bind_delete(b, *t);
            break;
        }
      }
    }
    if (ok && r.export_sql) ok = bind_export_sql(b, errs_);
    if (ok) ok = check_models(b);
    refuse_unsupported(r, errs_);
    if (ok) out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

Result<std::vector<BoundRoute>> bind_routes(Store& store, const ServiceSpec& service) {
  Binder binder(store, service);
  auto routes = binder.run();
  if (!binder.errors().empty()) {
    binder.errors().sort_by_location();
    return binder.errors().to_error();
  }
  return routes;
}

}  // namespace pxt
