#pragma once
// Media files: the files behind Image, Video, Audio and Document columns. They live under the
// home's media/ folder; a row holds the path relative to it (e.g. "ab/3f9c...e1.jpg"), and
// responses render it as the URL "/media/<relative path>". Names are always chosen here (128
// random bits), never by a client, so a relative path is safe to join once it passed resolve().
//
// The life of an upload: the server streams the body to temp_file(), validate() checks it against
// the column type, adopt() moves it to its final name, the row is written with that name; if the
// write fails the caller remove()s the adopted file, so a refused request leaves nothing behind.
//
// Thread-safety: every function here is thread-safe (no shared state besides the file system).
#include <filesystem>
#include <string>
#include <string_view>

#include "store/model/types.hpp"

namespace pxt::media {

// A fresh relative name "xx/<32 hex chars><ext>" (ext like ".jpg", may be empty). The two-char
// subfolder keeps folders small; it is created by adopt() or create_for_write().
std::string new_relative_name(std::string_view ext);

// media_dir / rel, after checking rel is a name this module could have produced or at least a
// plain relative path (no "..", no absolute path, no empty or dot segments, no backslash, no NUL).
// Returns not_found for anything else, and for paths whose final file is a symlink or not a
// regular file. Does not require the file to exist unless must_exist is true.
Result<std::filesystem::path> resolve(const std::filesystem::path& media_dir, std::string_view rel,
                                      bool must_exist);

// A new, empty temp file under media_dir/.tmp/ for an upload to stream into. Temp files older
// than a day are swept at store open, so a crash mid-upload leaves nothing for long.
Result<std::filesystem::path> temp_file(const std::filesystem::path& media_dir);
// The same with a file extension (".md", ".txt", ...): text documents keep the kind the client
// named, since their content cannot tell Markdown from plain text.
Result<std::filesystem::path> temp_file(const std::filesystem::path& media_dir, std::string_view ext);
// Removes temp files older than a day (left by a crash mid-upload). Never fails.
void sweep_temp(const std::filesystem::path& media_dir);

// The media type of a file from its first bytes (JPEG, PNG, GIF, WebP, BMP, TIFF, MP4/MOV, WebM/
// MKV, AVI, MP3, WAV, OGG, FLAC, PDF, HTML), falling back to its extension, then to
// "application/octet-stream". Text files (.txt, .md) are "text/plain" / "text/markdown".
std::string content_type(const std::filesystem::path& file);
// The media type recognised from a file's first bytes (up to 512), "" when none is.
std::string_view sniff_type(std::string_view head);
// The media type for a file extension (".jpg"; case-insensitive), "" when unknown.
std::string_view type_for_extension(std::string_view ext);
// The usual extension (".jpg", ".mp4", ...) for a media type; "" when unknown.
std::string_view extension_for(std::string_view content_type);

// Checks that the file is a valid value for a column of media type t: an Image must decode as an
// image, a Video/Audio must be a known container of that kind, a Document must be PDF, HTML,
// Markdown or UTF-8 text. Returns invalid_argument naming what was expected and what was found.
Result<void> validate(ColumnType t, const std::filesystem::path& file);

// A `data:` URI (RFC 2397, base64 only: "data:image/png;base64,....") decoded into a new temp
// file, validated for type t and adopted. Returns the relative name; invalid_argument when the
// text is not a base64 data: URI or the content is not valid for t (nothing is left behind).
Result<std::string> adopt_data_uri(const std::filesystem::path& media_dir, ColumnType t,
                                   std::string_view uri);

// A local file (`pxt insert`'s "@photo.jpg" or "photo.jpg") copied into a new temp file,
// validated for type t and adopted, as an upload is; the original is left alone. Returns the
// relative name; not_found "no such file 'x'", invalid_argument when it is not a file or not
// valid for t, io/no_space when the copy fails (nothing is left behind).
Result<std::string> adopt_local_file(const std::filesystem::path& media_dir, ColumnType t,
                                     const std::filesystem::path& file);

// Moves tmp (a file under media_dir) to a fresh name with the extension of its content type and
// returns the relative name. On failure tmp is removed.
Result<std::string> adopt(const std::filesystem::path& media_dir, const std::filesystem::path& tmp);

// Whether errno value err means the disk (or a quota, or RLIMIT_FSIZE) is full: ENOSPC, EDQUOT,
// EFBIG. Such failures are Errc::no_space (HTTP 507), not Errc::io.
bool is_no_space(int err);
// Errc::no_space for such an err, else Errc::io.
Errc io_errc(int err);
// Writes bytes to the file at full (created or truncated). On failure the file is removed and
// the error is io_errc(errno) naming the file, so a full disk is a 507 like a failed upload.
Result<void> write_file(const std::filesystem::path& full, std::string_view bytes);

// Removes the file named rel (a relative name as stored in a row). Missing files and names that
// fail resolve() are ignored: removing is idempotent. Returns whether a file was removed.
bool remove(const std::filesystem::path& media_dir, std::string_view rel);

}  // namespace pxt::media
