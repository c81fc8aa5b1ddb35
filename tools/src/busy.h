// Who keeps a branch busy: what `auctl busy` prints, as aufs-util's aubusy.
//
// Every process's cwd, root, exe, open files (fd/N) and mapped files (maps)
// under <proc root>/<pid>/ are read, and a path counts when:
//   - it lies inside the branch directory itself (used directly, not
//     through the union; a deleted file still counts), or
//   - it lies inside the union's mount point, at <rel>, and the branch is
//     the topmost one (lowest index) where <rel> exists: the object seen
//     through the union is the branch's. A merged directory therefore
//     counts for its topmost branch only, and a deleted file of the union
//     for none.
// Processes whose files cannot be read (another user's, without root) or
// that end during the scan are skipped, as is the process itself.
#ifndef CPPAUFS_TOOLS_BUSY_H_
#define CPPAUFS_TOOLS_BUSY_H_

#include <string>
#include <vector>

#include "reconfigure.h"

namespace cppaufs {

struct BusyUse {
	int pid = 0;
	std::string command;	// <pid>/comm
	std::string what;	// cwd, root, exe, "fd <N>" or map
	std::string path;	// as the link or maps shows it
};

struct BusyScan {
	std::string proc_root = "/proc";
	std::string mount_point;		// the union
	std::vector<std::string> branches;	// every branch directory, top first
	std::size_t branch = 0;			// the one asked about
	int self = 0;				// pid left out (0: none)
};

// Index of the topmost branch holding |rel| ("" or "a/b"), or -1.
int topmost_branch(const std::vector<std::string>& branches, const std::string& rel);

// Whether the object at |path| (absolute, as /proc shows it) is on the
// branch, by the rules above.
bool on_branch(const BusyScan& scan, const std::string& path);

// Every use, by pid, then cwd, root, exe, fds by number, maps by address.
std::vector<BusyUse> scan_busy(const BusyScan& scan);

// "pid 4711 less, pid 12 bash": each process once, in the order of
// |uses|, at most |max| of them, then ", ..." if there are more.
std::string busy_summary(const std::vector<BusyUse>& uses, std::size_t max = 4);

// The kernel refuses to remove a busy branch with "del:<branch>: branch
// busy: ..." (EBUSY). Adds to each such error who keeps the branch busy,
// as scan_busy() finds them: "... (pid 4711 less)". |base| gives the union
// (mount point, branches top first, proc root, self); its branch is set
// from each message.
void name_busy_processes(const BusyScan& base, std::vector<KernelMessage>* messages);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_BUSY_H_
