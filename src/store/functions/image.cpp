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
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "store/functions/builtins.hpp"
#include "store/functions/image_ops.hpp"
#include "store/media/image_limits.hpp"
#include "store/media/jpeg_fast.hpp"
#include "store/media/libs.hpp"
#include "store/media/media.hpp"
#include "store/model/values.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxSide = 16384;  // larger outputs are almost surely a mistake (and huge)
using imageops::Pixels;

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

// Opens the image (its header; pixels are read when an operation needs them). "fail": a corrupt
// row is an error, not a warning per row and a garbage result. An image above max_image_pixels
// (stored before the limit existed, or by a home with a higher one) is refused before decoding.
Result<Img> open_image(const Source& in, bool sequential, int shrink = 1) {
  VipsAccess access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM;
  VipsImage* img =
      shrink == 1 ? api().vips_image_new_from_file(in.path.c_str(), "access", access, "fail", TRUE, nullptr)
                  : api().vips_image_new_from_file(in.path.c_str(), "access", access, "fail", TRUE, "shrink",
                                                   shrink, nullptr);
  if (img == nullptr) return vips_failure();
  Img out(img);
  if (shrink == 1) PXT_CHECK(media::check_image_pixels(out.width(), out.height(), "the image"));
  return out;
}

// The result of fn would be w x h: refused above max_image_pixels before any work (a 2 x 2 PNG
// resized to 16384 x 16384 took 12 CPU-seconds and 800 MB).
Result<void> result_fits(int64_t w, int64_t h) { return media::check_image_pixels(w, h, "the result"); }

// The image at 8 bits per band: sRGB or grey, with or without alpha (1 to 4 bands), as Pillow
// opens the usual files (CMYK converted, 16-bit scaled down).
Result<Img> eight_bit(Img img) {
  VipsImage* out = nullptr;
  VipsInterpretation interp = api().vips_image_get_interpretation(img.get());
  if (interp == VIPS_INTERPRETATION_CMYK || interp == VIPS_INTERPRETATION_RGB16 ||
      interp == VIPS_INTERPRETATION_LAB || interp == VIPS_INTERPRETATION_scRGB) {
    PXT_TRY(img, made(api().vips_colourspace(img.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr), out));
  } else if (interp == VIPS_INTERPRETATION_GREY16) {
    PXT_TRY(img, made(api().vips_colourspace(img.get(), &out, VIPS_INTERPRETATION_B_W, nullptr), out));
  }
  if (api().vips_image_get_format(img.get()) != VIPS_FORMAT_UCHAR) {
    PXT_TRY(img, made(api().vips_cast(img.get(), &out, VIPS_FORMAT_UCHAR, nullptr), out));
  }
  if (api().vips_image_get_bands(img.get()) > 4) {
    PXT_TRY(img, made(api().vips_extract_band(img.get(), &out, 0, "n", 4, nullptr), out));
  }
  return img;
}

// The whole image decoded into memory, for the operations Pillow defines pixel by pixel. Bounded by
// max_image_pixels (open_image) and by ImageSlot's one call per core.
Result<Pixels> decode(const Source& in) {
  PXT_TRY(Img img, open_image(in, true));
  PXT_TRY(img, eight_bit(std::move(img)));
  size_t size = 0;
  void* mem = api().vips_image_write_to_memory(img.get(), &size);
  if (mem == nullptr) return vips_failure();
  std::unique_ptr<void, void (*)(void*)> owned(mem, api().g_free);
  Pixels p;
  p.width = img.width();
  p.height = img.height();
  p.bands = api().vips_image_get_bands(img.get());
  p.data.assign(static_cast<const char*>(mem), size);
  return p;
}

