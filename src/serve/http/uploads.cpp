#include "serve/http/uploads.hpp"

#include <system_error>

#include "serve/http/request.hpp"
#include "serve/http/response.hpp"
#include "store/media/media.hpp"
#include "store/model/values.hpp"

namespace pxt {

namespace {

ValidationIssue missing(const std::string& field) { return {"missing", "Field required", field}; }

ValidationIssue bad_text(std::string type, std::string msg, const std::string& field, std::string input) {
  return {std::move(type), std::move(msg), field, nullptr, std::move(input), true};
}

// The last text part named `name`, or nullptr.
const httplib::MultipartFormData* text_part(const httplib::Request& req, const std::string& name) {
  auto range = req.files.equal_range(name);
  if (range.first == range.second) return nullptr;
  return &std::prev(range.second)->second;
}

// A media failure as a 422 on the field; io and internal errors stay 500s.
void reply_media_error(httplib::Response& res, const std::string& field, const Error& e, std::string input) {
  if (e.code != Errc::invalid_argument) return reply_error(res, e);
  reply_validation(res, "body",
                   {bad_text("value_error", "Value error, " + e.message, field, std::move(input))});
}

}  // namespace

Uploads::~Uploads() {
  for (const auto& p : parts) {
    std::error_code ec;
    std::filesystem::remove(p.tmp, ec);
  }
}

const UploadPart* Uploads::find(std::string_view field) const {
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    if (it->field == field) return &*it;
  return nullptr;
}

AdoptedMedia::~AdoptedMedia() {
  for (const auto& n : names_) media::remove(dir_, n);
}

bool decode_form(const std::vector<RequestField>& fields, const std::vector<RequestField>& uploads,
                 const httplib::Request& req, const Uploads& parts, DecodedFields& out,
                 std::vector<const UploadPart*>& files, httplib::Response& res) {
  out.values.assign(fields.size(), Value());
  out.present.assign(fields.size(), 0);
  files.assign(uploads.size(), nullptr);
  std::vector<ValidationIssue> issues;
  for (size_t j = 0; j < fields.size(); ++j) {
    const RequestField& f = fields[j];
    const auto* part = text_part(req, f.name);
    if (part == nullptr) {
      if (f.required)
        issues.push_back(missing(f.name));
      else if (f.default_value)
        out.values[j] = *f.default_value;
      continue;
    }
    out.present[j] = 1;
    Converted c = value_from_text(part->content, f.type);
    if (auto* err = std::get_if<ValueError>(&c)) {
      issues.push_back(bad_text(err->type, err->msg, f.name, part->content));
      continue;
    }
    if (ValidationIssue low; below_minimum(f, std::get<Value>(c), low)) {
      low.text_input = part->content;
      low.has_text = true;
      issues.push_back(std::move(low));
      continue;
    }
    out.values[j] = std::move(std::get<Value>(c));
  }
  for (size_t j = 0; j < uploads.size(); ++j) {
    const RequestField& f = uploads[j];
    files[j] = parts.find(f.name);
    if (files[j] != nullptr) continue;
    const auto* text = text_part(req, f.name);
    if (text != nullptr && !text->content.empty()) {
      issues.push_back(bad_text("value_error", "Value error, Expected UploadFile, received: <class 'str'>",
                                f.name, text->content));
    } else if (f.required) {
      issues.push_back(missing(f.name));
    }
  }
  if (!issues.empty()) {
    reply_validation(res, "body", issues);
    return false;
  }
  return true;
}

bool adopt_uploads(const std::string& media_dir, const std::vector<RequestField>& uploads,
                   const std::vector<const UploadPart*>& files, const std::vector<size_t>& value_index,
                   std::vector<Value>& values, AdoptedMedia& adopted, httplib::Response& res) {
  // Every file is checked before any is adopted: a request with one bad file stores nothing.
  for (size_t j = 0; j < uploads.size(); ++j) {
    if (files[j] == nullptr) continue;
    auto ok = media::validate(uploads[j].type, files[j]->tmp);
    if (!ok) {
      reply_media_error(res, uploads[j].name, ok.error(), files[j]->filename);
      return false;
    }
  }
  for (size_t j = 0; j < uploads.size(); ++j) {
    if (files[j] == nullptr) continue;
    auto rel = media::adopt(media_dir, files[j]->tmp);
    if (!rel) {
      reply_error(res, rel.error());
      return false;
    }
    adopted.add(*rel);
    values[value_index[j]] = std::move(*rel);
  }
  return true;
}

bool adopt_data_uris(const std::string& media_dir, const std::vector<RequestField>& fields, DecodedFields& d,
                     AdoptedMedia& adopted, httplib::Response& res) {
  for (size_t j = 0; j < fields.size(); ++j) {
    if (!is_media(fields[j].type)) continue;
    auto* s = std::get_if<std::string>(&d.values[j]);
    if (s == nullptr) continue;
    auto rel = media::adopt_data_uri(media_dir, fields[j].type, *s);
    if (!rel) {
      std::string shown = s->size() > 64 ? s->substr(0, 64) + "..." : *s;
      reply_media_error(res, fields[j].name, rel.error(), shown);
      return false;
    }
    adopted.add(*rel);
    *s = std::move(*rel);
  }
  return true;
}

}  // namespace pxt
