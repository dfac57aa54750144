// document_text(doc): text of txt, md, html and pdf documents, in computed columns.
#include <doctest/doctest.h>

#include <cstdio>

#include "image_test_support.hpp"
#include "store/functions/builtins.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

// A minimal one-page-per-string PDF with Helvetica text, xref offsets computed.
std::string tiny_pdf(const std::vector<std::string>& pages) {
  std::vector<std::string> objs;
  std::string kids;
  size_t n = pages.size();
  for (size_t i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objs.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (size_t i = 0; i < n; ++i) {
    std::string content = "BT /F1 18 Tf 72 720 Td (" + pages[i] + ") Tj ET";
    objs.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents " +
        std::to_string(5 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                   "\nendstream");
  }
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace

TEST_CASE("html_to_text keeps visible text only") {
  std::string html =
      "<!DOCTYPE html><html><head><title>T</title><style>p { color: red; }</style>"
      "<script>var x = '<p>no</p>';</script></head><body><!-- hidden -->"
      "<h1>Fish &amp; Chips</h1><p>Caf&eacute; &lt;open&gt; &#8364;5 &#x263A;</p>"
      "<p>two\n   spaces</p><ul><li>a</li><li>b</li></ul><SCRIPT type=x>alert(1)</SCRIPT>end</body></html>";
  CHECK(html_to_text(html) == "T\nFish & Chips\nCafé <open> €5 ☺\ntwo\nspaces\na\nb\nend");
  CHECK(html_to_text("a &bogus; b & c") == "a &bogus; b & c");
}

TEST_CASE_FIXTURE(StoreFixture, "document_text reads txt, md, html and pdf documents") {
  std::filesystem::path media = s().media_dir();
  write_file(media, "d/a.txt", "plain text\nline two");
  write_file(media, "d/b.md", "# Title\n\n*emphasis*");
  write_file(media, "d/c.html", "<p>Hello <b>world</b></p>");
  write_file(media, "d/noext", "<html><body>sniffed &amp; decoded</body></html>");
  write_file(media, "d/e.pdf", tiny_pdf({"Hello PDF", "Second page"}));
  write_file(media, "d/bin.txt", std::string("\x89PNG\r\n\x1a\n\xff\xfe", 10));
  write_file(media, "d/broken.pdf", "%PDF-1.4\ngarbage");
  TableDef t = make("docs", {col("id", ColumnType::Int, true), col("doc", ColumnType::Document),
                             computed("text", "document_text(doc)")});
  CHECK(t.find("text")->type == ColumnType::String);
  auto text_of = [&](int64_t id, const std::string& rel) -> std::string {
    auto r = s().insert(t, {"id", "doc"}, {{id, rel}});
    if (!r.ok()) return "error: " + r.error().message;
    return str(r->at(0)[2]);
  };
  CHECK(text_of(1, "d/a.txt") == "plain text\nline two");
  CHECK(text_of(2, "d/b.md") == "# Title\n\n*emphasis*");
  CHECK(text_of(3, "d/c.html") == "Hello world");
  CHECK(text_of(4, "d/noext") == "sniffed & decoded");
  std::string pdf = text_of(5, "d/e.pdf");
  CHECK(pdf.find("Hello PDF") != std::string::npos);
  CHECK(pdf.find("Second page") != std::string::npos);
  CHECK(pdf.find('\f') != std::string::npos);
  CHECK(
      text_of(6, "d/bin.txt") ==
      "error: computed column 'text' failed: document_text(): argument 'doc' ('d/bin.txt'): the document is "
      "not PDF, HTML, Markdown or UTF-8 text (found binary content)");
  CHECK(text_of(7, "d/broken.pdf")
            .find("document_text(): argument 'doc' ('d/broken.pdf'): the PDF cannot be read") !=
        std::string::npos);
  CHECK(text_of(8, "d/none.txt") ==
        "error: computed column 'text' failed: document_text(): argument 'doc' must name an existing media "
        "file, "
        "got 'd/none.txt'");
  auto null_doc = s().insert(t, {"id"}, {{int64_t(9)}});
  REQUIRE(null_doc.ok());
  CHECK(is_null(null_doc->at(0)[2]));
}
