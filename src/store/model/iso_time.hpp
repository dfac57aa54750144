#pragma once
// Validation of the text forms of Timestamp (ISO 8601) and Date (YYYY-MM-DD) values. The reasons
// follow pydantic v2 (speedate) wording so HTTP 422 messages read like FastAPI's. Pure, thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace pxt {

// nullopt when s is a valid date, else the reason ("month value is outside expected range of 1-12").
std::optional<std::string> check_date(std::string_view s);
// nullopt when s is a valid ISO 8601 datetime: YYYY-MM-DD, optionally followed by T or a space,
// HH:MM[:SS[.fraction]] and an optional zone (Z, +HH:MM, +HHMM); else the reason.
std::optional<std::string> check_timestamp(std::string_view s);

}  // namespace pxt