Result<Img> from_pixels(const Pixels& p) {
  VipsImage* img = api().vips_image_new_from_memory_copy(p.data.data(), p.data.size(), p.width, p.height,
                                                         p.bands, VIPS_FORMAT_UCHAR);
  if (img == nullptr) return vips_failure();
  return Img(img);
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
// A result with alpha keeps it: it is written as PNG rather than JPEG, unless JPEG was asked for
// (convert(img, 'jpeg')), which flattens it onto white.
Result<Value> store_image(const FunctionContext& ctx, Img img, std::string ext, bool format_asked = false) {
  if (ext == ".jpg" && !format_asked && api().vips_image_hasalpha(img.get()) != 0) ext = ".png";
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

// A size or box given as one JSON array argument, Pixeltable's tuples: resize(img, '[640, 480]'),
// or from SQL, resize(img, json_array(w, h)).
Result<std::vector<int64_t>> int_list(const Value& v, const char* name, size_t n, const char* shape) {
  const auto* text = std::get_if<std::string>(&v);
  rapidjson::Document d;
  if (text != nullptr) d.Parse(text->c_str(), text->size());
  if (text == nullptr || d.HasParseError() || !d.IsArray() || d.Size() != n) {
    return bad_arg(name, std::string("must be a JSON array ") + shape, v);
  }
  std::vector<int64_t> out;
  for (const auto& e : d.GetArray()) {
    if (e.IsInt64()) {
      out.push_back(e.GetInt64());
    } else if (e.IsDouble() && e.GetDouble() == std::trunc(e.GetDouble()) &&
               std::fabs(e.GetDouble()) < 1e15) {
      out.push_back(static_cast<int64_t>(e.GetDouble()));
    } else {
      return bad_arg(name, std::string("must be a JSON array of integers ") + shape, v);
    }
  }
  return out;
}

// resize(img, w, h) and resize(img, '[w, h]'): exactly w x h, Pillow's bicubic.
Result<Value> resize_to(const FunctionContext& ctx, const Value& img, int64_t w, int64_t h) {
  PXT_CHECK(result_fits(w, h));
  PXT_TRY(auto fast, jpeg_scaled(ctx, img, [&](int, int) {
            return std::pair{static_cast<int>(w), static_cast<int>(h)};
          }));
  if (fast) return std::move(*fast);
  PXT_TRY(Source in, image_arg(ctx, img));
  PXT_TRY(Pixels px, decode(in));
  PXT_TRY(Img out, from_pixels(imageops::resize(px, static_cast<int>(w), static_cast<int>(h))));
  return store_image(ctx, std::move(out), in.ext());
}

Result<Value> do_resize(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(int64_t w, int_arg(a[1], "w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[2], "h", 1, kMaxSide));
  return resize_to(ctx, a[0], w, h);
}

Result<Value> do_resize_size(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(auto size, int_list(a[1], "size", 2, "[width, height]"));
  for (int64_t v : size) {
    if (v < 1 || v > kMaxSide)
      return bad_arg("size", "must hold sizes between 1 and " + std::to_string(kMaxSide), a[1]);
  }
  return resize_to(ctx, a[0], size[0], size[1]);
}

// thumbnail(img, max_side) and thumbnail(img, max_w, max_h): Pillow's thumbnail, the largest
// size within the box that keeps the aspect ratio, never enlarging.
Result<Value> thumbnail_within(const FunctionContext& ctx, const Value& img, int64_t mw, int64_t mh) {
  PXT_TRY(auto fast, jpeg_scaled(ctx, img, [&](int w, int h) {
            return imageops::thumbnail_size(w, h, static_cast<int>(mw), static_cast<int>(mh));
          }));
  if (fast) return std::move(*fast);
  PXT_TRY(Source in, image_arg(ctx, img));
  PXT_TRY(Pixels px, decode(in));
  auto [w, h] = imageops::thumbnail_size(px.width, px.height, static_cast<int>(mw), static_cast<int>(mh));
  PXT_TRY(Img out, from_pixels(imageops::resize(px, w, h)));
  return store_image(ctx, std::move(out), in.ext());
}

Result<Value> do_thumbnail(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(int64_t side, int_arg(a[1], "max_side", 1, kMaxSide));
  return thumbnail_within(ctx, a[0], side, side);
}

Result<Value> do_thumbnail_box(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(int64_t w, int_arg(a[1], "max_w", 1, kMaxSide));
  PXT_TRY(int64_t h, int_arg(a[2], "max_h", 1, kMaxSide));
  return thumbnail_within(ctx, a[0], w, h);
}

// crop(img, x, y, w, h): a w x h area at (x, y), which must lie inside the image.
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

// crop(img, '[left, upper, right, lower]'): Pillow's crop box; what lies outside the image is black.
Result<Value> do_crop_box(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(auto box, int_list(a[1], "box", 4, "[left, upper, right, lower]"));
  if (box[2] < box[0] || box[3] < box[1]) {
    return bad_arg("box", "must have right >= left and lower >= upper", a[1]);
  }
  if (box[2] == box[0] || box[3] == box[1]) return bad_arg("box", "is empty", a[1]);
  for (int64_t v : box) {
    if (std::llabs(v) > kMaxSide * 8) return bad_arg("box", "is too far outside any image", a[1]);
  }
  PXT_CHECK(result_fits(box[2] - box[0], box[3] - box[1]));
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(Pixels px, decode(in));
  PXT_TRY(Img out, from_pixels(imageops::crop(px, box[0], box[1], box[2], box[3])));
  return store_image(ctx, std::move(out), in.ext());
}

Result<bool> bool_arg(const Value& v, const char* name) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<int64_t>(&v); i && (*i == 0 || *i == 1)) return *i == 1;
  return bad_arg(name, "must be true or false", v);
}

// rotate(img, degrees[, expand]): Pillow's Image.rotate, counter-clockwise about the centre with
// nearest-neighbour sampling; the result keeps the input's size (corners cut, the uncovered
// area black) unless expand is true, which grows the canvas to hold the whole image.
Result<Value> rotate_impl(const FunctionContext& ctx, const std::vector<Value>& a, bool expand) {
  double deg = 0;
  if (auto* i = std::get_if<int64_t>(&a[1])) {
    deg = static_cast<double>(*i);
  } else if (auto* d = std::get_if<double>(&a[1]); d && std::isfinite(*d)) {
    deg = *d;
  } else {
    return bad_arg("degrees", "must be a number", a[1]);
  }
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  {
    PXT_TRY(Img head, open_image(in, true));
    auto [w, h] = imageops::rotated_size(head.width(), head.height(), deg, expand);
    PXT_CHECK(result_fits(w, h));
  }
  PXT_TRY(Pixels px, decode(in));
  PXT_TRY(Img out, from_pixels(imageops::rotate(px, deg, expand)));
  return store_image(ctx, std::move(out), in.ext());
}

Result<Value> do_rotate(const FunctionContext& ctx, const std::vector<Value>& a) {
  return rotate_impl(ctx, a, false);
}

Result<Value> do_rotate_expand(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(bool expand, bool_arg(a[2], "expand"));
  return rotate_impl(ctx, a, expand);
}

// To Pillow's mode: L (ITU-R 601-2 luma), LA, RGB (alpha dropped, colours kept) or RGBA.
Result<Value> to_mode(const FunctionContext& ctx, const Source& in, std::string_view mode) {
  PXT_TRY(Pixels px, decode(in));
  auto converted = imageops::convert(px, mode);
  if (!converted) return make_error(Errc::internal, "unknown mode " + std::string(mode));
  PXT_TRY(Img out, from_pixels(*converted));
  return store_image(ctx, std::move(out), in.ext());
}

// grayscale(img): Pillow's convert('L'), keeping an alpha band (as 'LA').
Result<Value> do_grayscale(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  PXT_TRY(Img head, open_image(in, true));
  return to_mode(ctx, in, api().vips_image_hasalpha(head.get()) != 0 ? "LA" : "L");
}

// convert(img, x): Pillow's modes ('L', 'LA', 'RGB', 'RGBA'), as Pixeltable's convert(mode), or
// a file format ('png', 'jpeg', 'webp').
Result<Value> do_convert(const FunctionContext& ctx, const std::vector<Value>& a) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  const auto* arg = std::get_if<std::string>(&a[1]);
  if (arg != nullptr && imageops::mode_bands(*arg) > 0) return to_mode(ctx, in, *arg);
  std::string f = arg ? to_lower(*arg) : "";
  std::string ext = f == "png" ? ".png" : (f == "jpeg" || f == "jpg") ? ".jpg" : f == "webp" ? ".webp" : "";
  if (ext.empty()) {
    return bad_arg("mode", "must be a mode ('L', 'LA', 'RGB', 'RGBA') or a format ('png', 'jpeg', 'webp')",
                   a[1]);
  }
  PXT_TRY(Img img, open_image(in, true));
  return store_image(ctx, std::move(img), ext, true);
}

Result<Value> dimension(const FunctionContext& ctx, const std::vector<Value>& a, bool want_width) {
  PXT_TRY(Source in, image_arg(ctx, a[0]));
  // The header only: no pixel is decoded, and no limit applies to reading a size.
  VipsImage* img = api().vips_image_new_from_file(in.path.c_str(), nullptr);
  if (img == nullptr) return vips_failure();
  Img head(img);
  return Value(static_cast<int64_t>(want_width ? head.width() : head.height()));
}

}  // namespace

