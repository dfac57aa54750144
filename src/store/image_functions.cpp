// Image functions for computed columns, on libvips. Why libvips rather than ImageMagick or a
// hand-rolled decoder: it streams images through small tiles instead of decoding them whole
// (a crop or a format conversion of a large image needs a few MB, not width*height*bands), its
// JPEG/WebP loaders shrink on load (a thumbnail of a 2 MP JPEG decodes at 1/8 scale, several
// times faster than decode-then-resize), and it is thread-safe once initialised.
//
// Values are media names relative to the home's media folder; a result image is a new file
// there, recorded in the write's CreatedFiles so a failed write removes it (function_context.hpp).
#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "store/media.hpp"
#include "store/media_functions.hpp"
#include "store/values.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using vips::VError;
using vips::VImage;
namespace fs = std::filesystem;

constexpr int64_t kMaxSide = 16384;  // larger outputs are almost surely a mistake (and huge)

// libvips is initialised once per process. Its operation cache is disabled: each computed value
// reads a different file once, so caching only holds memory. Each operation runs on the calling
// thread alone: the server already runs one request per thread, and vips worker threads per
// call would oversubscribe the cores and add per-thread buffers.
void init_vips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("pxt") != 0) return;  // every later call reports vips' own error
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
  });
}

std::string vips_message(const VError& e) {
  std::string m(trim(e.what()));
  vips_error_clear();
  std::replace(m.begin(), m.end(), '\n', ' ');
  return m;
}

std::string shown(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  return value_to_text(v, std::nullopt);
}

Error bad_arg(const char* name, const std::string& what, const Value& v) {
  return make_error(Errc::invalid_argument,
                    "argument '" + std::string(name) + "' " + what + ", got " + shown(v));
}

// An integral argument in [lo, hi]. Doubles are accepted when integral (SQLite may compute 640.0).
Result<int64_t> int_arg(const Value& v, const char* name, int64_t lo, int64_t hi) {
  int64_t n = 0;
  if (auto* i = std::get_if<int64_t>(&v)) {
    n = *i;
  } else if (auto* d = std::get_if<double>(&v);
             d && std::isfinite(*d) && *d == std::trunc(*d) && std::fabs(*d) < 1e15) {
    n = static_cast<int64_t>(*d);
  } else {
    return bad_arg(name, "must be an integer", v);
  }
  if (n < lo || n > hi) {
    return bad_arg(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi), v);
  }
  return n;
}

// An image argument: the file (a media name resolved under media/) and the libvips loader that
// decodes it (e.g. "VipsForeignLoadJpegFile").
struct Source {
  fs::path path;
  std::string loader;
  bool jpeg() const { return loader.find("Jpeg") != std::string::npos; }
  // Results keep the input's format when it is a common web format, else PNG (lossless).
  std::string ext() const {
    if (jpeg()) return ".jpg";
    if (loader.find("Webp") != std::string::npos) return ".webp";
    return ".png";
  }
};

// The source behind an image argument, checked to be something libvips can load.
Result<Source> image_arg(const FunctionContext& ctx, const Value& v, const char* name = "img") {
  const auto* rel = std::get_if<std::string>(&v);
  if (!rel) return bad_arg(name, "must be an image (a media file name)", v);
  auto full = media::resolve(ctx.media_dir, *rel, true);
  if (!full) return bad_arg(name, "must name an existing media file", v);
  init_vips();
  const char* loader = vips_foreign_find_load(full->c_str());
  if (!loader) {
    vips_error_clear();
    return bad_arg(name, "is not an image that can be decoded (JPEG, PNG, WebP, GIF, TIFF, ...)", v);
  }
  return Source{*full, loader};
}

