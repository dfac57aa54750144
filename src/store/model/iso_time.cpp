#include "store/model/iso_time.hpp"

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
