// Pillow-exact pixel operations (see store/functions/image_ops.hpp). Where the arithmetic must
// match Pillow's bit for bit (rotate's sampling, luma, premultiplied alpha), the comments name the
// Pillow behaviour it follows; tests/unit/test_store_functions_image_ops.cpp checks the results
// against images produced by python3-pil.
#include "store/functions/image_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <tuple>

namespace pxt::imageops {

namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

Pixels blank(int w, int h, int bands) {
  Pixels p;
  p.width = w;
  p.height = h;
  p.bands = bands;
  p.data.assign(sz(w) * sz(h) * sz(bands), '\0');
  return p;
}

// Python's x % 360.0 (the result has the sign of the divisor).
double py_mod360(double x) {
  double r = std::fmod(x, 360.0);
  if (r != 0 && r < 0) r += 360.0;
  return r;
}

// Python's round(x, 15): correctly rounded to 15 decimals, as glibc's printf rounds.
double round15(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", x);
  return std::strtod(buf, nullptr);
}

// Pillow's rotation matrix (output pixel -> input position), for a w x h image.
struct Affine {
  double a[6];
  std::pair<double, double> apply(double x, double y) const {
    return {a[0] * x + a[1] * y + a[2], a[3] * x + a[4] * y + a[5]};
  }
};

Affine rotation(int w, int h, double degrees) {
  double angle = -(degrees * M_PI / 180.0);  // math.radians, then negated
  Affine m{{round15(std::cos(angle)), round15(std::sin(angle)), 0.0, round15(-std::sin(angle)),
            round15(std::cos(angle)), 0.0}};
  double cx = w / 2.0, cy = h / 2.0;
  auto [tx, ty] = m.apply(-cx - 0, -cy - 0);
  m.a[2] = tx + cx;
  m.a[5] = ty + cy;
  return m;
}

// expand: the canvas that holds the turned corners, and the matrix moved onto it.
std::pair<int64_t, int64_t> expanded(Affine& m, int w, int h) {
  double xs[4], ys[4];
  const double corners[4][2] = {{0, 0}, {double(w), 0}, {double(w), double(h)}, {0, double(h)}};
  for (int i = 0; i < 4; ++i) std::tie(xs[i], ys[i]) = m.apply(corners[i][0], corners[i][1]);
  int64_t nw = static_cast<int64_t>(std::ceil(*std::max_element(xs, xs + 4)) -
                                    std::floor(*std::min_element(xs, xs + 4)));
  int64_t nh = static_cast<int64_t>(std::ceil(*std::max_element(ys, ys + 4)) -
                                    std::floor(*std::min_element(ys, ys + 4)));
  auto [tx, ty] = m.apply(-(double(nw) - w) / 2.0, -(double(nh) - h) / 2.0);
  m.a[2] = tx;
  m.a[5] = ty;
  return {nw, nh};
}

// Nearest-neighbour affine sampling as Pillow's transform(AFFINE, NEAREST) does it: pixel
// centres mapped in 16.16 fixed point when every corner fits, else in floating point truncated
// toward -1; positions outside the input stay zero.
Pixels affine_nearest(const Pixels& in, const Affine& m, int ow, int oh) {
  Pixels out = blank(ow, oh, in.bands);
  const size_t b = sz(in.bands);
  auto copy_px = [&](int x, int y, int xin, int yin) {
    std::copy_n(in.data.data() + in.at(xin, yin), b, out.data.data() + out.at(x, y));
  };
  const double* a = m.a;
  auto fits = [&](double x, double y) {
    return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
  };
  if (fits(0, 0) && fits(ow, oh) && fits(0, oh) && fits(ow, 0)) {
    auto fix = [](double v) { return static_cast<int>(std::floor(v * 65536.0 + 0.5)); };
    int a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
    int a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
    for (int y = 0; y < oh; ++y, a2 += a1, a5 += a4) {
      int xx = a2, yy = a5;
      for (int x = 0; x < ow; ++x, xx += a0, yy += a3) {
        int xin = xx >> 16, yin = yy >> 16;  // arithmetic shift: floor
        if (xin >= 0 && xin < in.width && yin >= 0 && yin < in.height) copy_px(x, y, xin, yin);
      }
    }
    return out;
  }
  auto coord = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < oh; ++y, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    for (int x = 0; x < ow; ++x, xx += a[0], yy += a[3]) {
      int xin = coord(xx), yin = coord(yy);
      if (xin >= 0 && xin < in.width && yin >= 0 && yin < in.height) copy_px(x, y, xin, yin);
    }
  }
  return out;
}

// Pillow's transpositions: ROTATE_90 (counter-clockwise), ROTATE_180, ROTATE_270.
Pixels transpose(const Pixels& in, int quarter_turns) {
  const int w = in.width, h = in.height;
  Pixels out = blank(quarter_turns == 2 ? w : h, quarter_turns == 2 ? h : w, in.bands);
  const size_t b = sz(in.bands);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = quarter_turns == 1 ? w - 1 - y : quarter_turns == 2 ? w - 1 - x : y;
      int sy = quarter_turns == 1 ? x : quarter_turns == 2 ? h - 1 - y : h - 1 - x;
      std::copy_n(in.data.data() + in.at(sx, sy), b, out.data.data() + out.at(x, y));
    }
  }
  return out;
}

