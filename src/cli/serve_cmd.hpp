#pragma once
#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pxt {
// Adds `pxt serve [NAME]` and its single-endpoint forms (`pxt serve insert|update|delete|query|compute`).
// Returns the `serve` subcommand so the command table can set its one-line help.
CLI::App* add_serve_command(CLI::App& app, CliContext& ctx);
}  // namespace pxt
