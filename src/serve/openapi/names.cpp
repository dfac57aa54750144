#include "serve/openapi/names.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "util/strings.hpp"

namespace pxt::openapi {

namespace {

bool component_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "get" -> "Get"
std::string capitalized(std::string_view word) {
  std::string out(word);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string output_names(const BoundRoute& r) {
  std::vector<std::string> names;
  for (const auto& c : r.outputs) names.push_back(c.name);
  return join(names);
}

std::string field_names(const std::vector<RequestField>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  return join(names);
}

std::string file_output(const BoundRoute& r) {
  for (const auto& c : r.outputs)
    if (c.type && is_media(*c.type)) return c.name;
  return r.outputs.empty() ? std::string() : r.outputs.front().name;
}

std::string base_summary(const BoundRoute& r) {
  std::string s;
  switch (r.spec.type) {
    case RouteType::Insert:
      s = "Insert a row into " + r.table.path;
      break;
    case RouteType::Update:
      s = "Update a row of " + r.table.path;
      break;
    case RouteType::Delete:
      s = "Delete rows from " + r.table.path;
      break;
    case RouteType::Compute:
      s = "Compute a row of " + r.table.path + " without storing it";
      break;
    case RouteType::Query:
      s = (r.spec.one_row || r.spec.return_fileresponse ? "Look up one row with " : "Run query ") +
          r.query.qualified_name();
      break;
  }
  if (r.spec.return_fileresponse) s += ", answering the file of " + file_output(r);
  if (r.spec.background) s += ", as a background job";
  return s;
}

std::string what_it_does(const BoundRoute& r) {
  std::string fields = field_names(r.fields), uploads = field_names(r.uploads);
  std::string from = uploads.empty()
                         ? (r.http_method == "GET" ? "the query parameters" : "the JSON body's fields")
                         : "a multipart form (files: " + uploads + ")";
  switch (r.spec.type) {
    case RouteType::Insert:
      return "Inserts one row into `" + r.table.path + "` built from " + from +
             "; its computed columns are computed before the answer.";
    case RouteType::Update:
      return "Updates the row of `" + r.table.path + "` whose primary key (" + join(r.table.primary_key) +
             ") the body gives; an input left out keeps its value. Answers 404 when no row has that key.";
    case RouteType::Delete:
      return "Deletes every row of `" + r.table.path + "` whose " + fields +
             " equal the values given, and answers how many rows it deleted (0 included).";
    case RouteType::Compute:
      return "Computes `" + r.table.path + "`'s computed columns from " + from +
             " without storing a row; media results are kept under media/transient/ and expire.";
    case RouteType::Query:
      return "Runs the named query `" + r.query.qualified_name() + "` with " + from + ".";
  }
  return "";
}

std::string what_it_answers(const BoundRoute& r, std::string_view prefix, const std::string& stem) {
  std::string answer;
  if (r.spec.return_fileresponse) {
    answer = "Answers the file of column `" + file_output(r) +
             "` itself (its content type is the file's), not JSON.";
  } else if (r.spec.type == RouteType::Delete) {
    answer = "Answers {\"num_rows\": n}.";
  } else if (r.spec.type == RouteType::Query && !r.spec.one_row) {
    answer = "Answers {\"rows\": [...]} with the columns " + output_names(r) +
             " (an empty list when nothing matches).";
  } else {
    answer = "Answers the columns " + output_names(r) + ".";
  }
  if (r.spec.type == RouteType::Query && (r.spec.one_row || r.spec.return_fileresponse))
    answer += " 404 when the query returns no row, 409 when it returns several.";
  if (!r.spec.background) return answer;
  std::string result = r.spec.type == RouteType::Delete ? "DeleteResponse" : stem + "Response";
  return "Runs as a background job: answers {\"id\", \"job_url\"} at once; poll GET " + std::string(prefix) +
         "/jobs/{job_id} until its status is done (result: the " + result +
         " this route would answer) or error. " + "The job's status is " + stem + "JobStatus. " + answer;
}

}  // namespace

std::string path_stem(std::string_view path) {
  std::string out;
  bool start = true;
  for (char c : path) {
    if (c == '/') {
      start = true;
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    char k = start ? static_cast<char>(std::toupper(u)) : static_cast<char>(std::tolower(u));
    out.push_back(component_char(k) ? k : '_');
    start = false;
  }
  return out;
}

std::string operation_id(const BoundRoute& route) {
  std::string_view path = route.spec.path;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string id(route_type_name(route.spec.type));
  id.push_back('_');
  if (path.empty()) return id + "root";
  for (char c : path) id.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  return id;
}

std::vector<OperationNames> name_operations(const std::vector<BoundRoute>& routes, std::string_view prefix,
                                            const std::vector<std::string>& reserved) {
  std::vector<OperationNames> out(routes.size());
  std::map<std::string, int> id_count, stem_count, kind_stem_count, summary_count;
  auto kind_stem = [](const BoundRoute& r) {
    return path_stem(r.spec.path) + capitalized(route_type_name(r.spec.type));
  };
  for (const auto& r : routes) {
    ++id_count[operation_id(r)];
    ++stem_count[path_stem(r.spec.path)];
    ++kind_stem_count[kind_stem(r)];
    ++summary_count[base_summary(r)];
  }
  std::set<std::string> ids, stems;
  std::set<std::string> taken(reserved.begin(), reserved.end());
  auto stem_clashes = [&](const std::string& s) {
    return stems.count(s) != 0 || taken.count(s + "Response") != 0 || taken.count(s + "RowResponse") != 0 ||
           taken.count(s + "JobStatus") != 0;
  };
  for (size_t i = 0; i < routes.size(); ++i) {
    const BoundRoute& r = routes[i];
    std::string method = to_lower(r.http_method);
    // Only two query routes on one path (GET and POST) share a kind and a path.
    std::string id = operation_id(r);
    if (id_count[id] > 1) id += "_" + method;
    std::string unique = id;
    for (int n = 2; ids.count(unique) != 0; ++n) unique = id + "_" + std::to_string(n);
    ids.insert(unique);
    out[i].operation_id = unique;

    // Two routes on one path: the kind tells them apart, else (GET and POST queries) the method.
    std::string stem = path_stem(r.spec.path);
    if (stem.empty()) stem = "Root";
    const int same_path = stem_count[path_stem(r.spec.path)], same_kind = kind_stem_count[kind_stem(r)];
    if (same_path > 1 && same_kind < same_path) stem += capitalized(route_type_name(r.spec.type));
    if (same_kind > 1) stem += capitalized(method);
    std::string s = stem;
    for (int n = 2; stem_clashes(s); ++n) s = stem + std::to_string(n);
    stems.insert(s);
    out[i].stem = s;

    std::string summary = base_summary(r);
    if (summary_count[summary] > 1) summary += " (" + r.http_method + " " + r.full_path + ")";
    out[i].summary = summary;
    out[i].description = what_it_does(r) + " " + what_it_answers(r, prefix, s);
  }
  return out;
}

}  // namespace pxt::openapi
