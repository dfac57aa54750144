#include "cli/json_rows.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>

#include <cerrno>
#include <cstring>

#include "cli/specs.hpp"
#include "store/model/values.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {
constexpr size_t kReadChunk = 4 << 20;
constexpr size_t kParseMem = 64 << 10;
}  // namespace

std::string json_excerpt(const rapidjson::Value& v) {
  JsonBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  std::string s(buf.GetString(), buf.GetSize());
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

JsonRowConverter::JsonRowConverter(const TableDef& t) : table_(t) {
  for (const auto& c : t.columns) {
    if (c.is_computed()) continue;
    inputs_.push_back(&c);
    names_.push_back(c.name);
  }
}

int JsonRowConverter::find_input(std::string_view key, size_t hint) const {
  // Rows usually list their keys in the same order as the table: try the expected slot first.
  if (hint < names_.size() && names_[hint] == key) return static_cast<int>(hint);
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == key) return static_cast<int>(i);
  }
  return -1;
}

Result<void> JsonRowConverter::convert(const rapidjson::Value& obj, Row& row) {
  if (!obj.IsObject()) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("expected a JSON object with one key per column, got {}", json_excerpt(obj)));
  }
  row.resize(names_.size());
  for (auto& v : row) v = std::monostate{};
  size_t hint = 0;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it, ++hint) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    int idx = find_input(key, hint);
    if (idx < 0) {
      if (const ColumnDef* c = table_.find(key); c && c->is_computed()) {
        return make_error(Errc::invalid_argument,
                          fmt::format("'{}' is a computed column and cannot be inserted", key));
      }
      return make_error(Errc::not_found, fmt::format("unknown column '{}' in table '{}'{}", key, table_.path,
                                                     did_you_mean(key, names_)));
    }
    hint = static_cast<size_t>(idx);
    const ColumnDef& c = *inputs_[hint];
    const rapidjson::Value& v = it->value;
    Value& out = row[hint];
    if (v.IsNull()) continue;
    // Fast paths for the commonest cells, reusing the row's string storage.
    if (c.type == ColumnType::String && v.IsString()) {
      if (auto* s = std::get_if<std::string>(&out)) {
        s->assign(v.GetString(), v.GetStringLength());
      } else {
        out = std::string(v.GetString(), v.GetStringLength());
      }
      continue;
    }
    if (c.type == ColumnType::Int && v.IsInt64()) {
      out = v.GetInt64();
      continue;
    }
    // A media value is a data: URI or, from the command line, a local file's path ("@photo.jpg"
    // or "photo.jpg"): kept as text here, made into a file under media/ by `pxt insert`.
    if (is_media(c.type) && v.IsString()) {
      out = std::string(v.GetString(), v.GetStringLength());
      continue;
    }
    Converted conv = value_from_json(v, c.type);
    if (auto* err = std::get_if<ValueError>(&conv)) {
      return make_error(Errc::invalid_argument, value_error_message(c, err->msg, json_excerpt(v)));
    }
    out = std::get<Value>(std::move(conv));
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i]->required && is_null(row[i])) {
      return make_error(Errc::invalid_argument, fmt::format("column '{}' is required (a non-null {})",
                                                            inputs_[i]->name, type_name(inputs_[i]->type)));
    }
  }
  return {};
}

JsonlReader::JsonlReader(std::FILE* in, std::string display_name, JsonRowConverter& conv)
    : in_(in),
      name_(std::move(display_name)),
      conv_(conv),
      buf_(kReadChunk + 1),
      value_mem_(kParseMem),
      stack_mem_(kParseMem),
      value_alloc_(value_mem_.data(), value_mem_.size()),
      stack_alloc_(stack_mem_.data(), stack_mem_.size()) {}

char* JsonlReader::next_line(size_t& len) {
  while (true) {
    if (pos_ < end_) {
      char* start = buf_.data() + pos_;
      auto* nl = static_cast<char*>(std::memchr(start, '\n', end_ - pos_));
      if (nl || eof_) {
        char* stop = nl ? nl : buf_.data() + end_;
        len = static_cast<size_t>(stop - start);
        *stop = '\0';  // buf_ keeps one spare byte past end_ for a final line without '\n'
        pos_ = static_cast<size_t>(stop - buf_.data()) + 1;
        if (!nl) pos_ = end_;
        ++line_;
        return start;
      }
    } else if (eof_) {
      return nullptr;
    }
    // Keep the partial line, then read more; grow when one line outgrows the buffer.
    size_t keep = end_ - pos_;
    std::memmove(buf_.data(), buf_.data() + pos_, keep);
    pos_ = 0;
    end_ = keep;
    if (buf_.size() - 1 - end_ < kReadChunk / 2) buf_.resize(buf_.size() * 2);
    size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - 1 - end_, in_);
    end_ += n;
    if (n == 0) {
      if (std::ferror(in_)) io_error_ = true;
      eof_ = true;
    }
  }
}

Result<bool> JsonlReader::next(Row& row) {
  while (true) {
    size_t len = 0;
    char* line = next_line(len);
    if (io_error_) {
      return make_error(Errc::io, fmt::format("{}: read error: {}", name_, std::strerror(errno)));
    }
    if (!line) return false;
    if (len && line[len - 1] == '\r') line[--len] = '\0';
    // RapidJSON would stop at a NUL as at the end of the line and drop the rest of it unread.
    if (const void* nul = std::memchr(line, '\0', len)) {
      return make_error(Errc::invalid_argument,
                        fmt::format("{}:{}: invalid JSON: a NUL byte (at column {})", name_, line_,
                                    static_cast<const char*>(nul) - line + 1));
    }
    if (trim(std::string_view(line, len)).empty()) continue;
    value_alloc_.Clear();
    stack_alloc_.Clear();
    using PoolDocument = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                                    rapidjson::MemoryPoolAllocator<>>;
    PoolDocument doc(&value_alloc_, 1024, &stack_alloc_);
    doc.ParseInsitu(line);
    if (doc.HasParseError()) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("{}:{}: invalid JSON: {} (at column {})", name_, line_,
                      rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset() + 1));
    }
    auto r = conv_.convert(doc, row);
    if (!r) return make_error(r.error().code, fmt::format("{}:{}: {}", name_, line_, r.error().message));
    return true;
  }
}

}  // namespace pxt
