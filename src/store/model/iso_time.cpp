#include "store/model/iso_time.hpp"

#include <cmath>
#include <cstdio>

namespace pxt {

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::optional<std::string> check_date_prefix(std::string_view s) {
  if (s.size() < 10) return "input is too short";
  int y = 0, m = 0, d = 0;
  if (!digits(s, 0, 4, y)) return "invalid character in year";
  if (s[4] != '-') return "invalid date separator, expected `-`";
  if (!digits(s, 5, 2, m)) return "invalid character in month";
  if (s[7] != '-') return "invalid date separator, expected `-`";
  if (!digits(s, 8, 2, d)) return "invalid character in day";
  if (m < 1 || m > 12) return "month value is outside expected range of 1-12";
  if (d < 1 || d > days_in_month(y, m)) return "day value is outside expected range";
  return std::nullopt;
}

std::optional<std::string> check_zone(std::string_view z) {
  if (z.empty()) return std::nullopt;
  if (z == "Z" || z == "z") return std::nullopt;
  if (z[0] != '+' && z[0] != '-') return "invalid timezone sign";
  int h = 0, m = 0;
  if (!digits(z, 1, 2, h)) return "invalid timezone hour";
  size_t pos = 3;
  if (pos < z.size() && z[pos] == ':') ++pos;
  if (!digits(z, pos, 2, m)) return "invalid timezone minute";
  if (pos + 2 != z.size()) return "unexpected extra characters at the end of the input";
  if (h > 23 || m > 59) return "timezone offset must be less than 24 hours";
  return std::nullopt;
}

std::optional<std::string> check_time(std::string_view t) {
  int h = 0, m = 0, sec = 0;
  if (t.size() < 5) return "input is too short";
  if (!digits(t, 0, 2, h)) return "invalid character in hour";
  if (t[2] != ':') return "invalid time separator, expected `:`";
  if (!digits(t, 3, 2, m)) return "invalid character in minute";
  if (h > 23) return "hour value is outside expected range of 0-23";
  if (m > 59) return "minute value is outside expected range of 0-59";
  size_t pos = 5;
  if (pos < t.size() && t[pos] == ':') {
    if (!digits(t, pos + 1, 2, sec)) return "invalid character in second";
    if (sec > 59) return "second value is outside expected range of 0-59";
    pos += 3;
    if (pos < t.size() && (t[pos] == '.' || t[pos] == ',')) {
      size_t start = ++pos;
      while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
      if (pos == start) return "invalid character in second fraction";
      if (pos - start > 9) return "second fraction value is more than 9 digits long";
    }
  }
  return check_zone(t.substr(pos));
}

constexpr int64_t kMicros = 1000000;
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, Python's datetime range.
constexpr int64_t kMinMicros = -62135596800LL * kMicros;
constexpr int64_t kMaxMicros = 253402300800LL * kMicros - 1;

struct Civil {
  int64_t year;
  int month, day, hour, minute, second, micro;
};

Civil civil_from_micros(int64_t micros) {
  int64_t secs = micros / kMicros, frac = micros % kMicros;
  if (frac < 0) {
    frac += kMicros;
    secs -= 1;
  }
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c{};
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.micro = static_cast<int>(frac);
  return c;
}

// A number written as text ("1700000000", "-1.5e3"): pydantic reads it as Unix time.
std::optional<double> numeric_text(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  bool digit = false;
  for (size_t k = i; k < s.size(); ++k) {
    char ch = s[k];
    if (ch >= '0' && ch <= '9') {
      digit = true;
    } else if (ch != '.' && ch != 'e' && ch != 'E' && !((ch == '+' || ch == '-') && k > i)) {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return d;
}

}  // namespace

std::optional<std::string> check_date(std::string_view s) {
  if (auto err = check_date_prefix(s)) return err;
  if (s.size() != 10) return "unexpected extra characters at the end of the input";
  return std::nullopt;
}

std::optional<std::string> check_timestamp(std::string_view s) {
  if (auto err = check_date_prefix(s)) return err;
  if (s.size() == 10) return std::nullopt;
  char sep = s[10];
  if (sep != 'T' && sep != 't' && sep != ' ' && sep != '_') {
    return "invalid datetime separator, expected `T`, `t`, `_` or space";
  }
  return check_time(s.substr(11));
}

}  // namespace pxt

namespace pxt {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> instant_from_number(double d) {
  if (!std::isfinite(d)) return std::nullopt;
  double seconds = std::fabs(d) > 2e10 ? d / 1000.0 : d;
  if (seconds < -62135596800.0 || seconds >= 253402300800.0) return std::nullopt;
  return static_cast<int64_t>(std::llround(seconds * 1e6));
}

std::variant<int64_t, std::string> parse_instant(std::string_view s, const TimeZone& zone) {
  if (auto n = numeric_text(s)) {
    if (auto us = instant_from_number(*n)) return *us;
    return std::string("dates after 9999 are not supported");
  }
  if (auto reason = check_timestamp(s)) return *reason;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  digits(s, 0, 4, y);
  digits(s, 5, 2, mo);
  digits(s, 8, 2, d);
  int64_t micro = 0;
  std::optional<int> offset;  // seconds east; nullopt: naive
  if (s.size() > 10) {
    std::string_view t = s.substr(11);
    digits(t, 0, 2, h);
    digits(t, 3, 2, mi);
    size_t pos = 5;
    if (pos < t.size() && t[pos] == ':') {
      digits(t, pos + 1, 2, sec);
      pos += 3;
      if (pos < t.size() && (t[pos] == '.' || t[pos] == ',')) {
        size_t start = ++pos;
        int64_t scale = 100000;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
          if (pos - start < 6) micro += (t[pos] - '0') * scale;  // beyond microseconds: truncated
          scale /= 10;
          ++pos;
        }
      }
    }
    std::string_view z = t.substr(pos);
    if (z == "Z" || z == "z") {
      offset = 0;
    } else if (!z.empty()) {
      int zh = 0, zm = 0;
      digits(z, 1, 2, zh);
      digits(z, z.size() - 2, 2, zm);
      offset = (z[0] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
    }
  }
  int64_t local = (days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                   h * 3600 + mi * 60 + sec);
  int64_t utc = local - (offset ? *offset : zone.offset_for_local(local));
  int64_t micros = utc * kMicros + micro;
  if (micros < kMinMicros || micros > kMaxMicros)
    return std::string("the time is outside years 1 to 9999 in UTC");
  return micros;
}

std::string stored_instant(int64_t micros) {
  Civil c = civil_from_micros(micros);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second, c.micro);
  return buf;
}

std::string answer_instant(int64_t micros, const TimeZone& zone) {
  int offset = zone.offset_at(micros >= 0 ? micros / kMicros : (micros - kMicros + 1) / kMicros);
  Civil c = civil_from_micros(micros + int64_t{offset} * kMicros);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year),
                        c.month, c.day, c.hour, c.minute, c.second);
  if (c.micro != 0) n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06d", c.micro);
  if (offset == 0) {
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "Z");
  } else {
    int a = offset < 0 ? -offset : offset;
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "%c%02d:%02d", offset < 0 ? '-' : '+',
                  a / 3600, a / 60 % 60);
  }
  return buf;
}

std::optional<std::string> normalize_timestamp(std::string_view s, const TimeZone& zone) {
  auto r = parse_instant(s, zone);
  if (const auto* us = std::get_if<int64_t>(&r)) return stored_instant(*us);
  return std::nullopt;
}

std::string answer_timestamp_text(std::string_view stored, const TimeZone& zone) {
  auto r = parse_instant(stored, zone);
  if (const auto* us = std::get_if<int64_t>(&r)) return answer_instant(*us, zone);
  return std::string(stored);
}

}  // namespace pxt
