// Process identity (process.hpp).
#include "util/process.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace pxt {

namespace {

// Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names one
// process even after the pid is reused. "" when the process does not exist.
std::string start_ticks(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (paren == std::string::npos) return {};
  std::istringstream rest(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

}  // namespace

const std::string& process_host() {
  static const std::string host = [] {
    char buf[256] = {0};
    std::string name = ::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0' ? "localhost" : buf;
    // Containers may share a host name but not their process ids: the PID namespace
    // ("pid:[4026531836]") tells them apart, so /proc is asked only about processes it can see.
    char ns[64] = {0};
    ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    std::string digits;
    for (ssize_t i = 0; i < n; ++i)
      if (ns[i] >= '0' && ns[i] <= '9') digits += ns[i];
    for (char& c : name)
      if (c == ':') c = '_';  // the tag's fields are ':'-separated
    return digits.empty() ? name : name + "/" + digits;
  }();
  return host;
}

const std::string& process_tag() {
  static const std::string self = [] {
    long pid = static_cast<long>(::getpid());
    return process_host() + ":" + std::to_string(pid) + ":" + start_ticks(pid);
  }();
  return self;
}

std::string_view tag_host(std::string_view tag) {
  size_t last = tag.rfind(':');
  if (last == std::string_view::npos || last == 0) return {};
  size_t mid = tag.rfind(':', last - 1);
  if (mid == std::string_view::npos) return {};
  return tag.substr(0, mid);
}

bool process_alive(std::string_view tag) {
  size_t last = tag.rfind(':');
  if (last == std::string_view::npos || last == 0) return false;
  size_t mid = tag.rfind(':', last - 1);
  if (mid == std::string_view::npos) return false;
  if (tag == process_tag()) return true;                  // even where /proc cannot tell
  if (tag.substr(0, mid) != process_host()) return true;  // another machine: cannot tell
  std::string pid_text(tag.substr(mid + 1, last - mid - 1));
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 0) return false;
  std::string ticks = start_ticks(pid);
  return !ticks.empty() && ticks == tag.substr(last + 1);
}

}  // namespace pxt
