// TZif reading (RFC 8536, version 2+ data) and POSIX TZ rules (the footer that extends a zone past
// its last listed transition, e.g. "CET-1CEST,M3.5.0,M10.5.0/3"). See store/model/time_zone.hpp.
#include "store/model/time_zone.hpp"
#include "store/model/iso_time.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

#include "util/strings.hpp"

namespace pxt {

// Named, not anonymous: TimeZone::Data holds these types, and a class with members of an
// anonymous namespace's types warns (-Wsubobject-linkage) when the file is part of a unity batch.
namespace tz_rules {

struct Transition {
  int64_t at;  // UTC seconds
  int before;  // offsets east of UTC, in seconds
  int after;
};

// A POSIX TZ rule's date: Mm.w.d (month, week 1-5 with 5 the last, weekday 0 = Sunday), Jn
// (day 1-365, February 29 never counted) or n (day 0-365), at `time` seconds of local wall time.
struct RuleDate {
  char kind = 'M';
  int month = 0, week = 0, weekday = 0, day = 0;
  int64_t time = 7200;
};

struct Rule {
  int std_offset = 0;  // east of UTC
  bool has_dst = false;
  int dst_offset = 0;
  RuleDate start, end;
};

int64_t year_of(int64_t seconds) {
  int64_t z = (seconds >= 0 ? seconds : seconds - 86399) / 86400 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp + (mp < 10 ? 3 : -9);
  return static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Local wall-clock seconds (since the epoch) at which d happens in year y.
int64_t rule_local(const RuleDate& d, int64_t y) {
  int64_t day = 0;
  if (d.kind == 'J') {
    day = days_from_civil(y, 1, 1) + d.day - 1 + (leap(y) && d.day >= 60 ? 1 : 0);
  } else if (d.kind == 'N') {
    day = days_from_civil(y, 1, 1) + d.day;
  } else {
    int64_t first = days_from_civil(y, static_cast<unsigned>(d.month), 1);
    int first_wd = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    int64_t dom = 1 + ((d.weekday - first_wd + 7) % 7) + 7 * (d.week - 1);
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = kDays[d.month - 1] + (d.month == 2 && leap(y) ? 1 : 0);
    while (dom > dim) dom -= 7;
    day = first + dom - 1;
  }
  return day * 86400 + d.time;
}

// The rule's two changes in year y, as transitions (UTC), in time order.
std::vector<Transition> rule_transitions(const Rule& r, int64_t y) {
  std::vector<Transition> out;
  if (!r.has_dst) return out;
  out.push_back({rule_local(r.start, y) - r.std_offset, r.std_offset, r.dst_offset});
  out.push_back({rule_local(r.end, y) - r.dst_offset, r.dst_offset, r.std_offset});
  if (out[1].at < out[0].at) std::swap(out[0], out[1]);
  return out;
}

// ---- POSIX TZ string parsing ----

struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
};

bool parse_name(Cursor& c) {
  if (c.peek() == '<') {
    size_t close = c.s.find('>', c.i);
    if (close == std::string_view::npos) return false;
    c.i = close + 1;
    return true;
  }
  size_t start = c.i;
  while (!c.done() && std::isalpha(static_cast<unsigned char>(c.peek()))) ++c.i;
  return c.i - start >= 3;
}

// [+-]hh[:mm[:ss]] as seconds.
std::optional<int64_t> parse_hms(Cursor& c) {
  int sign = 1;
  if (c.peek() == '+' || c.peek() == '-') sign = c.s[c.i++] == '-' ? -1 : 1;
  int64_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (c.peek() != ':') break;
      ++c.i;
    }
    size_t start = c.i;
    int64_t v = 0;
    while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) v = v * 10 + (c.s[c.i++] - '0');
    if (c.i == start) return std::nullopt;
    total += v * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  return sign * total;
}

std::optional<int> parse_int(Cursor& c) {
  size_t start = c.i;
  int v = 0;
  while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) v = v * 10 + (c.s[c.i++] - '0');
  if (c.i == start) return std::nullopt;
  return v;
}

std::optional<RuleDate> parse_date(Cursor& c) {
  RuleDate d;
  if (c.peek() == 'M') {
    ++c.i;
    auto m = parse_int(c);
    if (!m || c.peek() != '.') return std::nullopt;
    ++c.i;
    auto w = parse_int(c);
    if (!w || c.peek() != '.') return std::nullopt;
    ++c.i;
    auto wd = parse_int(c);
    if (!wd || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *wd > 6) return std::nullopt;
    d.month = *m;
    d.week = *w;
    d.weekday = *wd;
  } else {
    d.kind = c.peek() == 'J' ? 'J' : 'N';
    if (d.kind == 'J') ++c.i;
    auto n = parse_int(c);
    if (!n) return std::nullopt;
    d.day = *n;
  }
  if (c.peek() == '/') {
    ++c.i;
    auto t = parse_hms(c);
    if (!t) return std::nullopt;
    d.time = *t;
  }
  return d;
}

