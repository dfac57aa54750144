#pragma once
// The media libraries, loaded on first use. pxt does not link libvips, poppler or libturbojpeg:
// linked, they pulled ~118 shared libraries into every start (idle RSS 12 -> 31 MB, start-up
// 13 -> 40 ms) even for services without media. Each library is opened with dlopen when a media
// function first needs it and its C API resolved into one table of function pointers; the
// headers are used for types and signatures only (decltype of each function), so a mismatch
// between a call and the library's signature is a compile error, as with linking.
//
// Thread-safety: every accessor may be called from any thread; the first call loads (once, under
// a function-local static) and later calls return the same table, which is immutable.
// Errors: Errc::unsupported naming the Debian package to install when the library (or one of its
// functions) is missing; the result is remembered, so a missing library is not retried.
#include <poppler.h>
#include <turbojpeg.h>
#include <vips/vips.h>

#include <mutex>

#include "util/result.hpp"

namespace pxt::medialib {

#define PXT_MEDIA_FN(name) decltype(&::name) name = nullptr

// libvips 8.x (Debian libvips42) and the GLib calls pxt needs next to it.
struct Vips {
  PXT_MEDIA_FN(vips_version_string);
  PXT_MEDIA_FN(vips_error_buffer);
  PXT_MEDIA_FN(vips_error_clear);
  PXT_MEDIA_FN(vips_foreign_find_load);
  PXT_MEDIA_FN(vips_image_new_from_file);
  PXT_MEDIA_FN(vips_image_write_to_file);
  PXT_MEDIA_FN(vips_image_write_to_buffer);
  PXT_MEDIA_FN(vips_image_get_width);
  PXT_MEDIA_FN(vips_image_get_height);
  PXT_MEDIA_FN(vips_image_get_interpretation);
  PXT_MEDIA_FN(vips_image_get_bands);
  PXT_MEDIA_FN(vips_image_get_format);
  PXT_MEDIA_FN(vips_image_write_to_memory);
  PXT_MEDIA_FN(vips_cast_uchar);
  PXT_MEDIA_FN(vips_image_hasalpha);
  PXT_MEDIA_FN(vips_colourspace);
  PXT_MEDIA_FN(vips_resize);
  PXT_MEDIA_FN(vips_flatten);
  PXT_MEDIA_FN(vips_extract_area);
  PXT_MEDIA_FN(vips_rot);
  PXT_MEDIA_FN(vips_rotate);
  PXT_MEDIA_FN(vips_copy);
  PXT_MEDIA_FN(vips_avg);
  PXT_MEDIA_FN(vips_image_new_from_memory_copy);
  PXT_MEDIA_FN(vips_cast);
  PXT_MEDIA_FN(vips_extract_band);
  PXT_MEDIA_FN(vips_bandjoin_const1);
  PXT_MEDIA_FN(vips_embed);
  PXT_MEDIA_FN(vips_array_double_new);
  PXT_MEDIA_FN(vips_area_unref);
  PXT_MEDIA_FN(g_object_unref);
  PXT_MEDIA_FN(g_free);
};

// poppler's GLib API (Debian libpoppler-glib8): PDF validation and text extraction.
struct Poppler {
  PXT_MEDIA_FN(poppler_get_version);
  PXT_MEDIA_FN(poppler_document_new_from_file);
  PXT_MEDIA_FN(poppler_document_get_n_pages);
  PXT_MEDIA_FN(poppler_document_get_page);
  PXT_MEDIA_FN(poppler_page_get_text);
  PXT_MEDIA_FN(g_filename_to_uri);
  PXT_MEDIA_FN(g_error_matches);
  PXT_MEDIA_FN(g_error_free);
  PXT_MEDIA_FN(g_free);
  PXT_MEDIA_FN(g_object_unref);
  PXT_MEDIA_FN(poppler_error_quark);
};

// libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0): the JPEG fast path (scaled decode,
// encode) of thumbnails and validation.
struct TurboJpeg {
  PXT_MEDIA_FN(tjInitDecompress);
  PXT_MEDIA_FN(tjInitCompress);
  PXT_MEDIA_FN(tjDestroy);
  PXT_MEDIA_FN(tjDecompressHeader3);
  PXT_MEDIA_FN(tjDecompress2);
  PXT_MEDIA_FN(tjCompress2);
  PXT_MEDIA_FN(tjGetScalingFactors);
  PXT_MEDIA_FN(tjGetErrorStr2);
  PXT_MEDIA_FN(tjGetErrorCode);
  PXT_MEDIA_FN(tjFree);
};

#undef PXT_MEDIA_FN

// libvips, initialised with its operation cache off and one thread per operation (see the .cpp).
Result<const Vips*> vips();
// poppler-glib. Poppler's document loading is not documented as thread-safe: callers serialise
// their calls with poppler_mutex().
Result<const Poppler*> poppler();
std::mutex& poppler_mutex();
Result<const TurboJpeg*> turbojpeg();

}  // namespace pxt::medialib
