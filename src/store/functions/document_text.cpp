// document_text(doc): the text of a Document (txt, md, html, pdf) for computed columns. PDF goes
// through poppler-glib (loaded on first use: store/media/libs.hpp); HTML through a small tag stripper
// (visible text only).
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "store/functions/builtins.hpp"
#include "store/media/libs.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxTextFile = 64u << 20;  // a text/HTML document is read whole

void append_utf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the entity starting at html[i] ('&') into out; returns the index after it, or i + 1
// (with a literal '&') when it is not an entity.
size_t decode_entity(std::string_view html, size_t i, std::string& out) {
  size_t semi = html.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > 12) {
    out += '&';
    return i + 1;
  }
  std::string_view name = html.substr(i + 1, semi - i - 1);
  if (name.size() > 1 && name[0] == '#') {
    bool hex = name[1] == 'x' || name[1] == 'X';
    std::string digits(name.substr(hex ? 2 : 1));
    char* end = nullptr;
    unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
    if (!digits.empty() && end && *end == '\0') {
      append_utf8(out, static_cast<uint32_t>(std::min(cp, 0x110000UL)));
      return semi + 1;
    }
  }
  static const std::array<std::pair<const char*, uint32_t>, 18> kNamed = {{{"amp", '&'},
                                                                           {"lt", '<'},
                                                                           {"gt", '>'},
                                                                           {"quot", '"'},
                                                                           {"apos", '\''},
                                                                           {"nbsp", ' '},
                                                                           {"copy", 0xA9},
                                                                           {"reg", 0xAE},
                                                                           {"trade", 0x2122},
                                                                           {"hellip", 0x2026},
                                                                           {"mdash", 0x2014},
                                                                           {"ndash", 0x2013},
                                                                           {"lsquo", 0x2018},
                                                                           {"rsquo", 0x2019},
                                                                           {"ldquo", 0x201C},
                                                                           {"rdquo", 0x201D},
                                                                           {"euro", 0x20AC},
                                                                           {"eacute", 0xE9}}};
  for (const auto& [n, cp] : kNamed) {
    if (name == n) {
      append_utf8(out, cp);
      return semi + 1;
    }
  }
  out += '&';
  return i + 1;
}

// The lower-case tag name of the tag starting at html[i] ('<'), without a leading '/'.
std::string tag_name(std::string_view html, size_t i) {
  size_t j = i + 1;
  if (j < html.size() && html[j] == '/') ++j;
  size_t k = j;
  while (k < html.size() && std::isalnum(static_cast<unsigned char>(html[k]))) ++k;
  return to_lower(html.substr(j, k - j));
}

bool breaks_line(const std::string& tag) {
  static const char* kBlock[] = {"p",  "br", "div", "li", "tr",    "h1",      "h2",      "h3",         "h4",
                                 "h5", "h6", "ul",  "ol", "table", "section", "article", "blockquote", "pre"};
  for (const char* b : kBlock) {
    if (tag == b) return true;
  }
  return false;
}

// Collapses runs of spaces, trims lines and drops empty ones (block tags open and close lines).
std::string tidy(const std::string& raw) {
  std::string out;
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line)) {
    std::string collapsed;
    for (char c : line) {
      bool space = c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
      if (space) {
        if (!collapsed.empty() && collapsed.back() != ' ') collapsed += ' ';
      } else {
        collapsed += c;
      }
    }
    if (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
    if (collapsed.empty()) continue;
    if (!out.empty()) out += '\n';
    out += collapsed;
  }
  return out;
}

