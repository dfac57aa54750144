#pragma once
// A thread about to wait for something slow outside the process (a model provider's answer, a
// batch of embed() calls) says so with about_to_block(), so that the layer running it can act at
// once: the HTTP server's event threads hand their place to a parked thread
// (serve/http/reactor.hpp) instead of holding it until a monitor notices the handler is blocked.
// The hook is per thread; on a thread without one about_to_block() does nothing.
// Thread-safety: the hook is thread-local.
namespace pxt {

using BlockingHook = void (*)();
// Sets (or clears, with nullptr) the calling thread's hook.
void set_blocking_hook(BlockingHook hook);
// Calls the calling thread's hook, if any. Cheap: callers need not avoid repeating it.
void about_to_block();

}  // namespace pxt
