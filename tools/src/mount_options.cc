#include "mount_options.h"

#include <sys/mount.h>

#include "raii.h"

namespace cppaufs {

bool split_mount_options(const std::string& optstr, SplitOptions* out,
			 std::string* err)
{
	*out = SplitOptions();
	if (optstr.empty())
		return true;

	char *user = nullptr, *vfs = nullptr, *fs = nullptr;
	if (mnt_split_optstr(optstr.c_str(), &user, &vfs, &fs, 0, 0) != 0) {
		*err = "cannot parse mount options '" + optstr + "'";
		return false;
	}
	CString user_owner(user), vfs_owner(vfs), fs_owner(fs);
	if (user)
		out->user = user;
	if (vfs) {
		out->vfs = vfs;
		if (mnt_optstr_get_flags(vfs, &out->ms_flags,
					 mnt_get_builtin_optmap(MNT_LINUX_MAP)) != 0) {
			*err = "cannot parse mount options '" + out->vfs + "'";
			return false;
		}
	}
	if (fs) {
		char* cursor = fs;
		char *name, *value;
		size_t namesz, valuesz;
		int rc;
		while ((rc = mnt_optstr_next_option(&cursor, &name, &namesz,
						    &value, &valuesz)) == 0) {
			FsOption opt;
			opt.key.assign(name, namesz);
			if (value) {
				opt.has_value = true;
				opt.value.assign(value, valuesz);
			}
			out->fs.push_back(std::move(opt));
		}
		if (rc < 0) {
			*err = "cannot parse mount options '" + std::string(fs) + "'";
			return false;
		}
	}
	return true;
}

unsigned int mount_attrs_from_flags(unsigned long ms_flags)
{
	unsigned int attrs = 0;
	if (ms_flags & MS_RDONLY)
		attrs |= MOUNT_ATTR_RDONLY;
	if (ms_flags & MS_NOSUID)
		attrs |= MOUNT_ATTR_NOSUID;
	if (ms_flags & MS_NODEV)
		attrs |= MOUNT_ATTR_NODEV;
	if (ms_flags & MS_NOEXEC)
		attrs |= MOUNT_ATTR_NOEXEC;
	if (ms_flags & MS_NODIRATIME)
		attrs |= MOUNT_ATTR_NODIRATIME;
	if (ms_flags & MS_NOSYMFOLLOW)
		attrs |= MOUNT_ATTR_NOSYMFOLLOW;
	// The atime mode is one value, not a set of bits.
	if (ms_flags & MS_NOATIME)
		attrs |= MOUNT_ATTR_NOATIME;
	else if (ms_flags & MS_STRICTATIME)
		attrs |= MOUNT_ATTR_STRICTATIME;
	else
		attrs |= MOUNT_ATTR_RELATIME;
	return attrs;
}

std::vector<std::string> sb_flag_keys(unsigned long ms_flags)
{
	std::vector<std::string> keys;
	if (ms_flags & MS_RDONLY)
		keys.push_back("ro");
	if (ms_flags & MS_SYNCHRONOUS)
		keys.push_back("sync");
	if (ms_flags & MS_DIRSYNC)
		keys.push_back("dirsync");
	if (ms_flags & MS_LAZYTIME)
		keys.push_back("lazytime");
	if (ms_flags & MS_MANDLOCK)
		keys.push_back("mand");
	return keys;
}

unsigned long legacy_only_flags(unsigned long ms_flags)
{
	return ms_flags & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_REC | MS_SHARED |
			   MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE);
}

} // namespace cppaufs
