#pragma once
// Validation of the text forms of Timestamp (ISO 8601) and Date (YYYY-MM-DD) values. The reasons
// follow pydantic v2 (speedate) wording so HTTP 422 messages read like FastAPI's. Pure, thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "store/model/time_zone.hpp"

namespace pxt {

// nullopt when s is a valid date, else the reason ("month value is outside expected range of 1-12").
std::optional<std::string> check_date(std::string_view s);
// nullopt when s is a valid ISO 8601 datetime: YYYY-MM-DD, optionally followed by T or a space,
// HH:MM[:SS[.fraction]] and an optional zone (Z, +HH:MM, +HHMM); else the reason.
std::optional<std::string> check_timestamp(std::string_view s);

// ---- Timestamps as instants (doc/timestamps.md) ----
// A Timestamp value read as pydantic v2 reads a datetime: an ISO 8601 date-time (T, t, _ or a
// space between date and time; seconds, fraction and zone optional), a date alone (midnight),
// or a number given as text (Unix time: seconds, milliseconds beyond 2e10 in magnitude). A value
// without a zone is a wall-clock time in `zone`. Returns microseconds since 1970-01-01 UTC, or
// the reason in pydantic's words ("invalid character in hour").
std::variant<int64_t, std::string> parse_instant(std::string_view s, const TimeZone& zone);
// A number of seconds (milliseconds beyond 2e10 in magnitude) since the epoch, as pydantic reads
// a number for a datetime; nullopt when outside years 1..9999.
std::optional<int64_t> instant_from_number(double d);
// Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31), any year.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
// The stored form: UTC, fixed width, so text order is time order and equal instants are equal
// texts: "2024-01-02T03:04:05.000000Z".
std::string stored_instant(int64_t micros);
// The answer form, pydantic v2's JSON of an aware datetime, in `zone`:
// "2024-01-02T04:04:05+01:00"; "Z" for a zero offset; ".ffffff" only when there are microseconds.
std::string answer_instant(int64_t micros, const TimeZone& zone);
// A stored Timestamp text in its answer form in `zone`; text that is not a timestamp is returned as it is.
std::string answer_timestamp_text(std::string_view stored, const TimeZone& zone);
// Any accepted spelling in its stored form (naive values in `zone`); nullopt when not a timestamp.
std::optional<std::string> normalize_timestamp(std::string_view s, const TimeZone& zone);

}  // namespace pxt
