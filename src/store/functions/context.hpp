#pragma once
// What a SQL function sees besides its arguments, the clean-up contract for the media files that
// functions create (image functions store each result as a new file under media/), and the memo
// that lets a write compute its slow calls before it takes the writer lock ("Computing ahead").
//
// The contract, for every backend's write path (insert, insert_stream, update, compute):
//   CreatedFiles created(media_dir);          // before the write
//   ... inside the code that runs the statement, on the thread that runs it:
//   CreatedFilesScope scope(created);         // functions called now record their new files
//   ... after the write:
//   created.keep();                           // only once the write is committed
//   (or created.keep_referenced(rows) when the write returns its stored rows)
// A CreatedFiles that is destroyed without keep() removes every file it recorded, so a write
// that fails, is rolled back (a group-commit savepoint, a later column failing, a primary-key
// conflict) or returns early leaves no file behind.
//
// A function that creates a file and finds no scope on its thread (a plain SELECT, a where
// clause, a query) refuses to run: nothing would own the file.
//
// Thread-safety: a CreatedFiles is used by one thread at a time (the thread running the write);
// the scope is per thread, so concurrent writes never see each other's files.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/model/types.hpp"
#include "util/result.hpp"

namespace pxt {

class CreatedFiles {
 public:
  explicit CreatedFiles(std::filesystem::path media_dir) : media_dir_(std::move(media_dir)) {}
  ~CreatedFiles() { remove_all(); }
  CreatedFiles(const CreatedFiles&) = delete;
  CreatedFiles& operator=(const CreatedFiles&) = delete;

  // Records rel (a relative media name) as created by the current write.
  void add(std::string rel) { files_.push_back(std::move(rel)); }
  // The write committed: the files now belong to rows; forget them.
  void keep() { files_.clear(); }
  // The write committed these rows: keeps the files they reference and removes the others (a
  // function the backend evaluated more often than the rows needed), then forgets them all.
  void keep_referenced(const std::vector<Row>& rows);
  // Removes every recorded file (idempotent) and forgets them.
  void remove_all();
  const std::vector<std::string>& files() const { return files_; }

  // Computing ahead: a write may evaluate its slow calls before it takes the store's writer lock
  // (an image function or a document's text extraction takes milliseconds to seconds; SQLite's
  // part takes microseconds), so other writers of the store are not held up behind them and
  // several writes' slow work runs in parallel. The slow functions are those that create a file
  // and those marked compute_ahead (SqlFunction, store/functions/registry.hpp); call_sql_function does the
  // rest. While `ahead` is set, each such call's outcome is remembered by its call_key; afterwards the
  // write's own identical call takes the remembered outcome instead of computing it again:
  //   - a value (a created file's name, text, JSON, a number, null) is taken at most once, since
  //     the write may make the same call twice (two rows, two columns) and a file-creating call
  //     must then yield two files, as it would have without the memo;
  //   - an error stays (every identical call gets it): the write then fails where and how it
  //     would have failed without the memo (an earlier row's key conflict still wins), and the
  //     diagnosis that names the failing column does not run the slow call again.
  // A call the memo does not know (the row changed meanwhile, a CASE took another branch) is
  // simply computed; an unused remembered file is removed like any other (keep_referenced).
  void set_ahead(bool ahead) { ahead_ = ahead; }
  bool ahead() const { return ahead_; }
  void remember(std::string call, Result<Value> outcome);
  // Prefetching: outcomes computed in bulk before computing ahead (SqlFunction::batch). Each is
  // taken once, by the computing-ahead pass's identical call, which then remembers it as if it had
  // made the call itself.
  void prefetched(std::string call, Result<Value> outcome);
  // The remembered outcome of call: an error (kept in the memo), or, when not computing ahead, a
  // value (removed from the memo); nullopt when there is none.
  std::optional<Result<Value>> take(const std::string& call);

 private:
  std::filesystem::path media_dir_;
  std::vector<std::string> files_;
  bool ahead_ = false;
  std::unordered_multimap<std::string, Value> ahead_values_;
  std::unordered_map<std::string, Error> ahead_errors_;
  std::unordered_multimap<std::string, Result<Value>> prefetched_;
};

struct SqlFunction;  // store/functions/registry.hpp
struct FunctionContext;

// A collecting pass (see SqlFunction::batch): while a CallCollector is in scope on a thread, the
// calls of functions with `batch` made on that thread are recorded here instead of made, and give
// NULL. Calls are kept per function, with their arguments; identical calls are kept once.
class CallCollector {
 public:
  CallCollector();
  ~CallCollector();
  CallCollector(const CallCollector&) = delete;
  CallCollector& operator=(const CallCollector&) = delete;

  // fn must stay alive until run() (the calling connection holds its functions).
  void add(const SqlFunction* fn, const std::vector<Value>& args);
  // Makes every recorded call with its function's batch and hands each outcome to `created`
  // (prefetched), once per time the call was recorded. Returns the number of calls made.
  size_t run(const FunctionContext& ctx, CreatedFiles& created);
  bool empty() const { return calls_.empty(); }

 private:
  struct Calls {
    const SqlFunction* fn;  // kept alive by the connection that called it
    std::vector<std::vector<Value>> args;
    std::vector<std::string> keys;
    std::unordered_map<std::string, size_t> count;  // key -> times recorded
  };
  std::vector<Calls> calls_;
  CallCollector* previous_;
};
// The current thread's collector, or nullptr.
CallCollector* current_collector();

// A key for a call: the function name and its arguments with their types (texts with their
// length), so two different calls never share a key.
std::string call_key(std::string_view fn, const std::vector<Value>& args);

// Makes `files` the current thread's sink for created files until the scope ends (scopes nest;
// the innermost wins).
class CreatedFilesScope {
 public:
  explicit CreatedFilesScope(CreatedFiles& files);
  ~CreatedFilesScope();
  CreatedFilesScope(const CreatedFilesScope&) = delete;
  CreatedFilesScope& operator=(const CreatedFilesScope&) = delete;

 private:
  CreatedFiles* previous_;
};

// The current thread's sink, or nullptr outside any CreatedFilesScope.
CreatedFiles* current_created_files();

// Passed to context-aware SQL functions: the home's media folder of the store whose connection
// called them, and the current thread's sink (nullptr when created files would have no owner).
struct FunctionContext {
  std::filesystem::path media_dir;
  CreatedFiles* created = nullptr;
  // Bit i set: argument i is a BLOB in the backend, i.e. a Vector (its bytes are packed floats,
  // store/model/vector.hpp), not a text. Set by every backend for the first 32 arguments.
  uint32_t blob_args = 0;
};

// Removes the media files an update replaced: each name in old_files that is not in new_files
// (an update that recomputes resize(...) leaves the previous result unreferenced). Call only
// after the update committed. Names that are not valid media names are ignored.
void remove_replaced_files(const std::filesystem::path& media_dir, const std::vector<std::string>& old_files,
                           const std::vector<std::string>& new_files);

}  // namespace pxt
