#pragma once
// Children that die with edgemon, even when edgemon is SIGKILLed or crashes.
//
// Linux can send a child a signal when its parent dies (PR_SET_PDEATHSIG),
// but only the child can ask for it, between fork and exec, and libuv's
// uv_spawn has no hook there. So a child is spawned through edgemon's own
// binary: `edgemon __child <parent-pid> <program> <args...>` asks for SIGKILL
// on the parent's death and then execs the program in the same process.
//
// What the guard does not cover: PR_SET_PDEATHSIG fires when the *thread*
// that forked exits (uv_spawn forks from the loop thread, which lives as long
// as the daemon), and exec of a set-user-ID or file-capability program clears
// it.
#include <string>

namespace edgemon {

// argv[1] of the binary when it runs as the launcher. Kept stable across
// versions: after an upgrade in place, the path resolved at start names the
// new binary, which must still understand an older daemon's call.
inline constexpr const char* kChildLauncherCommand = "__child";

// The binary ChildProcess spawns its children through (process-wide, set once
// at start). Empty: children are spawned directly, without the guard.
void set_child_launcher(std::string path);
const std::string& child_launcher();
// Sets the launcher to this very binary, resolved from /proc/self/exe.
// Returns false (and leaves the setting alone) when it cannot be resolved.
bool set_child_launcher_to_self();

// The launcher itself, given `<parent-pid> <program> <args...>` (argv[argc]
// must be null). Returns only on failure: 2 for a bad call, 1 when the
// parent is already gone, 127 when the program cannot be executed (the
// reason on stderr).
int run_child_launcher(int argc, char** argv);

}  // namespace edgemon
