#pragma once
// Time zones for Timestamp values (doc/timestamps.md): the zone a naive value is read in, and the
// zone answers are written in. A zone is an IANA name read from the system's tzdata
// (/usr/share/zoneinfo, or $TZDIR: the TZif files, their transitions and the POSIX rule that
// extends them past the last one), "UTC", or a fixed offset ("+05:30", "-0800").
//
// Thread-safety: a TimeZone is immutable and cheap to copy (shared data); the process default
// is swapped atomically.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pxt {

class TimeZone {
 public:
  // UTC.
  TimeZone();
  // Error: invalid_argument "unknown time zone 'Europ/Paris' (...), did you mean 'Europe/Paris'?",
  // or naming the corrupt TZif file.
  static Result<TimeZone> load(std::string_view name);
  static TimeZone utc() { return TimeZone(); }

  // The name it was loaded by ("UTC" by default).
  const std::string& name() const;
  bool is_utc() const;
  // Seconds east of UTC in effect at the instant utc_seconds.
  int offset_at(int64_t utc_seconds) const;
  // The offset for a wall-clock time, as Python's zoneinfo gives it with fold=0 (what Pixeltable
  // applies to a naive datetime): in a repeated hour the first (earlier) offset, in a skipped
  // hour the offset from before the change.
  int offset_for_local(int64_t local_seconds) const;

  struct Data;

 private:
  friend TimeZone default_time_zone();
  friend void set_default_time_zone(TimeZone z);
  explicit TimeZone(std::shared_ptr<const Data> d) : d_(std::move(d)) {}
  std::shared_ptr<const Data> d_;
};

// The zone of naive values and answers in this process: UTC until set. pxt sets it from the
// home's setting when a command opens the store, and `pxt serve` from [service] time_zone.
TimeZone default_time_zone();
void set_default_time_zone(TimeZone z);

}  // namespace pxt