std::optional<Rule> parse_rule(std::string_view tz) {
  Cursor c{tz};
  Rule r;
  if (!parse_name(c)) return std::nullopt;
  auto std_off = parse_hms(c);
  if (!std_off) return std::nullopt;
  r.std_offset = static_cast<int>(-*std_off);  // POSIX offsets count hours west
  if (c.done()) return r;
  if (!parse_name(c)) return std::nullopt;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (c.peek() != ',' && !c.done()) {
    auto dst_off = parse_hms(c);
    if (!dst_off) return std::nullopt;
    r.dst_offset = static_cast<int>(-*dst_off);
  }
  if (c.peek() != ',') return std::nullopt;  // no rule: nothing to extend with
  ++c.i;
  auto start = parse_date(c);
  if (!start || c.peek() != ',') return std::nullopt;
  ++c.i;
  auto end = parse_date(c);
  if (!end || !c.done()) return std::nullopt;
  r.start = *start;
  r.end = *end;
  return r;
}

}  // namespace tz_rules

using namespace tz_rules;

struct TimeZone::Data {
  std::string name;
  bool utc = false;
  int initial = 0;                 // offset before the first transition
  std::vector<Transition> listed;  // from the file, in order
  std::optional<Rule> rule;        // past the last listed transition

  // The rule's transitions around t (UTC or local seconds: a year's margin covers both) that
  // come after the last listed one.
  std::vector<Transition> extra(int64_t t) const {
    std::vector<Transition> out;
    if (!rule || !rule->has_dst) return out;
    int64_t y = year_of(t);
    int64_t last = listed.empty() ? INT64_MIN : listed.back().at;
    for (int64_t yy = y - 1; yy <= y + 1; ++yy) {
      for (const Transition& tr : rule_transitions(*rule, yy))
        if (tr.at > last) out.push_back(tr);
    }
    return out;
  }
  // The offset after the last listed transition (or the only one).
  int settled() const {
    if (!listed.empty()) return listed.back().after;
    return rule ? rule->std_offset : initial;
  }
  int base() const {
    if (!listed.empty()) return listed.front().before;
    return rule ? rule->std_offset : initial;
  }
};

namespace {

std::shared_ptr<const TimeZone::Data> utc_data() {
  static auto d = [] {
    auto p = std::make_shared<TimeZone::Data>();
    p->name = "UTC";
    p->utc = true;
    return std::shared_ptr<const TimeZone::Data>(p);
  }();
  return d;
}

// "+05:30", "-0800", "+05": a fixed offset.
std::optional<int> fixed_offset(std::string_view s) {
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  auto digit = [&](size_t i) { return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); };
  if (!digit(1) || !digit(2)) return std::nullopt;
  int h = (s[1] - '0') * 10 + (s[2] - '0'), m = 0;
  size_t i = 3;
  if (i < s.size() && s[i] == ':') ++i;
  if (i < s.size()) {
    if (!digit(i) || !digit(i + 1) || i + 2 != s.size()) return std::nullopt;
    m = (s[i] - '0') * 10 + (s[i + 1] - '0');
  }
  if (h > 23 || m > 59) return std::nullopt;
  return (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

int64_t be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

std::string tz_dir() {
  const char* d = std::getenv("TZDIR");
  return d != nullptr && *d != '\0' ? d : "/usr/share/zoneinfo";
}

std::vector<std::string> zone_names() {
  std::vector<std::string> out;
  std::error_code ec;
  std::string root = tz_dir();
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = it->path().string().substr(root.size() + 1);
    if (rel.find('.') == std::string::npos && !rel.empty() &&
        std::isupper(static_cast<unsigned char>(rel[0])))
      out.push_back(rel);
  }
  return out;
}

Error unknown_zone(std::string_view name) {
  return make_error(Errc::invalid_argument, "unknown time zone '" + std::string(name) +
                                                "' (expected an IANA name such as 'Europe/Paris' from " +
                                                tz_dir() + ", 'UTC', or an offset such as '+05:30')" +
                                                did_you_mean(name, zone_names()));
}

// Parses a TZif file's version 2+ block and footer.
Result<std::shared_ptr<TimeZone::Data>> parse_tzif(const std::string& bytes, std::string_view name) {
  auto corrupt = [&] {
    return make_error(Errc::invalid_argument,
                      "time zone file for '" + std::string(name) + "' is not valid TZif data");
  };
  auto u = [&](size_t i) { return reinterpret_cast<const unsigned char*>(bytes.data()) + i; };
  if (bytes.size() < 44 || bytes.compare(0, 4, "TZif") != 0) return corrupt();
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int k = 0; k < 6; ++k) c[k] = be(u(at + 20 + 4 * static_cast<size_t>(k)), 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t pos = 44;
  bool v2 = bytes[4] >= '2';
  if (v2) {  // skip the 32-bit block
    pos += static_cast<size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (pos + 44 > bytes.size() || bytes.compare(pos, 4, "TZif") != 0) return corrupt();
    counts(pos, c);
    pos += 44;
  }
  const int tsize = v2 ? 8 : 4;
  size_t need = static_cast<size_t>(c[3] * (tsize + 1) + c[4] * 6 + c[5] + c[2] * (tsize + 4) + c[1] + c[0]);
  if (c[4] < 1 || pos + need > bytes.size()) return corrupt();
  auto d = std::make_shared<TimeZone::Data>();
  d->name = std::string(name);
  std::vector<int64_t> times(static_cast<size_t>(c[3]));
  for (size_t i = 0; i < times.size(); ++i) times[i] = be(u(pos + i * static_cast<size_t>(tsize)), tsize);
  size_t idx_at = pos + times.size() * static_cast<size_t>(tsize);
  size_t types_at = idx_at + times.size();
  std::vector<int> offsets(static_cast<size_t>(c[4]));
  for (size_t k = 0; k < offsets.size(); ++k) offsets[k] = static_cast<int>(be(u(types_at + 6 * k), 4));
  d->initial = offsets[0];
  int prev = offsets[0];
  for (size_t i = 0; i < times.size(); ++i) {
    size_t t = *u(idx_at + i);
    if (t >= offsets.size()) return corrupt();
    d->listed.push_back({times[i], prev, offsets[t]});
    prev = offsets[t];
  }
  if (v2) {
    size_t footer = pos + need;
    if (footer < bytes.size() && bytes[footer] == '\n') {
      size_t end = bytes.find('\n', footer + 1);
      if (end != std::string::npos)
        d->rule = parse_rule(std::string_view(bytes).substr(footer + 1, end - footer - 1));
    }
  }
  if (d->listed.empty() && !d->rule) d->utc = offsets[0] == 0;
  return d;
}

std::atomic<std::shared_ptr<const TimeZone::Data>> g_default;  // null: UTC

}  // namespace