// Pillow's L24 luma: ITU-R 601-2 in 16-bit fixed point, rounded.
uint8_t luma(const unsigned char* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

// ---- Pillow's resampling (Resample.c), bicubic: the same coefficients in 22-bit fixed point,
// a horizontal pass, then a vertical one, each rounded to 8 bits ----

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> first, count;  // per output pixel: the first source pixel and how many
  std::vector<int> k;             // out_size * ksize weights in fixed point
};

// The source span [in0, in1) (Pillow passes the box as floats) onto out_size pixels.
Coeffs coeffs(int in_size, float in0, float in1, int out_size) {
  double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = std::max(scale, 1.0);
  double support = 2.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(sz(out_size));
  c.count.resize(sz(out_size));
  c.k.assign(sz(out_size) * sz(c.ksize), 0);
  std::vector<double> w(sz(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    double center = in0 + (xx + 0.5) * scale, ss = 1.0 / filterscale, ww = 0.0;
    int xmin = std::max(0, static_cast<int>(center - support + 0.5));
    int xmax = std::min(in_size, static_cast<int>(center + support + 0.5)) - xmin;
    for (int x = 0; x < xmax; ++x) {
      w[sz(x)] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[sz(x)];
    }
    int* k = &c.k[sz(xx) * sz(c.ksize)];
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[sz(x)] / ww : w[sz(x)];
      k[x] = static_cast<int>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.first[sz(xx)] = xmin;
    c.count[sz(xx)] = std::max(xmax, 0);
  }
  return c;
}

uint8_t clip8(int64_t v) {
  int64_t q = v >> kPrecisionBits;  // arithmetic: floor
  return static_cast<uint8_t>(q < 0 ? 0 : q > 255 ? 255 : q);
}

// Pillow's ImagingResample for 8-bit images, box = the source area.
Pixels resample_exact(const Pixels& in, int w, int h, const float box[4]) {
  const size_t b = sz(in.bands);
  bool horizontal = w != in.width || box[0] != 0 || box[2] != static_cast<float>(w);
  bool vertical = h != in.height || box[1] != 0 || box[3] != static_cast<float>(h);
  Coeffs hc = coeffs(in.width, box[0], box[2], w), vc = coeffs(in.height, box[1], box[3], h);
  const auto* src = reinterpret_cast<const unsigned char*>(in.data.data());
  Pixels cur = in;
  if (horizontal) {
    int y0 = vc.first[0], y1 = vc.first[sz(h - 1)] + vc.count[sz(h - 1)];
    Pixels tmp = blank(w, y1 - y0, in.bands);
    auto* out = reinterpret_cast<unsigned char*>(tmp.data.data());
    for (int y = 0; y < tmp.height; ++y) {
      const unsigned char* row = src + in.at(0, y + y0);
      for (int x = 0; x < w; ++x) {
        const int* k = &hc.k[sz(x) * sz(hc.ksize)];
        for (size_t c = 0; c < b; ++c) {
          int64_t ss = 1 << (kPrecisionBits - 1);
          for (int i = 0; i < hc.count[sz(x)]; ++i)
            ss += row[sz(hc.first[sz(x)] + i) * b + c] * int64_t{k[i]};
          out[tmp.at(x, y) + c] = clip8(ss);
        }
      }
    }
    for (auto& f : vc.first) f -= y0;
    cur = std::move(tmp);
  }
  if (!vertical) return cur;
  Pixels out = blank(cur.width, h, in.bands);
  const auto* csrc = reinterpret_cast<const unsigned char*>(cur.data.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data.data());
  for (int y = 0; y < h; ++y) {
    const int* k = &vc.k[sz(y) * sz(vc.ksize)];
    for (int x = 0; x < cur.width; ++x) {
      for (size_t c = 0; c < b; ++c) {
        int64_t ss = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < vc.count[sz(y)]; ++i)
          ss += csrc[cur.at(x, vc.first[sz(y)] + i) + c] * int64_t{k[i]};
        dst[out.at(x, y) + c] = clip8(ss);
      }
    }
  }
  return out;
}

}  // namespace

std::pair<int64_t, int64_t> rotated_size(int width, int height, double degrees, bool expand) {
  double angle = py_mod360(degrees);
  if (!expand || angle == 0 || angle == 180) return {width, height};
  if (angle == 90 || angle == 270) return {height, width};
  Affine m = rotation(width, height, angle);
  return expanded(m, width, height);
}

