#include "cli/output.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/model/values.hpp"
#include "util/strings.hpp"

namespace pxt {

void Out::flush() {
  if (buf_.GetSize() == 0) return;
  std::fwrite(buf_.GetString(), 1, buf_.GetSize(), f_);
  buf_.Clear();
  std::fflush(f_);
}

Result<RowFormat> parse_row_format(std::string_view name) {
  static const std::vector<std::string> names = {"table", "json", "jsonl", "csv"};
  if (name == "table") return RowFormat::Table;
  if (name == "json") return RowFormat::Json;
  if (name == "jsonl") return RowFormat::Jsonl;
  if (name == "csv") return RowFormat::Csv;
  return make_error(Errc::invalid_argument,
                    fmt::format("unknown format '{}' (expected table, json, jsonl or csv){}", name,
                                did_you_mean(name, names)));
}

std::vector<OutColumn> out_columns(const TableDef& t, const std::vector<std::string>& names) {
  std::vector<OutColumn> out;
  if (names.empty()) {
    for (const auto& c : t.columns) out.push_back({c.name, c.type});
    return out;
  }
  for (const auto& n : names) {
    const ColumnDef* c = t.find(n);
    out.push_back({n, c ? std::optional<ColumnType>(c->type) : std::nullopt});
  }
  return out;
}

RowPrinter::RowPrinter(Out& out, RowFormat format, std::vector<OutColumn> columns, std::string media_prefix)
    : out_(out), format_(format), cols_(std::move(columns)), media_prefix_(std::move(media_prefix)) {
  if (format_ == RowFormat::Json) out_.put('[');
  if (format_ == RowFormat::Csv) {
    std::string line;
    for (size_t i = 0; i < cols_.size(); ++i) {
      if (i) line += ',';
      append_csv_field(line, cols_[i].name);
    }
    line += '\n';
    out_.write(line);
  }
}

void RowPrinter::json_row(const Row& r) {
  JsonWriter& w = out_.json();
  w.StartObject();
  for (size_t i = 0; i < cols_.size() && i < r.size(); ++i) {
    write_key(w, cols_[i].name);
    write_value_json(w, r[i], cols_[i].type, media_prefix_);
  }
  w.EndObject();
  out_.done_json();
}

void RowPrinter::row(const Row& r) {
  switch (format_) {
    case RowFormat::Jsonl:
      json_row(r);
      out_.put('\n');
      break;
    case RowFormat::Json:
      if (count_) out_.write(",\n");
      json_row(r);
      break;
    case RowFormat::Csv: {
      std::string& line = line_;  // reused: allocates only when a row outgrows it
      line.clear();
      for (size_t i = 0; i < cols_.size() && i < r.size(); ++i) {
        if (i) line += ',';
        std::string text = value_to_text(r[i], cols_[i].type);
        if (cols_[i].type && is_media(*cols_[i].type) && !is_null(r[i])) text = media_prefix_ + text;
        append_csv_field(line, text);
      }
      line += '\n';
      out_.write(line);
      break;
    }
    case RowFormat::Table: {
      std::vector<std::string> cells;
      for (size_t i = 0; i < cols_.size() && i < r.size(); ++i) {
        std::string text = value_to_text(r[i], cols_[i].type);
        if (cols_[i].type && is_media(*cols_[i].type) && !is_null(r[i])) text = media_prefix_ + text;
        cells.push_back(std::move(text));
      }
      cells_.push_back(std::move(cells));
      break;
    }
  }
  ++count_;
}

int64_t RowPrinter::finish() {
  if (format_ == RowFormat::Json) out_.write("]\n");
  if (format_ == RowFormat::Table) {
    std::vector<std::string> header;
    for (const auto& c : cols_) header.push_back(c.name);
    out_.write(render_table(header, cells_));
    cells_.clear();
  }
  out_.flush();
  return count_;
}

namespace {
// Display width in terminal columns: UTF-8 continuation bytes take no column.
size_t display_width(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string cell_text(std::string_view s, size_t max_cell) {
  bool cut = display_width(s) > max_cell;
  size_t keep = cut ? max_cell - 3 : s.size();
  std::string out;
  size_t width = 0;
  for (char c : s) {
    bool lead = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (lead && ++width > keep) break;
    out += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
  }
  if (cut) out += "...";
  return out;
}
}  // namespace

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, size_t max_cell) {
  std::vector<std::vector<std::string>> all;
  all.reserve(rows.size() + 1);
  all.push_back(header);
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& c : r) cells.push_back(cell_text(c, max_cell));
    all.push_back(std::move(cells));
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& r : all) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], display_width(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string_view cell = i < r.size() ? std::string_view(r[i]) : std::string_view();
      l += cell;
      if (i + 1 < width.size()) l.append(width[i] - display_width(cell) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  line(all[0]);
  std::vector<std::string> rule;
  for (size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (size_t i = 1; i < all.size(); ++i) line(all[i]);
  return out;
}

void append_csv_field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace pxt
