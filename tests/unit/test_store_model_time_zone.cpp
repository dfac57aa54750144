// Issue 12, point 17: time zones and instants (doc/timestamps.md). The expected values are Python's
// (datetime + zoneinfo on the same tzdata): a naive time resolved with fold=0, answers as pydantic
// writes an aware datetime, and zones past their last listed transition (the TZif footer's rule).
#include <doctest/doctest.h>

#include "store/model/iso_time.hpp"
#include "store/model/time_zone.hpp"

using namespace pxt;

namespace {

int64_t micros(std::string_view s, const TimeZone& z) {
  auto r = parse_instant(s, z);
  REQUIRE_MESSAGE(std::holds_alternative<int64_t>(r), std::get<std::string>(r));
  return std::get<int64_t>(r);
}
int64_t secs(std::string_view s, const char* zone) {
  return micros(s, TimeZone::load(zone).take()) / 1000000;
}

}  // namespace

TEST_CASE("naive wall-clock times resolve as zoneinfo's fold=0") {
  CHECK(secs("2024-07-01T12:00:00", "Europe/Paris") == 1719828000);
  CHECK(secs("2100-07-01T12:00:00", "Europe/Paris") == 4118119200);  // past the listed transitions
  CHECK(secs("2100-12-01T12:00:00", "Europe/Paris") == 4131342000);
  CHECK(secs("2100-01-15T12:00:00", "Australia/Sydney") == 4103658000);  // southern summer
  CHECK(secs("2100-07-15T12:00:00", "Australia/Sydney") == 4119300000);
  CHECK(secs("2024-03-10T02:30:00", "America/New_York") == 1710055800);  // skipped hour
  CHECK(secs("2024-11-03T01:30:00", "America/New_York") == 1730611800);  // repeated hour: the first
  CHECK(secs("1940-01-01T00:00:00", "Asia/Kolkata") == -946791000);
  CHECK(secs("2024-06-01T00:00:00", "America/Sao_Paulo") == 1717210800);
  CHECK(secs("2024-06-01T00:00:00", "+05:30") == 1717180200);
  CHECK(secs("2024-06-01T00:00:00+00:00", "Asia/Kolkata") == 1717200000);  // an offset wins
}

TEST_CASE("answers: pydantic's form in the zone") {
  auto paris = TimeZone::load("Europe/Paris").take();
  CHECK(answer_instant(int64_t{1719828000} * 1000000, paris) == "2024-07-01T12:00:00+02:00");
  CHECK(answer_instant(int64_t{4117968000} * 1000000, paris) == "2100-06-29T18:00:00+02:00");
  CHECK(answer_instant(int64_t{4102444800} * 1000000, TimeZone::load("Australia/Sydney").take()) ==
        "2100-01-01T11:00:00+11:00");
  CHECK(answer_instant(int64_t{1730611800} * 1000000, TimeZone::load("America/New_York").take()) ==
        "2024-11-03T01:30:00-04:00");
  CHECK(answer_instant(1500000, TimeZone::utc()) == "1970-01-01T00:00:01.500000Z");
  CHECK(answer_instant(-1, TimeZone::utc()) == "1969-12-31T23:59:59.999999Z");
  CHECK(answer_instant(0, TimeZone::load("Europe/London").take()) == "1970-01-01T01:00:00+01:00");
  CHECK(stored_instant(micros("2024-01-02 05:04:05.5+02:00", TimeZone::utc())) ==
        "2024-01-02T03:04:05.500000Z");
}

TEST_CASE("spellings and errors") {
  TimeZone utc;
  CHECK(stored_instant(micros("2024-01-02", utc)) == "2024-01-02T00:00:00.000000Z");
  CHECK(stored_instant(micros("1704164645", utc)) == "2024-01-02T03:04:05.000000Z");
  CHECK(stored_instant(micros("1704164645000", utc)) == "2024-01-02T03:04:05.000000Z");
  CHECK(stored_instant(micros("2024-01-02T03:04:05.1234567Z", utc)) == "2024-01-02T03:04:05.123456Z");
  CHECK(std::get<std::string>(parse_instant("2024-02-30", utc)) == "day value is outside expected range");
  CHECK(std::get<std::string>(parse_instant("9999-12-31T23:00:00-05:00", utc)) ==
        "the time is outside years 1 to 9999 in UTC");
  auto bad = TimeZone::load("Europ/Paris");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("unknown time zone 'Europ/Paris'") == 0);
  CHECK(bad.error().message.find("did you mean 'Europe/Paris'?") != std::string::npos);
  CHECK_FALSE(TimeZone::load("../../etc/passwd").ok());
  CHECK(TimeZone::load("UTC").take().is_utc());
}
