// Splitting a mount(8) option string with libmount.
#ifndef CPPAUFS_TOOLS_MOUNT_OPTIONS_H_
#define CPPAUFS_TOOLS_MOUNT_OPTIONS_H_

#include <string>
#include <vector>

namespace cppaufs {

struct FsOption {
	std::string key;
	std::string value;
	bool has_value = false;	// "key=value" rather than a bare "key"
};

struct SplitOptions {
	// VFS options (ro, nosuid, relatime, remount, ...) as MS_* flags.
	unsigned long ms_flags = 0;
	std::string vfs;	// the VFS options as written
	std::string user;	// userspace-only options (x-*, user, ...), for utab
	std::vector<FsOption> fs;	// everything else, in order
};

// Splits |optstr| into VFS, userspace and filesystem options.
bool split_mount_options(const std::string& optstr, SplitOptions* out,
			 std::string* err);

// MOUNT_ATTR_* bits for fsmount(2) that |ms_flags| asks for.
unsigned int mount_attrs_from_flags(unsigned long ms_flags);

// Superblock flags that are set with FSCONFIG_SET_FLAG ("ro", "sync",
// "dirsync", "lazytime", "mand"), in a fixed order.
std::vector<std::string> sb_flag_keys(unsigned long ms_flags);

// MS_* flags a new mount through fsopen(2) cannot honour (remount, bind,
// move, propagation); they need the legacy mount(2) path.
unsigned long legacy_only_flags(unsigned long ms_flags);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_MOUNT_OPTIONS_H_
