// Reconfiguring a mounted union through the new mount API: the one
// implementation of the fsconfig sequence that mount.cppaufs (remount) and
// auctl (branch changes) share.
//
// The kernel interface assumed for branch changes (issue 16):
//
//   fd = fspick(AT_FDCWD, <mount point>, FSPICK_CLOEXEC);
//   fsconfig(fd, FSCONFIG_SET_STRING, <key>, <value>, 0);  one per operation,
//                                                        in the order given
//   fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
//
// with <key> one of add, append, prepend, del, mod ("ins" is sent as add)
// and <value> what follows the first ':' of the operation, paths absolute:
//   add      "<index>:<path>[=rw|ro|rr]"
//   append   "<path>[=rw|ro|rr]"
//   prepend  "<path>[=rw|ro|rr]"
//   del      "<path>"
//   mod      "<path>=rw|ro|rr"
// Other options (ro/rw, xino=, metacopy, dirs= as repeated br= pieces) are
// set in the same context, in the order written. The kernel applies the
// operations left to right at CMD_RECONFIGURE, all or nothing, and reports
// a refusal in the context's log (read from fd) naming the step, such as
// "e cppaufs: del:/mnt/b: branch busy: 2 open files".
#ifndef CPPAUFS_TOOLS_RECONFIGURE_H_
#define CPPAUFS_TOOLS_RECONFIGURE_H_

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace cppaufs {

class MountSystem;
struct BranchOp;

// One fsconfig(2) call: FSCONFIG_SET_STRING key=value, or SET_FLAG key.
struct FsParam {
	std::string key;
	std::string value;
	bool flag = false;
	bool sloppy = false;	// may be skipped when the kernel refuses it (-s)
	std::string step;	// names it when the kernel says nothing

	std::string text() const { return flag ? key : key + "=" + value; }
};

FsParam string_param(const std::string& key, const std::string& value,
		     const std::string& step);
FsParam flag_param(const std::string& key, const std::string& step);
// The fsconfig call of a branch operation, named as the kernel names it.
FsParam branch_op_param(const BranchOp& op);

// One line of an fs_context log: "e cppaufs: msg" -> 'e', "msg".
struct KernelMessage {
	char kind = 'e';	// e (error), w (warning) or i (information)
	std::string text;
};
KernelMessage parse_log_line(const std::string& line);

struct ReconfigureResult {
	int rc = 0;		// 0, or the negative errno of the call that failed
	bool no_fspick = false;	// fspick(2) itself is missing (ENOSYS)
	std::string failed;	// what failed, for "<failed>: <strerror>"
	std::vector<KernelMessage> messages;	// the kernel's, in order
};

struct ReconfigureOptions {
	bool sloppy = false;	// skip the sloppy params the kernel refuses
	bool fake = false;	// trace the calls, make none
	// Called with "fspick <target>", "fsconfig <key>[=<value>]" and
	// "fsconfig reconfigure" before each call.
	std::function<void(const std::string&)> trace;
};

// fspick(target), |params| in order, CMD_RECONFIGURE.
ReconfigureResult reconfigure(MountSystem* sys, const std::string& target,
			      const std::vector<FsParam>& params,
			      const ReconfigureOptions& opts);

// How each kind of message starts: "mount.cppaufs: ", "mount.cppaufs:
// warning: ", "mount.cppaufs: " for the helper.
struct MessagePrefixes {
	std::string error, warning, info;
};

// Prints the kernel's messages (information only when |verbose|); after a
// failure without an error message from the kernel, "<failed>: <strerror>".
void print_kernel_messages(const ReconfigureResult& res, const MessagePrefixes& prefix,
			   bool verbose, std::ostream& err);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_RECONFIGURE_H_
