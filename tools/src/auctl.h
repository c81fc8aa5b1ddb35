// auctl: list cppaufs mounts, show and change a mount's branches, and say
// who keeps a branch busy.
//
//   auctl [options] list
//   auctl [options] show <si_<id> | <id> | mount point>
//   auctl [options] add <mount> <index> <branch>
//   auctl [options] append|prepend <mount> <branch>
//   auctl [options] del <mount> <path>
//   auctl [options] mod <mount> <path>=<perm>
//   auctl [options] apply <mount> <operation>...
//   auctl [options] busy <mount> <branch path | index>
//
// <mount> is the mount point or si_<id>; the changes are those of
// branch_ops.h, made through reconfigure.h as mount.cppaufs makes them.
#ifndef CPPAUFS_TOOLS_AUCTL_H_
#define CPPAUFS_TOOLS_AUCTL_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace cppaufs {

class MountSystem;
class PathProbe;
class SysfsSource;

struct AuctlOptions {
	std::string command;		// "list", "show", "add", ..., "busy"
	std::vector<std::string> args;	// the command's operands
	bool verbose = false;		// -v: trace the system calls of a change
	bool json = false;
	bool raw = false;
	bool noheadings = false;
	std::string columns;		// -o COL,COL
	// Hidden, for tests: where sysfs, the mount table and the list of
	// registered filesystems are read from.
	std::string sysfs_root = "/sys";
	std::string mountinfo = "/proc/self/mountinfo";
	std::string filesystems = "/proc/filesystems";
	std::string proc_root = "/proc";	// busy: where processes are read
	bool terminal = false;		// stdout is a terminal
};

constexpr int kAuctlUsage = 1;	// bad command line
constexpr int kAuctlFailure = 1;	// anything else that went wrong

// Fills |opts|. Returns -1 to go on, or the exit code (0 after --help).
int parse_auctl_args(int argc, const char* const* argv, AuctlOptions* opts,
		     std::ostream& out, std::ostream& err);

// Runs the command; errors are printed as "auctl: error: ...". |sysfs| may
// be null, meaning the files below opts.sysfs_root; |sys| and |probe| may
// be null, meaning the real system calls and file system.
int run_auctl(const AuctlOptions& opts, SysfsSource* sysfs, std::ostream& out,
	      std::ostream& err, MountSystem* sys = nullptr,
	      PathProbe* probe = nullptr);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_AUCTL_H_
