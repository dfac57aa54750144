// JPEG fast path: scaled decode, bicubic resample and encode on TurboJPEG (see store/media/jpeg_fast.hpp).
#include "store/media/jpeg_fast.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "store/media/image_limits.hpp"
#include "store/media/libs.hpp"

namespace pxt::jpeg {

namespace fs = std::filesystem;

namespace {

constexpr int kQuality = 75;                 // libvips' and Pillow's default
constexpr size_t kHeaderBytes = 256 * 1024;  // enough for the markers before the frame header

// TurboJPEG handles are not thread-safe but are reusable: one pair per thread.
struct Handles {
  const medialib::TurboJpeg* tj = nullptr;
  tjhandle decompress = nullptr, compress = nullptr;
  ~Handles() {
    if (decompress != nullptr) tj->tjDestroy(decompress);
    if (compress != nullptr) tj->tjDestroy(compress);
  }
};
Handles& handles(const medialib::TurboJpeg* tj) {
  thread_local Handles h;
  h.tj = tj;
  if (h.decompress == nullptr) h.decompress = tj->tjInitDecompress();
  if (h.compress == nullptr) h.compress = tj->tjInitCompress();
  return h;
}

// Up to limit bytes of the file (all of it when limit is 0).
Result<std::string> read_file(const fs::path& file, size_t limit = 0) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return make_error(Errc::io, "cannot read '" + file.string() + "': " + std::strerror(errno));
  }
  size_t want = static_cast<size_t>(st.st_size);
  if (limit != 0) want = std::min(want, limit);
  std::string buf(want, '\0');
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::read(fd, buf.data() + got, want - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  buf.resize(got);
  return buf;
}

const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

struct Header {
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
};

bool read_header(const medialib::TurboJpeg* tj, tjhandle h, const std::string& data, Header& out) {
  return tj->tjDecompressHeader3(h, bytes(data), data.size(), &out.width, &out.height, &out.subsamp,
                                 &out.colorspace) == 0 &&
         out.width > 0 && out.height > 0;
}

// The smallest DCT scaling (at most 1) that leaves at least tw x th pixels.
tjscalingfactor decode_scale(const medialib::TurboJpeg* tj, const Header& hd, int tw, int th) {
  tjscalingfactor best{1, 1};
  int n = 0;
  const tjscalingfactor* f = tj->tjGetScalingFactors(&n);
  for (int i = 0; f != nullptr && i < n; ++i) {
    if (f[i].num > f[i].denom) continue;
    int w = TJSCALED(hd.width, f[i]), h = TJSCALED(hd.height, f[i]);
    if (w >= tw && h >= th && w < TJSCALED(hd.width, best)) best = f[i];
  }
  return best;
}

// Pillow's bicubic (a = -0.5).
double cubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// For each output index: the first source index and the weights of the source pixels it
// averages (the kernel is stretched by the shrink factor, so none is skipped).
struct Taps {
  int taps = 0;
  std::vector<int> first;
  std::vector<float> weight;  // out * taps, zero-padded
};
Taps taps_for(int in, int out) {
  double scale = static_cast<double>(in) / out;
  double fscale = std::max(scale, 1.0);
  double support = 2.0 * fscale;
  Taps t;
  t.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<size_t>(out));
  t.weight.assign(static_cast<size_t>(out) * static_cast<size_t>(t.taps), 0.0f);
  for (int i = 0; i < out; ++i) {
    double center = (i + 0.5) * scale;
    int lo = std::max(0, static_cast<int>(center - support + 0.5));
    int hi = std::min(in, static_cast<int>(center + support + 0.5));
    hi = std::min(hi, lo + t.taps);
    double sum = 0;
    float* w = &t.weight[static_cast<size_t>(i) * static_cast<size_t>(t.taps)];
    for (int k = 0; k < hi - lo; ++k) {
      double v = cubic((lo + k - center + 0.5) / fscale);
      w[k] = static_cast<float>(v);
      sum += v;
    }
    if (sum != 0) {
      for (int k = 0; k < hi - lo; ++k) w[k] = static_cast<float>(w[k] / sum);
    }
    t.first[static_cast<size_t>(i)] = lo;
  }
  return t;
}

