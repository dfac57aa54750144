// `pxt version` (and `pxt --version`): what this binary is, and with `version`, the libraries it
// links or loads with their versions, for bug reports and for scripts/package (which derives the
// package's dependencies on the dlopen'ed libraries from `pxt --json version`).
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/build_info.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "export/pg_version.hpp"
#include "store/media/lib_versions.hpp"
#include "util/dynlib.hpp"

namespace pxt {

namespace {

struct Library {
  std::string name;     // "libvips"
  std::string loading;  // "linked" or "dlopen"
  std::string version;  // "" when the library has no version call or did not load
  std::string soname, package, file;
  std::string error;  // why it could not be loaded (dlopen only)
};

// Loads every library pxt may load on first use (this is the one command that does so on purpose)
// and asks each for its version.
std::vector<Library> libraries() {
  std::vector<Library> libs;
  libs.push_back({"SQLite", "linked", sqlite3_libversion(), "", "",
                  dynlib::file_of(reinterpret_cast<const void*>(&sqlite3_libversion)), ""});
  // The libraries loaded on first use, each loaded now. Which file each loader opened (soname,
  // package, path) is what dynlib::open() recorded meanwhile: named once, where it is loaded.
  struct Loaded {
    const char* name;
    Result<std::string> (*version)();
  };
  static const Loaded kLoaded[] = {
      {"libvips", &medialib::vips_version},
      {"poppler", &medialib::poppler_version},
      {"libturbojpeg", &medialib::turbojpeg_version},  // "": TurboJPEG has no version call
      {"libpq", &libpq_version},
  };
  for (const auto& l : kLoaded) {
    Library lib{l.name, "dlopen", "", "", "", "", ""};
    size_t before = dynlib::opened().size();
    if (auto v = l.version()) {
      lib.version = *v;
    } else {
      lib.error = v.error().message;
    }
    auto opened = dynlib::opened();
    if (opened.size() > before) {
      lib.soname = opened[before].soname;
      lib.package = opened[before].package;
      lib.file = opened[before].file;
    }
    libs.push_back(std::move(lib));
  }
  return libs;
}

void write_optional(JsonWriter& w, const char* key, const std::string& value) {
  write_key(w, key);
  if (value.empty()) {
    w.Null();
  } else {
    write_string(w, value);
  }
}

void print_version_json(const std::vector<Library>& libs) {
  const BuildInfo& b = build_info();
  Out out;
  JsonWriter& w = out.json();
  w.StartObject();
  write_key(w, "version");
  write_string(w, b.version);
  write_key(w, "commit");
  write_string(w, b.commit);
  write_key(w, "build_type");
  write_string(w, b.build_type);
  write_key(w, "libraries");
  w.StartArray();
  for (const auto& lib : libs) {
    w.StartObject();
    write_key(w, "name");
    write_string(w, lib.name);
    write_key(w, "loading");
    write_string(w, lib.loading);
    write_optional(w, "version", lib.version);
    write_optional(w, "soname", lib.soname);
    write_optional(w, "package", lib.package);
    write_optional(w, "file", lib.file);
    write_key(w, "loaded");
    w.Bool(lib.error.empty());
    write_optional(w, "error", lib.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.done_json();
  out.put('\n');
}

void print_version_text(const std::vector<Library>& libs) {
  std::printf("%s\n", version_line().c_str());
  std::vector<std::vector<std::string>> rows;
  for (const auto& lib : libs) {
    std::string version = !lib.error.empty() ? "not loaded" : lib.version.empty() ? "-" : lib.version;
    rows.push_back({lib.name, version, lib.loading, lib.error.empty() ? lib.file : lib.error});
  }
  std::printf("\n%s", render_table({"library", "version", "loading", "file"}, rows, 200).c_str());
}

}  // namespace

std::string version_line() {
  const BuildInfo& b = build_info();
  return fmt::format("pxt {} (commit {}, {})", b.version, b.commit, b.build_type);
}

CLI::App* add_version_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("version");
  cmd->footer("pxt --version prints the first line only.");
  cmd->callback([&ctx] {
    auto libs = libraries();
    if (ctx.json) {
      print_version_json(libs);
    } else {
      print_version_text(libs);
    }
  });
  return cmd;
}

}  // namespace pxt
