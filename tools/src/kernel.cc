#include "kernel.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "raii.h"

namespace cppaufs {

namespace {

int ret(int rc)
{
	return rc < 0 ? -errno : rc;
}

bool all_digits(const std::string& s)
{
	if (s.empty())
		return false;
	for (char c : s)
		if (c < '0' || c > '9')
			return false;
	return true;
}

} // namespace

int LinuxMountSystem::fs_open(const std::string& fstype)
{
	return ret(::fsopen(fstype.c_str(), FSOPEN_CLOEXEC));
}

int LinuxMountSystem::fs_set_string(int fd, const std::string& key,
				    const std::string& value)
{
	return ret(::fsconfig(fd, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0));
}

int LinuxMountSystem::fs_set_flag(int fd, const std::string& key)
{
	return ret(::fsconfig(fd, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0));
}

int LinuxMountSystem::fs_create(int fd)
{
	return ret(::fsconfig(fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0));
}

int LinuxMountSystem::fs_pick(const std::string& target)
{
	return ret(::fspick(AT_FDCWD, target.c_str(), FSPICK_CLOEXEC));
}

int LinuxMountSystem::fs_reconfigure(int fd)
{
	return ret(::fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0));
}

int LinuxMountSystem::fs_mount(int fd, unsigned int attrs)
{
	return ret(::fsmount(fd, FSMOUNT_CLOEXEC, attrs));
}

int LinuxMountSystem::move_mount(int mount_fd, const std::string& target)
{
	return ret(::move_mount(mount_fd, "", AT_FDCWD, target.c_str(),
				MOVE_MOUNT_F_EMPTY_PATH));
}

std::vector<std::string> LinuxMountSystem::read_log(int fd)
{
	std::vector<std::string> lines;
	char buf[4096];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		std::string line(buf, static_cast<size_t>(n));
		while (!line.empty() && line.back() == '\n')
			line.pop_back();
		lines.push_back(std::move(line));
	}
	return lines;
}

void LinuxMountSystem::close(int fd)
{
	::close(fd);
}

int LinuxMountSystem::mount_legacy(const std::string& source,
				   const std::string& target,
				   const std::string& fstype, unsigned long flags,
				   const std::string& data)
{
	return ret(::mount(source.c_str(), target.c_str(),
			   fstype.empty() ? nullptr : fstype.c_str(), flags,
			   data.empty() ? nullptr : data.c_str()));
}

int LinuxMountSystem::enter_mount_ns(const std::string& ns)
{
	std::string path = all_digits(ns) ? "/proc/" + ns + "/ns/mnt" : ns;
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd.valid())
		return -errno;
	// setns() moves us to the namespace's root; keep the cwd if it
	// exists there too, so that relative branches mean the same thing.
	CString cwd(::getcwd(nullptr, 0));
	if (::setns(fd.get(), CLONE_NEWNS) < 0)
		return -errno;
	if (cwd && ::chdir(cwd.get()) < 0) {
		// Relative paths then resolve against the namespace's root.
	}
	return 0;
}

int LinuxMountSystem::update_utab(const std::string& source,
				  const std::string& target,
				  const std::string& user_options,
				  unsigned long ms_flags)
{
	MntUpdate upd(mnt_new_update());
	MntFs fs(mnt_new_fs());
	if (!upd || !fs)
		return -ENOMEM;
	if (mnt_fs_set_source(fs.get(), source.c_str()) ||
	    mnt_fs_set_target(fs.get(), target.c_str()) ||
	    mnt_fs_set_fstype(fs.get(), "cppaufs") ||
	    mnt_fs_set_options(fs.get(), user_options.c_str()))
		return -ENOMEM;
	int rc = mnt_update_set_fs(upd.get(), ms_flags, nullptr, fs.get());
	if (rc == 1)	// nothing for utab
		return 0;
	if (rc < 0)
		return rc;
	rc = mnt_update_table(upd.get(), nullptr);
	return rc < 0 ? rc : 0;
}

} // namespace cppaufs