Result<std::string> read_all(const fs::path& file) {
  std::error_code ec;
  uintmax_t size = fs::file_size(file, ec);
  if (ec) return make_error(Errc::invalid_argument, "cannot read the document: " + ec.message());
  if (size > kMaxTextFile) {
    return make_error(Errc::invalid_argument,
                      "the document is larger than " + std::to_string(kMaxTextFile >> 20) + " MB of text");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::invalid_argument, "cannot read the document");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<std::string> pdf_text(const fs::path& file) {
  PXT_TRY(const medialib::Poppler* p, medialib::poppler());
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  char* uri = ec ? nullptr : p->g_filename_to_uri(abs.c_str(), nullptr, nullptr);
  if (uri == nullptr) return make_error(Errc::invalid_argument, "cannot read the document");
  std::lock_guard lock(medialib::poppler_mutex());
  GError* err = nullptr;
  PopplerDocument* doc = p->poppler_document_new_from_file(uri, nullptr, &err);
  p->g_free(uri);
  bool locked = err != nullptr && p->g_error_matches(err, p->poppler_error_quark(), POPPLER_ERROR_ENCRYPTED);
  if (err != nullptr) p->g_error_free(err);
  if (locked) return make_error(Errc::invalid_argument, "the PDF is encrypted");
  if (doc == nullptr)
    return make_error(Errc::invalid_argument, "the PDF cannot be read (damaged or not a PDF)");
  std::string out;
  int pages = p->poppler_document_get_n_pages(doc);
  for (int i = 0; i < pages; ++i) {
    if (i > 0) out += '\f';
    PopplerPage* page = p->poppler_document_get_page(doc, i);
    if (page == nullptr) continue;
    char* text = p->poppler_page_get_text(page);
    if (text != nullptr) out += text;
    p->g_free(text);
    p->g_object_unref(page);
  }
  p->g_object_unref(doc);
  return out;
}

bool looks_like_html(const fs::path& file, std::string_view head) {
  std::string ext = to_lower(file.extension().string());
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return true;
  size_t i = 0;
  if (head.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
  while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
  std::string start = to_lower(head.substr(i, 14));
  return start.rfind("<!doctype html", 0) == 0 || start.rfind("<html", 0) == 0;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string raw;
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '&') {
      i = decode_entity(html, i, raw);
      continue;
    }
    if (c != '<') {
      raw += c;
      ++i;
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    std::string tag = tag_name(html, i);
    size_t close = html.find('>', i);
    if (close == std::string_view::npos) break;
    bool closing = html[i + 1] == '/';
    if (!closing && (tag == "script" || tag == "style" || tag == "noscript" || tag == "template")) {
      // Skip to the matching end tag: its content is code, not text.
      std::string lower = to_lower(html.substr(close));
      size_t end = lower.find("</" + tag);
      if (end == std::string::npos) break;
      size_t end_close = html.find('>', close + end);
      i = end_close == std::string_view::npos ? html.size() : end_close + 1;
      continue;
    }
    if (breaks_line(tag))
      raw += '\n';
    else if (!tag.empty())
      raw += ' ';  // inline tags still separate words like "a<br>b" -> "a b"
    i = close + 1;
  }
  return tidy(raw);
}

Result<std::string> extract_document_text(const fs::path& file) {
  char head_buf[512] = {};
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::invalid_argument, "cannot read the document");
  in.read(head_buf, sizeof head_buf);
  std::string_view head(head_buf, static_cast<size_t>(in.gcount()));
  if (head.substr(0, 5) == "%PDF-") return pdf_text(file);
  PXT_TRY(std::string text, read_all(file));
  if (looks_like_html(file, head)) return html_to_text(text);
  if (!valid_utf8(text)) {
    return make_error(Errc::invalid_argument,
                      "the document is not PDF, HTML, Markdown or UTF-8 text (found binary content)");
  }
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

std::vector<SqlFunction> document_functions() {
  SqlFunction f;
  f.name = "document_text";
  f.arity = 1;
  f.result_type = ColumnType::String;
  // Extracting a big PDF takes seconds: writes do it before taking the store's writer lock.
  f.compute_ahead = true;
  f.with_context = [](const FunctionContext& ctx, const std::vector<Value>& args) -> Result<Value> {
    if (is_null(args[0])) return Value();
    const auto* rel = std::get_if<std::string>(&args[0]);
    if (!rel)
      return make_error(Errc::invalid_argument, "argument 'doc' must be a document (a media file name)");
    auto full = media::resolve(ctx.media_dir, *rel, true);
    if (!full)
      return make_error(Errc::invalid_argument,
                        "argument 'doc' must name an existing media file, got '" + *rel + "'");
    auto text = extract_document_text(*full);
    if (!text)
      return make_error(text.error().code, "argument 'doc' ('" + *rel + "'): " + text.error().message);
    return Value(std::move(*text));
  };
  return {std::move(f)};
}

}  // namespace pxt
