// ocr(image[, 'lang']): text in an image, by Tesseract (Debian's libtesseract5 with
// tesseract-ocr-eng), loaded on first use like the media libraries (store/media/libs.hpp): a
// service without OCR maps none of it. The image is decoded to 8-bit grey by libvips.
//
// A Tesseract handle is single-threaded and takes ~0.1-0.3 s to load a language, so handles are
// kept per language in a pool and reused; at most kMaxHandles per language run at once (each holds
// the language model in memory), further calls wait for one.
#include <tesseract/capi.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "store/media/libs.hpp"
#include "store/media/media.hpp"
#include "store/models/functions.hpp"
#include "util/dynlib.hpp"
#include "util/strings.hpp"

namespace pxt::models {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxHandles = 4;

#define PXT_TESS_FN(name) decltype(&::name) name = nullptr
struct Tess {
  PXT_TESS_FN(TessBaseAPICreate);
  PXT_TESS_FN(TessBaseAPIDelete);
  PXT_TESS_FN(TessBaseAPIInit3);
  PXT_TESS_FN(TessBaseAPISetImage);
  PXT_TESS_FN(TessBaseAPIGetUTF8Text);
  PXT_TESS_FN(TessBaseAPIEnd);
  PXT_TESS_FN(TessDeleteText);
};
#undef PXT_TESS_FN

Result<const Tess*> load_tesseract() {
  // Tesseract's OpenMP threads per call would oversubscribe a server that already runs one request
  // per thread (Tesseract's own advice for multi-threaded use).
  setenv("OMP_THREAD_LIMIT", "1", 0);
  PXT_TRY(void* lib, dynlib::open("libtesseract.so.5", "ocr()", "libtesseract5 tesseract-ocr-eng"));
  static Tess t;
  const char* missing = nullptr;
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPICreate, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPIDelete, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPIInit3, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPISetImage, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPIGetUTF8Text, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessBaseAPIEnd, missing);
  PXT_DYNLIB_RESOLVE(t, lib, TessDeleteText, missing);
  if (missing != nullptr) return dynlib::missing_symbol("libtesseract.so.5", missing, "libtesseract5");
  return &t;
}

const Result<const Tess*>& tesseract() { return dynlib::loaded_once<Tess, load_tesseract>(); }

// Where the language files are: $TESSDATA_PREFIX, else Debian's folder.
fs::path tessdata_dir() {
  if (const char* p = std::getenv("TESSDATA_PREFIX"); p && *p) return p;
  return "/usr/share/tesseract-ocr/5/tessdata";
}

Result<void> check_lang(const std::string& lang) {
  std::vector<std::string> parts = split(lang, '+');
  for (const auto& part : parts) {
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }))
      return make_error(
          Errc::invalid_argument,
          "ocr(): language '" + lang + "' is not a Tesseract language code such as 'eng' or 'eng+deu'");
    std::error_code ec;
    if (!fs::exists(tessdata_dir() / (part + ".traineddata"), ec))
      return make_error(Errc::invalid_argument,
                        "ocr(): language '" + part + "' is not installed in " + tessdata_dir().string() +
                            " (apt-get install tesseract-ocr-" + to_lower(part) + ")");
  }
  return {};
}

// Initialised handles of one language.
struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<TessBaseAPI*> idle;
  int created = 0;
};

// Never destroyed (a call may still run while the process exits); the idle handles are ended at
// exit instead, see release_idle_handles.
std::mutex g_pools_mu;
auto* g_pools = new std::map<std::string, std::unique_ptr<Pool>>();

Pool& pool_for(const std::string& lang) {
  std::lock_guard lock(g_pools_mu);
  auto& p = (*g_pools)[lang];
  if (!p) p = std::make_unique<Pool>();
  return *p;
}

// Tesseract's global object cache warns on stderr at exit ("WARNING! LEAK!") for every language
// file a live handle still holds, so the idle handles are deleted first: registered with atexit
// after the first handle's language loaded, it runs before that cache's destructor.
void release_idle_handles() {
  auto loaded = tesseract();
  if (!loaded) return;
  std::lock_guard lock(g_pools_mu);
  for (auto& [lang, pool] : *g_pools) {
    std::lock_guard plock(pool->mu);
    for (TessBaseAPI* h : pool->idle) (*loaded)->TessBaseAPIDelete(h);
    pool->created -= static_cast<int>(pool->idle.size());
    pool->idle.clear();
  }
}

Result<TessBaseAPI*> take_handle(const Tess& t, Pool& pool, const std::string& lang) {
  std::unique_lock lock(pool.mu);
  pool.cv.wait(lock, [&] { return !pool.idle.empty() || pool.created < kMaxHandles; });
  if (!pool.idle.empty()) {
    TessBaseAPI* h = pool.idle.back();
    pool.idle.pop_back();
    return h;
  }
  ++pool.created;
  lock.unlock();
  TessBaseAPI* h = t.TessBaseAPICreate();
  std::string dir = tessdata_dir().string();
  if (h == nullptr || t.TessBaseAPIInit3(h, dir.c_str(), lang.c_str()) != 0) {
    if (h) t.TessBaseAPIDelete(h);
    lock.lock();
    --pool.created;
    pool.cv.notify_one();
    return make_error(Errc::unsupported,
                      "ocr(): Tesseract could not load language '" + lang + "' from " + dir);
  }
  static std::once_flag at_exit;
  std::call_once(at_exit, [] { std::atexit(release_idle_handles); });
  return h;
}

