#pragma once
// This process's identity across machines, and whether a process named so is still alive: the
// owner of background jobs and the holder of a store lease are named "host:pid:start-ticks".
// Thread-safe.
#include <string>
#include <string_view>

namespace pxt {

// "host:pid:start-ticks" (start-ticks: field 22 of /proc/self/stat, so a reused pid is another
// process). Computed once.
const std::string& process_tag();
// This machine's host name (gethostname, "localhost" when it has none) and PID namespace
// ("web1/4026531836"): the processes /proc can tell about are exactly those with this host.
const std::string& process_host();
// The host part of a tag ("" when the tag is malformed).
std::string_view tag_host(std::string_view tag);
// False when `tag` names a process on this host that no longer exists (pid absent or reused by a
// process that started at another time) or is malformed; true for live processes and for other
// hosts (unknown here).
bool process_alive(std::string_view tag);

}  // namespace pxt