VImage open_image(const Source& in, bool sequential) {
  return VImage::new_from_file(
      in.path.c_str(),
      VImage::option()->set("access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM));
}

// The image scaled to exactly tw x th. A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that
// still leaves at least the target size (shrink-on-load: the IDCT skips the detail that would be
// thrown away), then resampled with a bicubic kernel (Pillow's thumbnail uses the same kernel).
// vips_thumbnail does this too but also opens the file twice, manages colour and uses lanczos3:
// about twice the time for a 2 MP JPEG, for no visible gain at thumbnail sizes.
VImage scaled(const Source& in, int tw, int th) {
  VImage head = open_image(in, true);
  int shrink = 1;
  if (in.jpeg()) {
    while (shrink < 8 && head.width() / (shrink * 2) >= tw && head.height() / (shrink * 2) >= th) shrink *= 2;
  }
  VImage img = shrink == 1
                   ? head
                   : VImage::new_from_file(
                         in.path.c_str(),
                         VImage::option()->set("shrink", shrink)->set("access", VIPS_ACCESS_SEQUENTIAL));
  if (img.interpretation() == VIPS_INTERPRETATION_CMYK) img = img.colourspace(VIPS_INTERPRETATION_sRGB);
  if (img.width() == tw && img.height() == th) return img;
  double hs = static_cast<double>(tw) / img.width(), vs = static_cast<double>(th) / img.height();
  return img.resize(hs, VImage::option()->set("vscale", vs)->set("kernel", VIPS_KERNEL_CUBIC));
}

// Writes img as a new media file with extension ext, recorded in ctx.created before writing so a
// failure at any later point removes it. Returns the relative name.
Result<Value> store_image(const FunctionContext& ctx, VImage img, const std::string& ext) {
  std::string rel = media::new_relative_name(ext);
  PXT_TRY(fs::path full, media::resolve(ctx.media_dir, rel, false));
  std::error_code ec;
  fs::create_directories(full.parent_path(), ec);
  if (ec) return make_error(Errc::io, "cannot create " + full.parent_path().string() + ": " + ec.message());
  ctx.created->add(rel);
  if (ext == ".jpg" && img.has_alpha()) {
    img = img.flatten(VImage::option()->set("background", std::vector<double>{255.0}));
  }
  img.write_to_file(full.c_str());
  return Value(rel);
}

// Image work is CPU-bound: more calls at once than cores only adds memory (each thread's image
// buffers and malloc arena: 80 MB peak RSS instead of 61 at 8 upload connections on 2 cores),
// not throughput. Calls wait their turn first come, first served, so none starves under load
// (std::counting_semaphore promises no order: its p99 was 4x the median).
class ImageSlot {
 public:
  ImageSlot() {
    std::unique_lock lock(mu_);
    uint64_t ticket = next_++;
    cv_.wait(lock, [&] { return ticket < released_ + permits(); });
  }
  ~ImageSlot() {
    {
      std::lock_guard lock(mu_);
      ++released_;
    }
    cv_.notify_all();
  }
  ImageSlot(const ImageSlot&) = delete;
  ImageSlot& operator=(const ImageSlot&) = delete;

 private:
  static uint64_t permits() {
    static const uint64_t n = std::max(1u, std::thread::hardware_concurrency());
    return n;
  }
  static inline std::mutex mu_;
  static inline std::condition_variable cv_;
  static inline uint64_t next_ = 0;
  static inline uint64_t released_ = 0;
};

using Body = std::function<Result<Value>(const FunctionContext&, const std::vector<Value>&)>;

// Wraps a function body: NULL in -> NULL out, libvips errors -> messages, and for functions that
// create files, a refusal when no write owns the result.
SqlFunction image_fn(const char* name, int arity, ColumnType type, bool creates, Body body) {
  SqlFunction f;
  f.name = name;
  f.arity = arity;
  f.result_type = type;
  // A new file per call: SQLite must not fold two calls into one.
  f.deterministic = !creates;
  f.creates_file = creates;
  f.with_context = [creates, body = std::move(body), fname = std::string(name)](
                       const FunctionContext& ctx, const std::vector<Value>& args) -> Result<Value> {
    for (const auto& a : args) {
      if (is_null(a)) return Value();
    }
    if (creates && !ctx.created) {
      return make_error(Errc::invalid_argument,
                        "creates a media file, so it can only be used in a computed column, not in a query");
    }
    std::string key;
    if (creates) {
      key = call_key(fname, args);
      if (!ctx.created->ahead()) {
        if (auto done = ctx.created->take(key)) return Value(std::move(*done));
      }
    }
    init_vips();
    ImageSlot slot;
    try {
      Result<Value> r = body(ctx, args);
      if (creates && ctx.created->ahead() && r.ok()) ctx.created->remember(key, std::get<std::string>(*r));
      return r;
    } catch (const VError& e) {
      return make_error(Errc::invalid_argument, "cannot process the image: " + vips_message(e));
    }
  };
  return f;
}

Result<Value> do_resize(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(int64_t w, int_arg(a[1], "w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[2], "h", 1, kMaxSide));
  return store_image(ctx, scaled(in, static_cast<int>(w), static_cast<int>(h)), in.ext());
}

Result<Value> do_thumbnail(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(int64_t side, int_arg(a[1], "max_side", 1, kMaxSide));
  // Fits in side x side keeping the aspect ratio, never enlarging (like Pillow's thumbnail).
  VImage head = open_image(in, true);
  int w = head.width(), h = head.height();
  if (w > side || h > side) {
    double scale = static_cast<double>(side) / std::max(w, h);
    w = std::max(1, static_cast<int>(std::lround(w * scale)));
    h = std::max(1, static_cast<int>(std::lround(h * scale)));
  }
  return store_image(ctx, scaled(in, w, h), in.ext());
}

Result<Value> do_crop(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(int64_t x, int_arg(a[1], "x", 0, kMaxSide * 8));
  PXT_TRY(int64_t y, int_arg(a[2], "y", 0, kMaxSide * 8));
  PXT_TRY(int64_t w, int_arg(a[3], "w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[4], "h", 1, kMaxSide));
  VImage img = open_image(in, true);
  if (x + w > img.width() || y + h > img.height()) {
    return make_error(Errc::invalid_argument, "the area x=" + std::to_string(x) + ", y=" + std::to_string(y) +
                                                  ", w=" + std::to_string(w) + ", h=" + std::to_string(h) +
                                                  " is outside the " + std::to_string(img.width()) + "x" +
                                                  std::to_string(img.height()) + " image");
  }
  VImage out =
      img.extract_area(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h));
  return store_image(ctx, out, in.ext());
}

Result<Value> do_rotate(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  double deg = 0;
  if (auto* i = std::get_if<int64_t>(&a[1])) {
    deg = static_cast<double>(*i);
  } else if (auto* d = std::get_if<double>(&a[1]); d && std::isfinite(*d)) {
    deg = *d;
  } else {
    return bad_arg("degrees", "must be a number", a[1]);
  }
  // Counter-clockwise, as in Pillow and Pixeltable; the canvas grows to hold the whole image.
  double norm = std::fmod(std::fmod(deg, 360.0) + 360.0, 360.0);
  VImage img = open_image(in, false);
  VImage out;
  if (norm == 0) {
    out = img.copy();
  } else if (norm == 90) {
    out = img.rot(VIPS_ANGLE_D270);  // vips' fixed angles turn clockwise
  } else if (norm == 180) {
    out = img.rot(VIPS_ANGLE_D180);
  } else if (norm == 270) {
    out = img.rot(VIPS_ANGLE_D90);
  } else {
    out = img.rotate(norm);  // vips_rotate turns anticlockwise
  }
  return store_image(ctx, out, in.ext());
}

Result<Value> do_grayscale(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  VImage img = open_image(in, true);
  return store_image(ctx, img.colourspace(VIPS_INTERPRETATION_B_W), in.ext());
}

Result<Value> do_convert(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  const auto* fmt = std::get_if<std::string>(&a[1]);
  std::string f = fmt ? to_lower(*fmt) : "";
  std::string ext = f == "png" ? ".png" : (f == "jpeg" || f == "jpg") ? ".jpg" : f == "webp" ? ".webp" : "";
  if (ext.empty()) return bad_arg("format", "must be one of 'png', 'jpeg', 'webp'", a[1]);
  return store_image(ctx, open_image(in, true), ext);
}

Result<Value> dimension(const FunctionContext& ctx, const std::vector<Value>& a, bool want_width) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  // Opening reads the header only; no pixel is decoded.
  VImage img = open_image(in, true);
  return Value(static_cast<int64_t>(want_width ? img.width() : img.height()));
}

}  // namespace

std::vector<SqlFunction> image_functions() {
  std::vector<SqlFunction> out;
  out.push_back(image_fn("resize", 3, ColumnType::Image, true, do_resize));
  out.push_back(image_fn("thumbnail", 2, ColumnType::Image, true, do_thumbnail));
  out.push_back(image_fn("crop", 5, ColumnType::Image, true, do_crop));
  out.push_back(image_fn("rotate", 2, ColumnType::Image, true, do_rotate));
  out.push_back(image_fn("grayscale", 1, ColumnType::Image, true, do_grayscale));
  out.push_back(image_fn("convert", 2, ColumnType::Image, true, do_convert));
  out.push_back(image_fn("width", 1, ColumnType::Int, false,
                         [](const auto& c, const auto& a) { return dimension(c, a, true); }));
  out.push_back(image_fn("height", 1, ColumnType::Int, false,
                         [](const auto& c, const auto& a) { return dimension(c, a, false); }));
  return out;
}

}  // namespace pxt
