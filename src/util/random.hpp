#pragma once
// Unguessable identifiers (media file names, job ids) from the kernel's CSPRNG (getrandom(2)).
// Thread-safety: thread-safe. Errors: getrandom cannot fail for these sizes on Linux >= 3.17; if it
// ever does, the functions throw std::system_error rather than return a guessable id.
#include <string>

namespace pxt {

// 2 * bytes lowercase hex characters.
std::string random_hex(int bytes);
// URL-safe base64 without padding (RFC 4648 section 5) of `bytes` random bytes: 16 -> 22 chars.
std::string random_urlsafe(int bytes);

}  // namespace pxt
