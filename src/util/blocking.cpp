// The per-thread "about to block" hook (blocking.hpp).
#include "util/blocking.hpp"

namespace pxt {

namespace {
thread_local BlockingHook t_blocking_hook = nullptr;
}  // namespace

void set_blocking_hook(BlockingHook hook) { t_blocking_hook = hook; }

void about_to_block() {
  if (t_blocking_hook != nullptr) t_blocking_hook();
}

}  // namespace pxt
