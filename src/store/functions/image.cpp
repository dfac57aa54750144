// Image functions for computed columns, on libvips (loaded on first use: store/media/libs.hpp). Why
// libvips rather than ImageMagick or a hand-rolled decoder: it streams images through small tiles
// instead of decoding them whole (a crop or a format conversion of a large image needs a few MB,
// not width*height*bands), its JPEG/WebP loaders shrink on load, and it is thread-safe once
// initialised.
//
// Values are media names relative to the home's media folder; a result image is a new file
// there, recorded in the write's CreatedFiles so a failed write removes it (store/functions/context.hpp).

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "store/functions/builtins.hpp"
#include "store/media/jpeg_fast.hpp"
#include "store/media/libs.hpp"
#include "store/media/media.hpp"
#include "store/model/values.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxSide = 16384;  // larger outputs are almost surely a mistake (and huge)

// The libvips table; only called once image_arg has loaded it successfully.
const medialib::Vips& api() { return **medialib::vips(); }

// A counted reference to a VipsImage, released when it goes out of scope.
class Img {
 public:
  Img() = default;
  explicit Img(VipsImage* p) : p_(p) {}
  Img(Img&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Img& operator=(Img&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  Img(const Img&) = delete;
  Img& operator=(const Img&) = delete;
  ~Img() {
    if (p_ != nullptr) api().g_object_unref(p_);
  }
  VipsImage* get() const { return p_; }
  int width() const { return api().vips_image_get_width(p_); }
  int height() const { return api().vips_image_get_height(p_); }

 private:
  VipsImage* p_ = nullptr;
};

// libvips' pending error message, as one line, clearing it.
Error vips_failure() {
  std::string m(trim(api().vips_error_buffer()));
  api().vips_error_clear();
  std::replace(m.begin(), m.end(), '\n', ' ');
  return make_error(Errc::invalid_argument, "cannot process the image: " + m);
}

// The output of a libvips operation that returned rc and wrote out. out is taken by reference:
// read here, after the operation ran (an argument's evaluation order is unspecified).
Result<Img> made(int rc, VipsImage*& out) {
  if (rc != 0) return vips_failure();
  return Img(std::exchange(out, nullptr));
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
  PXT_CHECK(medialib::vips());
  const char* loader = api().vips_foreign_find_load(full->c_str());
  if (!loader) {
    api().vips_error_clear();
    return bad_arg(name, "is not an image that can be decoded (JPEG, PNG, WebP, GIF, TIFF, ...)", v);
  }
  return Source{*full, loader};
}

Result<Img> open_image(const Source& in, bool sequential, int shrink = 1) {
  VipsAccess access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM;
  VipsImage* img = shrink == 1 ? api().vips_image_new_from_file(in.path.c_str(), "access", access, nullptr)
                               : api().vips_image_new_from_file(in.path.c_str(), "access", access, "shrink",
                                                                shrink, nullptr);
  if (img == nullptr) return vips_failure();
  return Img(img);
}

// The image scaled to exactly tw x th. A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that
// still leaves at least the target size (shrink-on-load: the IDCT skips the detail that would be
// thrown away), then resampled with a bicubic kernel (Pillow's thumbnail uses the same kernel).
// vips_thumbnail does this too but also opens the file twice, manages colour and uses lanczos3:
// about twice the time for a 2 MP JPEG, for no visible gain at thumbnail sizes.
Result<Img> scaled(const Source& in, int tw, int th) {
  PXT_TRY(Img img, open_image(in, true));
  int shrink = 1;
  if (in.jpeg()) {
    while (shrink < 8 && img.width() / (shrink * 2) >= tw && img.height() / (shrink * 2) >= th) shrink *= 2;
  }
  if (shrink > 1) {
    PXT_TRY(img, open_image(in, true, shrink));
  }
  VipsImage* out = nullptr;
  if (api().vips_image_get_interpretation(img.get()) == VIPS_INTERPRETATION_CMYK) {
    PXT_TRY(img, made(api().vips_colourspace(img.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr), out));
  }
  if (img.width() == tw && img.height() == th) return img;
  double hs = static_cast<double>(tw) / img.width(), vs = static_cast<double>(th) / img.height();
  return made(api().vips_resize(img.get(), &out, hs, "vscale", vs, "kernel", VIPS_KERNEL_CUBIC, nullptr),
              out);
}

// A new media file name with extension ext, its folder created and the name recorded in
// ctx.created before anything is written, so a failure at any later point removes it.
Result<std::pair<std::string, fs::path>> new_output(const FunctionContext& ctx, const std::string& ext) {
  std::string rel = media::new_relative_name(ext);
  PXT_TRY(fs::path full, media::resolve(ctx.media_dir, rel, false));
  std::error_code ec;
  fs::create_directories(full.parent_path(), ec);
  if (ec) return make_error(Errc::io, "cannot create " + full.parent_path().string() + ": " + ec.message());
  ctx.created->add(rel);
  return std::pair{rel, full};
}

// The JPEG argument v scaled to target() by the fast path (store/media/jpeg_fast.hpp) into a new media file;
// nullopt when v is not a JPEG or the fast path does not apply (the caller uses libvips, which
// also reports any bad argument).
Result<std::optional<Value>> jpeg_scaled(const FunctionContext& ctx, const Value& v,
                                         const jpeg::TargetSize& target) {
  const auto* rel = std::get_if<std::string>(&v);
  if (rel == nullptr) return std::optional<Value>();
  auto full = media::resolve(ctx.media_dir, *rel, true);
  if (!full || media::content_type(*full) != "image/jpeg") return std::optional<Value>();
  PXT_TRY(std::optional<std::string> encoded, jpeg::scale_file(*full, target));
  if (!encoded) return std::optional<Value>();
  PXT_TRY(auto out, new_output(ctx, ".jpg"));
  PXT_CHECK(media::write_file(out.second, *encoded));
  return std::optional<Value>(Value(out.first));
}

// Writes img as a new media file with extension ext (see new_output). Returns the relative name.
Result<Value> store_image(const FunctionContext& ctx, Img img, const std::string& ext) {
  PXT_TRY(auto output, new_output(ctx, ext));
  const std::string& rel = output.first;
  const fs::path& full = output.second;
  if (ext == ".jpg" && api().vips_image_hasalpha(img.get()) != 0) {
    double white = 255.0;
    VipsArrayDouble* background = api().vips_array_double_new(&white, 1);
    VipsImage* out = nullptr;
    int rc = api().vips_flatten(img.get(), &out, "background", background, nullptr);
    api().vips_area_unref(VIPS_AREA(background));
    PXT_TRY(img, made(rc, out));
  }
  // Encoded in memory and written here, not by vips_image_write_to_file: libvips reports a full
  // disk as a generic error, and the answer must say 507, not 500.
  void* buffer = nullptr;
  size_t size = 0;
  if (api().vips_image_write_to_buffer(img.get(), ext.c_str(), &buffer, &size, nullptr) != 0) {
    return vips_failure();
  }
  std::unique_ptr<void, void (*)(void*)> owned(buffer, api().g_free);
  PXT_CHECK(media::write_file(full, std::string_view(static_cast<const char*>(buffer), size)));
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
  f.with_context = [creates, body = std::move(body)](const FunctionContext& ctx,
                                                     const std::vector<Value>& args) -> Result<Value> {
    for (const auto& a : args) {
      if (is_null(a)) return Value();
    }
    if (creates && !ctx.created) {
      return make_error(Errc::invalid_argument,
                        "creates a media file, so it can only be used in a computed column, not in a query");
    }
    // A write's call computed ahead never gets here: call_sql_function answers it from the memo.
    ImageSlot slot;
    return body(ctx, args);
  };
  return f;
}

Result<Value> do_resize(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(int64_t w, int_arg(a[1], "w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[2], "h", 1, kMaxSide));
  PXT_TRY(auto fast, jpeg_scaled(ctx, a[0], [&](int, int) {
            return std::pair{static_cast<int>(w), static_cast<int>(h)};
          }));
  if (fast) return std::move(*fast);
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(Img out, scaled(in, static_cast<int>(w), static_cast<int>(h)));
  return store_image(ctx, std::move(out), in.ext());
}

// Fits w x h in side x side keeping the aspect ratio, never enlarging (like Pillow's thumbnail).
std::pair<int, int> thumbnail_size(int w, int h, int64_t side) {
  if (w > side || h > side) {
    double scale = static_cast<double>(side) / std::max(w, h);
    w = std::max(1, static_cast<int>(std::lround(w * scale)));
    h = std::max(1, static_cast<int>(std::lround(h * scale)));
  }
  return {w, h};
}

Result<Value> do_thumbnail(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(int64_t side, int_arg(a[1], "max_side", 1, kMaxSide));
  PXT_TRY(auto fast, jpeg_scaled(ctx, a[0], [&](int w, int h) { return thumbnail_size(w, h, side); }));
  if (fast) return std::move(*fast);
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(Img head, open_image(in, true));
  auto [w, h] = thumbnail_size(head.width(), head.height(), side);
  PXT_TRY(Img out, scaled(in, w, h));
  return store_image(ctx, std::move(out), in.ext());
}

Result<Value> do_crop(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(int64_t x, int_arg(a[1], "x", 0, kMaxSide * 8));
  PXT_TRY(int64_t y, int_arg(a[2], "y", 0, kMaxSide * 8));
  PXT_TRY(int64_t w, int_arg(a[3], "w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[4], "h", 1, kMaxSide));
  PXT_TRY(Img img, open_image(in, true));
  if (x + w > img.width() || y + h > img.height()) {
    return make_error(Errc::invalid_argument, "the area x=" + std::to_string(x) + ", y=" + std::to_string(y) +
                                                  ", w=" + std::to_string(w) + ", h=" + std::to_string(h) +
                                                  " is outside the " + std::to_string(img.width()) + "x" +
                                                  std::to_string(img.height()) + " image");
  }
  VipsImage* out = nullptr;
  PXT_TRY(Img area, made(api().vips_extract_area(img.get(), &out, static_cast<int>(x), static_cast<int>(y),
                                                 static_cast<int>(w), static_cast<int>(h), nullptr),
                         out));
  return store_image(ctx, std::move(area), in.ext());
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
  PXT_TRY(Img img, open_image(in, false));
  VipsImage* out = nullptr;
  int rc = 0;
  if (norm == 0) {
    rc = api().vips_copy(img.get(), &out, nullptr);
  } else if (norm == 90) {
    rc = api().vips_rot(img.get(), &out, VIPS_ANGLE_D270, nullptr);  // vips' fixed angles turn clockwise
  } else if (norm == 180) {
    rc = api().vips_rot(img.get(), &out, VIPS_ANGLE_D180, nullptr);
  } else if (norm == 270) {
    rc = api().vips_rot(img.get(), &out, VIPS_ANGLE_D90, nullptr);
  } else {
    rc = api().vips_rotate(img.get(), &out, norm, nullptr);  // vips_rotate turns anticlockwise
  }
  PXT_TRY(Img turned, made(rc, out));
  return store_image(ctx, std::move(turned), in.ext());
}

Result<Value> do_grayscale(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(Img img, open_image(in, true));
  VipsImage* out = nullptr;
  PXT_TRY(Img grey, made(api().vips_colourspace(img.get(), &out, VIPS_INTERPRETATION_B_W, nullptr), out));
  return store_image(ctx, std::move(grey), in.ext());
}

Result<Value> do_convert(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  const auto* fmt = std::get_if<std::string>(&a[1]);
  std::string f = fmt ? to_lower(*fmt) : "";
  std::string ext = f == "png" ? ".png" : (f == "jpeg" || f == "jpg") ? ".jpg" : f == "webp" ? ".webp" : "";
  if (ext.empty()) return bad_arg("format", "must be one of 'png', 'jpeg', 'webp'", a[1]);
  PXT_TRY(Img img, open_image(in, true));
  return store_image(ctx, std::move(img), ext);
}

Result<Value> dimension(const FunctionContext& ctx, const std::vector<Value>& a, bool want_width) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  // Opening reads the header only; no pixel is decoded.
  PXT_TRY(Img img, open_image(in, true));
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