Pixels rotate(const Pixels& in, double degrees, bool expand) {
  double angle = py_mod360(degrees);
  if (angle == 0) return in;
  if (angle == 180) return transpose(in, 2);
  if ((angle == 90 || angle == 270) && (expand || in.width == in.height)) {
    return transpose(in, angle == 90 ? 1 : 3);
  }
  Affine m = rotation(in.width, in.height, angle);
  int64_t ow = in.width, oh = in.height;
  if (expand) std::tie(ow, oh) = expanded(m, in.width, in.height);
  return affine_nearest(in, m, static_cast<int>(ow), static_cast<int>(oh));
}

int mode_bands(std::string_view mode) {
  if (mode == "L") return 1;
  if (mode == "LA") return 2;
  if (mode == "RGB") return 3;
  if (mode == "RGBA") return 4;
  return 0;
}

std::optional<Pixels> convert(const Pixels& in, std::string_view mode) {
  const int ob = mode_bands(mode);
  if (ob == 0) return std::nullopt;
  if (ob == in.bands) return in;
  Pixels out = blank(in.width, in.height, ob);
  const size_t n = sz(in.width) * sz(in.height);
  const auto* src = reinterpret_cast<const unsigned char*>(in.data.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data.data());
  const bool in_color = in.bands >= 3, in_alpha = in.bands == 2 || in.bands == 4;
  for (size_t i = 0; i < n; ++i, src += in.bands, dst += ob) {
    uint8_t l = in_color ? luma(src) : src[0];
    uint8_t alpha = in_alpha ? src[in.bands - 1] : 255;
    if (ob <= 2) {
      dst[0] = l;
    } else {
      dst[0] = in_color ? src[0] : l;
      dst[1] = in_color ? src[1] : l;
      dst[2] = in_color ? src[2] : l;
    }
    if (ob == 2 || ob == 4) dst[ob - 1] = alpha;
  }
  return out;
}

Pixels crop(const Pixels& in, int64_t left, int64_t upper, int64_t right, int64_t lower) {
  Pixels out = blank(static_cast<int>(right - left), static_cast<int>(lower - upper), in.bands);
  int64_t x0 = std::max<int64_t>(left, 0), x1 = std::min<int64_t>(right, in.width);
  int64_t y0 = std::max<int64_t>(upper, 0), y1 = std::min<int64_t>(lower, in.height);
  if (x1 <= x0 || y1 <= y0) return out;
  const size_t row = sz(x1 - x0) * sz(in.bands);
  for (int64_t y = y0; y < y1; ++y) {
    std::copy_n(in.data.data() + in.at(static_cast<int>(x0), static_cast<int>(y)), row,
                out.data.data() + out.at(static_cast<int>(x0 - left), static_cast<int>(y - upper)));
  }
  return out;
}

std::pair<int, int> thumbnail_size(int width, int height, int max_w, int max_h) {
  if (max_w >= width && max_h >= height) return {width, height};
  // round_aspect: floor or ceil of number, whichever keeps the aspect ratio closer; at least 1.
  auto round_aspect = [](double number, auto key) {
    double lo = std::floor(number), hi = std::ceil(number);
    return static_cast<int>(std::max(key(hi) < key(lo) ? hi : lo, 1.0));
  };
  double aspect = static_cast<double>(width) / height;
  int x = max_w, y = max_h;
  if (static_cast<double>(x) / y >= aspect) {
    x = round_aspect(y * aspect, [&](double n) { return std::fabs(aspect - n / y); });
  } else {
    y = round_aspect(x / aspect, [&](double n) { return n == 0 ? 0.0 : std::fabs(aspect - x / n); });
  }
  return {x, y};
}

Pixels resize(const Pixels& in, int w, int h) {
  if (in.width == w && in.height == h) return in;
  const float box[4] = {0, 0, static_cast<float>(in.width), static_cast<float>(in.height)};
  const bool alpha = in.bands == 2 || in.bands == 4;
  if (!alpha) return resample_exact(in, w, h, box);
  // Pillow resizes RGBA as RGBa (premultiplied, rounded as its MULDIV255) and converts back with
  // an integer division.
  Pixels pre = in;
  const size_t n = sz(in.width) * sz(in.height), b = sz(in.bands);
  auto* p = reinterpret_cast<unsigned char*>(pre.data.data());
  for (size_t i = 0; i < n; ++i, p += b) {
    unsigned a = p[b - 1];
    if (a == 255) continue;
    for (size_t c = 0; c + 1 < b; ++c) {
      unsigned t = p[c] * a + 128;
      p[c] = a == 0 ? 0 : static_cast<unsigned char>(((t >> 8) + t) >> 8);
    }
  }
  Pixels out = resample_exact(pre, w, h, box);
  auto* q = reinterpret_cast<unsigned char*>(out.data.data());
  for (size_t i = 0; i < sz(w) * sz(h); ++i, q += b) {
    unsigned a = q[b - 1];
    if (a == 255 || a == 0) continue;
    for (size_t c = 0; c + 1 < b; ++c) q[c] = static_cast<unsigned char>(std::min(255u, (255u * q[c]) / a));
  }
  return out;
}

}  // namespace pxt::imageops