TimeZone::TimeZone() : d_(utc_data()) {}

Result<TimeZone> TimeZone::load(std::string_view name_in) {
  std::string name(trim(name_in));
  if (name.empty() || iequals(name, "UTC") || iequals(name, "Z") || name == "Etc/UTC") return TimeZone();
  if (auto off = fixed_offset(name)) {
    auto d = std::make_shared<Data>();
    d->name = name;
    d->initial = *off;
    d->utc = *off == 0;
    return TimeZone(std::shared_ptr<const Data>(d));
  }
  // A relative path of names: no "..", no absolute path, nothing but what tzdata uses.
  bool plain = std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' || ch == '+';
  });
  if (!plain || name.front() == '/' || name.find("//") != std::string::npos) return unknown_zone(name);
  std::ifstream f(tz_dir() + "/" + name, std::ios::binary);
  if (!f) return unknown_zone(name);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  PXT_TRY(auto d, parse_tzif(bytes, name));
  return TimeZone(std::shared_ptr<const Data>(d));
}

const std::string& TimeZone::name() const { return d_->name; }

bool TimeZone::is_utc() const { return d_->utc; }

int TimeZone::offset_at(int64_t utc_seconds) const {
  if (d_->utc) return 0;
  const auto& ts = d_->listed;
  auto before = [](int64_t t, const Transition& tr) { return t < tr.at; };
  if (!ts.empty() && utc_seconds < ts.back().at) {
    auto it = std::upper_bound(ts.begin(), ts.end(), utc_seconds, before);
    return it == ts.begin() ? d_->base() : std::prev(it)->after;
  }
  std::vector<Transition> more = d_->extra(utc_seconds);
  auto it = std::upper_bound(more.begin(), more.end(), utc_seconds, before);
  return it == more.begin() ? d_->settled() : std::prev(it)->after;
}

int TimeZone::offset_for_local(int64_t local) const {
  if (d_->utc) return 0;
  // zoneinfo's fold=0: a change takes effect at its UTC instant plus the larger of the two
  // offsets, so the skipped and the repeated hour both still belong to the earlier offset.
  auto wall = [](const Transition& tr) { return tr.at + std::max(tr.before, tr.after); };
  auto before = [&](int64_t t, const Transition& tr) { return t < wall(tr); };
  const auto& ts = d_->listed;
  if (!ts.empty() && local < wall(ts.back())) {
    auto it = std::upper_bound(ts.begin(), ts.end(), local, before);
    return it == ts.begin() ? d_->base() : std::prev(it)->after;
  }
  std::vector<Transition> more = d_->extra(local);
  auto it = std::upper_bound(more.begin(), more.end(), local, before);
  return it == more.begin() ? d_->settled() : std::prev(it)->after;
}

TimeZone default_time_zone() {
  auto d = g_default.load();
  return d ? TimeZone(d) : TimeZone();
}

void set_default_time_zone(TimeZone z) { g_default.store(z.is_utc() ? nullptr : z.d_); }

}  // namespace pxt
