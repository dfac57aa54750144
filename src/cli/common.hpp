#pragma once
// State shared by every subcommand: global options and the lazily opened store. Opening the
// store only when a command needs it keeps `pxt --help` and friends instant.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "store/store.hpp"

namespace pxt {

struct CliContext {
  std::string home_flag;  // --home (empty: $PXT_HOME, else ~/.pxt)
  bool json = false;      // --json: machine-readable output
  int exit_status = 0;    // set by a command that fails without throwing (e.g. serve)
  // How the store is opened (durability, lock wait); the home is filled in by store(). A command
  // that changes it must do so before its first store() call.
  StoreOptions store_options;
  // Set once the model providers are configured (serve does it with its service file first).
  bool models_configured = false;

  // --home, else $PXT_HOME, else $HOME/.pxt.
  std::string home() const;
  // Opens the store on first use; throws Failure when it cannot be opened. Not thread-safe.
  Store& store();

 private:
  std::unique_ptr<Store> store_;
};

// Configures the model providers: [models.NAME] of $home/config.toml, then of the service file
// (its declarations win), over the environment's `openai`. Throws Failure on a bad declaration.
void configure_models(const std::string& home, const std::string& service_file);

}  // namespace pxt
