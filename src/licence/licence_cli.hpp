#pragma once
// `webstream license …`: issue, show and make licence keys (docs/licence.md).
//   webstream license issue --key PRIVATE_KEY_FILE --licensee NAME --max N --expires DATE
//                           [--not-before DATE] [--id ID] [--out FILE]
//   webstream license show FILE
//   webstream license keygen --out-private FILE [--key-id ID] [--print-public]
// DATE is YYYY-MM-DD (UTC; --expires D is valid through the end of day D) or YYYY-MM-DDTHH:MM:SSZ.
// Exit codes: 0 success (show: the licence is valid), 1 show: the licence is not valid / a file problem,
// 2 usage error.
//
// Thread rules: runs on the main thread before anything else starts.
namespace webstream::licence {

// argv[0] is "license" (or "licence"); argv[1] the command. Prints to stdout/stderr.
int run_licence_cli(int argc, char** argv);

}  // namespace webstream::licence
