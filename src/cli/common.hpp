#pragma once
// State shared by every subcommand: global options and the lazily opened store. Opening the
// store only when a command needs it keeps `pxt --help` and friends instant.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "store/store.hpp"

namespace pxt {

struct CliContext {
  std::string home_flag;   // --home (empty: $PXT_HOME, else ~/.pxt)
  std::string store_flag;  // --store URL (empty: $PXT_STORE, else `store` in $PXT_HOME/config.toml)
  bool json = false;       // --json: machine-readable output
  int exit_status = 0;     // set by a command that fails without throwing (e.g. serve)
  // How the store is opened (durability, lock wait); the home is filled in by store(). A command
  // that changes it must do so before its first store() call.
  StoreOptions store_options;
  // Set once the model providers are configured (serve does it with its service file first).
  bool models_configured = false;

  // --home, else $PXT_HOME, else $HOME/.pxt.
  std::string home() const;
  // The store URL: --store, else $PXT_STORE, else the top-level `store` key of
  // $PXT_HOME/config.toml (${VAR} substituted), else "" (the SQLite store in the home). Throws
  // Failure ("config.toml:3: ...") for a config.toml that cannot be read.
  std::string store_url() const;
  // Opens the store on first use; throws Failure when it cannot be opened. Not thread-safe.
  Store& store();

 private:
  std::unique_ptr<Store> store_;
};

// Configures the model providers: [models.NAME] of $home/config.toml, then of the service file
// (its declarations win), over the environment's `openai`. Throws Failure on a bad declaration.
void configure_models(const std::string& home, const std::string& service_file);

}  // namespace pxt