unsigned char clamp8(float v) {
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<unsigned char>(v + 0.5f);
}

// out[i] += w * in[i] for a whole row: contiguous and unaliased, so the compiler vectorises it.
void add_row(float* __restrict out, const float* __restrict in, float w, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] += w * in[i];
}

}  // namespace

std::string resample(const std::string& src, int sw, int sh, int bands, int dw, int dh) {
  const auto* in = bytes(src);
  Taps hx = taps_for(sw, dw), vy = taps_for(sh, dh);
  const auto z = [](int v) { return static_cast<size_t>(v); };
  const size_t row_in = z(sw) * z(bands), row_out = z(dw) * z(bands);
  // Vertical pass first, whole rows at a time (vectorised), so the horizontal pass runs over the
  // dh output rows only. Source rows are converted to floats once, into a ring that holds the
  // rows one output row needs (it stays in cache; the whole image as floats would not).
  const size_t ring_rows = z(vy.taps) + 2;
  std::vector<float> ring(ring_rows * row_in), mid(row_in), px(z(sw) * 4);
  std::vector<int> ring_row(ring_rows, -1);
  auto source_row = [&](int r) {
    float* slot = &ring[(z(r) % ring_rows) * row_in];
    if (ring_row[z(r) % ring_rows] != r) {
      const unsigned char* p = in + z(r) * row_in;
      for (size_t i = 0; i < row_in; ++i) slot[i] = p[i];
      ring_row[z(r) % ring_rows] = r;
    }
    return slot;
  };
  std::string out(z(dh) * row_out, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  for (int y = 0; y < dh; ++y) {
    std::fill(mid.begin(), mid.end(), 0.0f);
    const float* w = &vy.weight[z(y) * z(vy.taps)];
    const int first = vy.first[z(y)];
    const int n = std::min(vy.taps, sh - first);
    for (int k = 0; k < n; ++k) add_row(mid.data(), source_row(first + k), w[k], row_in);
    // Pixels padded to 4 floats, so each tap of the horizontal pass is one vector operation.
    for (int x = 0; x < sw; ++x) {
      for (int c = 0; c < 4; ++c) px[z(x) * 4 + z(c)] = c < bands ? mid[z(x) * z(bands) + z(c)] : 0.0f;
    }
    unsigned char* o = dst + z(y) * row_out;
    for (int x = 0; x < dw; ++x) {
      const float* wx = &hx.weight[z(x) * z(hx.taps)];
      const float* p = &px[z(hx.first[z(x)]) * 4];
      const int m = std::min(hx.taps, sw - hx.first[z(x)]);
      float acc[4] = {0, 0, 0, 0};
      for (int k = 0; k < m; ++k, p += 4) {
        for (int c = 0; c < 4; ++c) acc[c] += wx[k] * p[c];
      }
      for (int c = 0; c < bands; ++c) o[x * bands + c] = clamp8(acc[c]);
    }
  }
  return out;
}

Result<std::optional<std::string>> scale_file(const fs::path& src, const TargetSize& target) {
  auto lib = medialib::turbojpeg();
  if (!lib) return std::optional<std::string>();
  const medialib::TurboJpeg* tj = *lib;
  Handles& h = handles(tj);
  if (h.decompress == nullptr || h.compress == nullptr) return std::optional<std::string>();
  PXT_TRY(std::string data, read_file(src));
  Header hd;
  if (!read_header(tj, h.decompress, data, hd) || hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK) {
    return std::optional<std::string>();
  }
  PXT_CHECK(media::check_image_pixels(hd.width, hd.height, "the image"));
  auto [tw, th] = target(hd.width, hd.height);
  PXT_CHECK(media::check_image_pixels(tw, th, "the result"));
  tjscalingfactor f = decode_scale(tj, hd, tw, th);
  int sw = TJSCALED(hd.width, f), sh = TJSCALED(hd.height, f);
  bool gray = hd.colorspace == TJCS_GRAY;
  int bands = gray ? 1 : 3, format = gray ? TJPF_GRAY : TJPF_RGB;
  std::string pixels(static_cast<size_t>(sw) * static_cast<size_t>(sh) * static_cast<size_t>(bands), '\0');
  // A warning (e.g. extraneous bytes) still gives the whole image, as libvips' default accepts.
  if (tj->tjDecompress2(h.decompress, bytes(data), data.size(),
                        reinterpret_cast<unsigned char*>(pixels.data()), sw, 0, sh, format, 0) != 0 &&
      tj->tjGetErrorCode(h.decompress) != TJERR_WARNING) {
    return make_error(Errc::invalid_argument,
                      std::string("cannot process the image: ") + tj->tjGetErrorStr2(h.decompress));
  }
  if (sw != tw || sh != th) pixels = resample(pixels, sw, sh, bands, tw, th);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (tj->tjCompress2(h.compress, bytes(pixels), tw, 0, th, format, &jpeg, &size,
                      gray ? TJSAMP_GRAY : TJSAMP_420, kQuality, 0) != 0) {
    tj->tjFree(jpeg);
    return make_error(Errc::internal, std::string("JPEG encoding failed: ") + tj->tjGetErrorStr2(h.compress));
  }
  std::string out(reinterpret_cast<const char*>(jpeg), size);
  tj->tjFree(jpeg);
  return std::optional<std::string>(std::move(out));
}

Result<bool> verify(const fs::path& file) {
  auto lib = medialib::turbojpeg();
  if (!lib) return false;
  const medialib::TurboJpeg* tj = *lib;
  Handles& h = handles(tj);
  if (h.decompress == nullptr) return false;
  PXT_TRY(std::string data, read_file(file));
  Header hd;
  if (!read_header(tj, h.decompress, data, hd))
    return make_error(Errc::invalid_argument, "the image cannot be decoded");
  PXT_CHECK(media::check_image_pixels(hd.width, hd.height, "the image"));
  tjscalingfactor f = decode_scale(tj, hd, 1, 1);
  int sw = TJSCALED(hd.width, f), sh = TJSCALED(hd.height, f);
  bool cmyk = hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK;
  // Grey output skips the colour conversion; a CMYK scan can only be decoded as CMYK.
  int bands = cmyk ? 4 : 1;
  std::string pixels(static_cast<size_t>(sw) * static_cast<size_t>(sh) * static_cast<size_t>(bands), '\0');
  if (tj->tjDecompress2(h.decompress, bytes(data), data.size(),
                        reinterpret_cast<unsigned char*>(pixels.data()), sw, 0, sh,
                        cmyk ? TJPF_CMYK : TJPF_GRAY, TJFLAG_STOPONWARNING) != 0) {
    return make_error(
        Errc::invalid_argument,
        std::string("the image's pixel data is corrupt or truncated: ") + tj->tjGetErrorStr2(h.decompress));
  }
  return true;
}

Result<bool> header_ok(const fs::path& file) {
  auto lib = medialib::turbojpeg();
  if (!lib) return false;
  const medialib::TurboJpeg* tj = *lib;
  Handles& h = handles(tj);
  if (h.decompress == nullptr) return false;
  PXT_TRY(std::string head, read_file(file, kHeaderBytes));
  Header hd;
  if (read_header(tj, h.decompress, head, hd)) return true;
  if (head.size() == kHeaderBytes) {  // markers longer than the first read: try the whole file
    PXT_TRY(std::string all, read_file(file));
    if (read_header(tj, h.decompress, all, hd)) return true;
  }
  return make_error(Errc::invalid_argument, "the image cannot be decoded");
}

}  // namespace pxt::jpeg
