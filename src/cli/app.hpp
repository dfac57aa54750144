#pragma once
namespace pxt {
// Parses the command line, runs one subcommand, returns the process exit status:
// 0 success, 1 error (printed as "pxt: error: ..."), 2 usage error, 130 interrupted.
int app_main(int argc, char** argv);
}  // namespace pxt