std::vector<SqlFunction> image_functions() {
  std::vector<SqlFunction> out;
  out.push_back(image_fn("resize", 3, ColumnType::Image, true, do_resize));
  out.push_back(image_fn("resize", 2, ColumnType::Image, true, do_resize_size));
  out.push_back(image_fn("thumbnail", 2, ColumnType::Image, true, do_thumbnail));
  out.push_back(image_fn("thumbnail", 3, ColumnType::Image, true, do_thumbnail_box));
  out.push_back(image_fn("crop", 5, ColumnType::Image, true, do_crop));
  out.push_back(image_fn("crop", 2, ColumnType::Image, true, do_crop_box));
  out.push_back(image_fn("rotate", 2, ColumnType::Image, true, do_rotate));
  out.push_back(image_fn("rotate", 3, ColumnType::Image, true, do_rotate_expand));
  out.push_back(image_fn("grayscale", 1, ColumnType::Image, true, do_grayscale));
  out.push_back(image_fn("convert", 2, ColumnType::Image, true, do_convert));
  out.push_back(image_fn("width", 1, ColumnType::Int, false,
                         [](const auto& c, const auto& a) { return dimension(c, a, true); }));
  out.push_back(image_fn("height", 1, ColumnType::Int, false,
                         [](const auto& c, const auto& a) { return dimension(c, a, false); }));
  return out;
}

}  // namespace pxt
