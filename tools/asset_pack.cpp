// Build-time tool (cmake/assets.cmake): prepares one web asset for embedding in pxt.
//
//   pxt_asset_pack IN OUT [FROM TO]...
//
// Reads IN, replaces each FROM with TO (each FROM must occur exactly once: a pinned bundle that
// changed under a patch fails the build instead of silently shipping the unpatched text), and
// writes OUT (the bytes served to clients without compression), OUT.gz (gzip, level 9) and
// OUT.br (brotli). Compressing here once, not per request, is what lets /docs send the 1.7 MB
// Swagger UI bundle compressed without spending CPU on it.
// Exits 0 on success, 1 with a message on stderr otherwise.
#include <brotli/encode.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

bool read_file(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return !out.fail();
}

// A gzip member with no file name and mtime 0, so the output depends on the input only.
bool gzip(const std::string& in, std::string& out) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&z, in.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

// Quality 9 with a 16 MB window: on the Swagger UI bundle 392 KB (quality 11: 359 KB, gzip -9:
// 458 KB) in ~4 s of build time instead of ~45 s on this 2-core machine.
constexpr int kBrotliQuality = 9;
constexpr int kBrotliWindow = 24;

bool brotli(const std::string& in, std::string& out) {
  size_t size = BrotliEncoderMaxCompressedSize(in.size());
  if (size == 0) return false;
  out.resize(size);
  int ok = BrotliEncoderCompress(kBrotliQuality, kBrotliWindow, BROTLI_MODE_TEXT, in.size(),
                                 reinterpret_cast<const uint8_t*>(in.data()), &size,
                                 reinterpret_cast<uint8_t*>(out.data()));
  out.resize(size);
  return ok == BROTLI_TRUE;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "pxt_asset_pack: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (argc - 3) % 2 != 0) return fail("usage: pxt_asset_pack IN OUT [FROM TO]...");
  const std::string in_path = argv[1], out_path = argv[2];
  std::string bytes;
  if (!read_file(in_path.c_str(), bytes)) return fail("cannot read " + in_path);
  for (int i = 3; i < argc; i += 2) {
    const std::string from = argv[i], to = argv[i + 1];
    size_t at = bytes.find(from);
    if (from.empty() || at == std::string::npos || bytes.find(from, at + 1) != std::string::npos) {
      return fail(in_path + ": the text to replace does not occur exactly once (was the package upgraded? " +
                  "update the patch in cmake/assets.cmake): " + from);
    }
    bytes.replace(at, from.size(), to);
  }
  std::string gz, br;
  if (!gzip(bytes, gz)) return fail("gzip failed for " + in_path);
  if (!brotli(bytes, br)) return fail("brotli failed for " + in_path);
  if (!write_file(out_path, bytes) || !write_file(out_path + ".gz", gz) || !write_file(out_path + ".br", br))
    return fail("cannot write " + out_path + "{,.gz,.br}");
  return 0;
}