void give_back(Pool& pool, TessBaseAPI* h) {
  {
    std::lock_guard lock(pool.mu);
    pool.idle.push_back(h);
  }
  pool.cv.notify_one();
}

// The image as 8-bit grey pixels (alpha flattened on white).
struct Grey {
  std::string pixels;
  int width = 0, height = 0;
};

Result<Grey> decode_grey(const fs::path& file, const std::string& rel) {
  PXT_TRY(const medialib::Vips* v, medialib::vips());
  auto fail = [&](const char* what) {
    std::string m(trim(v->vips_error_buffer()));
    v->vips_error_clear();
    std::replace(m.begin(), m.end(), '\n', ' ');
    return make_error(Errc::invalid_argument, std::string("ocr(): ") + what + " '" + rel + "': " + m);
  };
  struct Ref {
    const medialib::Vips* v;
    VipsImage* p = nullptr;
    ~Ref() {
      if (p) v->g_object_unref(p);
    }
  };
  Ref img{v, v->vips_image_new_from_file(file.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, nullptr)};
  if (!img.p) return fail("cannot decode the image");
  if (v->vips_image_hasalpha(img.p)) {
    double white = 255.0;
    VipsArrayDouble* bg = v->vips_array_double_new(&white, 1);
    Ref flat{v};
    int rc = v->vips_flatten(img.p, &flat.p, "background", bg, nullptr);
    v->vips_area_unref(reinterpret_cast<VipsArea*>(bg));
    if (rc != 0) return fail("cannot flatten the image");
    std::swap(img.p, flat.p);
  }
  Ref grey{v};
  if (v->vips_colourspace(img.p, &grey.p, VIPS_INTERPRETATION_B_W, nullptr) != 0)
    return fail("cannot convert");
  Ref bytes{v};
  if (v->vips_cast_uchar(grey.p, &bytes.p, nullptr) != 0) return fail("cannot convert");
  if (v->vips_image_get_bands(bytes.p) != 1)
    return make_error(Errc::invalid_argument, "ocr(): unexpected image layout");
  size_t size = 0;
  void* mem = v->vips_image_write_to_memory(bytes.p, &size);
  if (!mem) return fail("cannot decode the image");
  Grey g;
  g.width = v->vips_image_get_width(bytes.p);
  g.height = v->vips_image_get_height(bytes.p);
  g.pixels.assign(static_cast<const char*>(mem), size);
  v->g_free(mem);
  if (g.pixels.size() != static_cast<size_t>(g.width) * static_cast<size_t>(g.height))
    return make_error(Errc::internal, "ocr(): decoded image has an unexpected size");
  return g;
}

Result<Value> ocr(const FunctionContext& ctx, const std::vector<Value>& args) {
  if (is_null(args[0])) return Value();
  const auto* rel = std::get_if<std::string>(&args[0]);
  if (!rel) return make_error(Errc::invalid_argument, "ocr(): the argument must be an image");
  std::string lang = "eng";
  if (args.size() > 1 && !is_null(args[1])) {
    const auto* l = std::get_if<std::string>(&args[1]);
    if (!l) return make_error(Errc::invalid_argument, "ocr(): the language must be a text such as 'eng'");
    lang = *l;
  }
  auto file = media::resolve(ctx.media_dir, *rel, true);
  if (!file) return make_error(Errc::invalid_argument, "ocr(): '" + *rel + "' is not a stored image");
  PXT_TRY(const Tess* t, tesseract());
  PXT_CHECK(check_lang(lang));
  PXT_TRY(Grey g, decode_grey(*file, *rel));
  Pool& pool = pool_for(lang);
  PXT_TRY(TessBaseAPI * h, take_handle(*t, pool, lang));
  t->TessBaseAPISetImage(h, reinterpret_cast<const unsigned char*>(g.pixels.data()), g.width, g.height, 1,
                         g.width);
  char* text = t->TessBaseAPIGetUTF8Text(h);
  give_back(pool, h);
  if (!text) return make_error(Errc::invalid_argument, "ocr(): Tesseract could not read '" + *rel + "'");
  std::string out(text);
  t->TessDeleteText(text);
  return Value(std::string(trim(out)));
}

}  // namespace

std::vector<SqlFunction> ocr_functions() {
  std::vector<SqlFunction> out;
  for (int arity : {1, 2}) {
    SqlFunction f{"ocr", arity, ColumnType::String, true, nullptr};
    f.with_context = ocr;
    f.compute_ahead = true;
    out.push_back(f);
  }
  return out;
}

}  // namespace pxt::models
