// auctl: list cppaufs mounts and show a mount's branches.
//
//   auctl [options] list
//   auctl [options] show <si_<id> | <id> | mount point>
#ifndef CPPAUFS_TOOLS_AUCTL_H_
#define CPPAUFS_TOOLS_AUCTL_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace cppaufs {

class SysfsSource;

struct AuctlOptions {
	std::string command;		// "list" or "show"
	std::vector<std::string> args;	// the command's operands
	bool json = false;
	bool raw = false;
	bool noheadings = false;
	std::string columns;		// -o COL,COL
	// Hidden, for tests: where sysfs, the mount table and the list of
	// registered filesystems are read from.
	std::string sysfs_root = "/sys";
	std::string mountinfo = "/proc/self/mountinfo";
	std::string filesystems = "/proc/filesystems";
	bool terminal = false;		// stdout is a terminal
};

constexpr int kAuctlUsage = 1;	// bad command line
constexpr int kAuctlFailure = 1;	// anything else that went wrong

// Fills |opts|. Returns -1 to go on, or the exit code (0 after --help).
int parse_auctl_args(int argc, const char* const* argv, AuctlOptions* opts,
		     std::ostream& out, std::ostream& err);

// Runs the command; errors are printed as "auctl: error: ...". |sysfs| may
// be null, meaning the files below opts.sysfs_root.
int run_auctl(const AuctlOptions& opts, SysfsSource* sysfs, std::ostream& out,
	      std::ostream& err);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_AUCTL_H_
