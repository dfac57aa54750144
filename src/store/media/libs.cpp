// dlopen of the media libraries (see store/media/libs.hpp for why they are not linked).
#include "store/media/libs.hpp"

#include "store/media/image_limits.hpp"
#include "store/media/lib_versions.hpp"
#include "util/dynlib.hpp"

#include <string>

namespace pxt::medialib {

namespace {

void glib_log(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  media::rate_limited_log(domain, static_cast<int>(level), message, nullptr);
}

Result<const Vips*> load_vips() {
  PXT_TRY(void* lib, dynlib::open("libvips.so.42", "image functions", "libvips42"));
  static Vips v;
  const char* missing = nullptr;
  PXT_DYNLIB_RESOLVE(v, lib, vips_version_string, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_error_buffer, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_error_clear, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_foreign_find_load, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_new_from_file, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_write_to_file, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_write_to_buffer, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_get_width, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_get_height, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_get_interpretation, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_get_bands, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_get_format, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_write_to_memory, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_cast_uchar, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_hasalpha, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_colourspace, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_resize, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_flatten, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_extract_area, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_rot, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_rotate, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_copy, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_avg, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_image_new_from_memory_copy, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_cast, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_extract_band, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_bandjoin_const1, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_embed, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_array_double_new, missing);
  PXT_DYNLIB_RESOLVE(v, lib, vips_area_unref, missing);
  PXT_DYNLIB_RESOLVE(v, lib, g_object_unref, missing);
  PXT_DYNLIB_RESOLVE(v, lib, g_free, missing);
  struct {
    decltype(&::vips_init) vips_init = nullptr;
    decltype(&::vips_cache_set_max) vips_cache_set_max = nullptr;
    decltype(&::vips_cache_set_max_mem) vips_cache_set_max_mem = nullptr;
    decltype(&::vips_cache_set_max_files) vips_cache_set_max_files = nullptr;
    decltype(&::vips_concurrency_set) vips_concurrency_set = nullptr;
    decltype(&::g_log_set_default_handler) g_log_set_default_handler = nullptr;
  } init;
  PXT_DYNLIB_RESOLVE(init, lib, vips_init, missing);
  PXT_DYNLIB_RESOLVE(init, lib, vips_cache_set_max, missing);
  PXT_DYNLIB_RESOLVE(init, lib, vips_cache_set_max_mem, missing);
  PXT_DYNLIB_RESOLVE(init, lib, vips_cache_set_max_files, missing);
  PXT_DYNLIB_RESOLVE(init, lib, vips_concurrency_set, missing);
  PXT_DYNLIB_RESOLVE(init, lib, g_log_set_default_handler, missing);
  if (missing != nullptr) return dynlib::missing_symbol("libvips.so.42", missing, "libvips42");
  if (init.vips_init("pxt") != 0) {
    std::string why = v.vips_error_buffer();
    v.vips_error_clear();
    return make_error(Errc::unsupported, "libvips failed to start: " + why);
  }
  // Each computed value reads a different file once: caching operations would only hold memory
  // and file descriptors. Each operation runs on the calling thread alone: the server already
  // runs one request per thread, and vips worker threads per call would oversubscribe the cores
  // and add per-thread buffers.
  init.vips_cache_set_max(0);
  init.vips_cache_set_max_mem(0);
  init.vips_cache_set_max_files(0);
  init.vips_concurrency_set(1);
  // A corrupt image made libvips print one warning per row (100,000 lines for one request):
  // GLib's messages go through a rate limit instead (store/media/image_limits.hpp).
  init.g_log_set_default_handler(&glib_log, nullptr);
  return &v;
}

Result<const Poppler*> load_poppler() {
  PXT_TRY(void* lib, dynlib::open("libpoppler-glib.so.8", "PDF documents", "libpoppler-glib8"));
  static Poppler p;
  const char* missing = nullptr;
  PXT_DYNLIB_RESOLVE(p, lib, poppler_get_version, missing);
  PXT_DYNLIB_RESOLVE(p, lib, poppler_document_new_from_file, missing);
  PXT_DYNLIB_RESOLVE(p, lib, poppler_document_get_n_pages, missing);
  PXT_DYNLIB_RESOLVE(p, lib, poppler_document_get_page, missing);
  PXT_DYNLIB_RESOLVE(p, lib, poppler_page_get_text, missing);
  PXT_DYNLIB_RESOLVE(p, lib, g_filename_to_uri, missing);
  PXT_DYNLIB_RESOLVE(p, lib, g_error_matches, missing);
  PXT_DYNLIB_RESOLVE(p, lib, g_error_free, missing);
  PXT_DYNLIB_RESOLVE(p, lib, g_free, missing);
  PXT_DYNLIB_RESOLVE(p, lib, g_object_unref, missing);
  PXT_DYNLIB_RESOLVE(p, lib, poppler_error_quark, missing);
  if (missing != nullptr) return dynlib::missing_symbol("libpoppler-glib.so.8", missing, "libpoppler-glib8");
  return &p;
}

Result<const TurboJpeg*> load_turbojpeg() {
  PXT_TRY(void* lib, dynlib::open("libturbojpeg.so.0", "JPEG thumbnails", "libturbojpeg0"));
  static TurboJpeg t;
  const char* missing = nullptr;
  PXT_DYNLIB_RESOLVE(t, lib, tjInitDecompress, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjInitCompress, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjDestroy, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjDecompressHeader3, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjDecompress2, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjCompress2, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjGetScalingFactors, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjGetErrorStr2, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjGetErrorCode, missing);
  PXT_DYNLIB_RESOLVE(t, lib, tjFree, missing);
  if (missing != nullptr) return dynlib::missing_symbol("libturbojpeg.so.0", missing, "libturbojpeg0");
  return &t;
}

}  // namespace

Result<const Vips*> vips() { return dynlib::loaded_once<Vips, load_vips>(); }

Result<const Poppler*> poppler() { return dynlib::loaded_once<Poppler, load_poppler>(); }

std::mutex& poppler_mutex() {
  static std::mutex mu;
  return mu;
}

Result<const TurboJpeg*> turbojpeg() { return dynlib::loaded_once<TurboJpeg, load_turbojpeg>(); }

Result<std::string> vips_version() {
  PXT_TRY(const Vips* v, vips());
  return std::string(v->vips_version_string());
}

Result<std::string> poppler_version() {
  PXT_TRY(const Poppler* p, poppler());
  return std::string(p->poppler_get_version());
}

Result<std::string> turbojpeg_version() {
  PXT_TRY(const TurboJpeg* t, turbojpeg());
  (void)t;
  return std::string();
}

}  // namespace pxt::medialib
