// mount.cppaufs: the helper mount(8) runs as
//   /sbin/mount.cppaufs spec dir [-sfnv] [-N ns] [-o opts] [-t type]
#ifndef CPPAUFS_TOOLS_MOUNT_HELPER_H_
#define CPPAUFS_TOOLS_MOUNT_HELPER_H_

#include <iosfwd>
#include <string>

namespace cppaufs {

class MountSystem;
class PathProbe;

struct MountHelperOptions {
	std::string spec;	// source, usually "none"
	std::string dir;	// mount point
	bool sloppy = false;	// -s: ignore options the kernel refuses
	bool fake = false;	// -f: everything but the mount
	bool no_mtab = false;	// -n: do not write utab
	bool verbose = false;	// -v
	std::string ns;		// -N: mount namespace (path or pid)
	std::string options;	// -o, all occurrences joined with ','
	std::string type;	// -t, ignored apart from its subtype
};

constexpr const char* kMountHelperName = "mount.cppaufs";

// Fills |opts| from the command line. Returns -1 to go on, or the exit
// code (0 after --help, MNT_EX_USAGE after a usage error, printed to err).
int parse_mount_helper_args(int argc, const char* const* argv,
			    MountHelperOptions* opts, std::ostream& out,
			    std::ostream& err);

// Checks the options and mounts. Returns an MNT_EX_* exit code:
//   0 success; 1 (MNT_EX_USAGE) usage or permission; 2 (MNT_EX_SYSERR) a
//   system error outside the mount itself; 16 (MNT_EX_FILEIO) utab could
//   not be written; 32 (MNT_EX_FAIL) the mount failed or was refused, which
//   includes every bad dirs=/br= branch, as mount(8) reports a kernel EINVAL.
int run_mount_helper(const MountHelperOptions& opts, MountSystem* sys,
		     PathProbe* probe, std::ostream& out, std::ostream& err);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_MOUNT_HELPER_H_
