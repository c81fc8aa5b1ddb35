// What mount.cppaufs asks of the system, behind an interface so that the
// helper's logic (which fsconfig calls, which messages) runs in unit tests
// against a fake. Every call returns >= 0 on success or a negative errno.
#ifndef CPPAUFS_TOOLS_KERNEL_H_
#define CPPAUFS_TOOLS_KERNEL_H_

#include <string>
#include <vector>

namespace cppaufs {

class MountSystem {
public:
	virtual ~MountSystem() = default;

	// fsopen(2): returns the fs context fd.
	virtual int fs_open(const std::string& fstype) = 0;
	virtual int fs_set_string(int fd, const std::string& key,
				  const std::string& value) = 0;
	virtual int fs_set_flag(int fd, const std::string& key) = 0;
	// FSCONFIG_CMD_CREATE.
	virtual int fs_create(int fd) = 0;
	// fspick(2) of the mount on |target|: returns the fs context fd of
	// its superblock, for a reconfiguration (-ENOSYS before Linux 5.2).
	virtual int fs_pick(const std::string& target) = 0;
	// FSCONFIG_CMD_RECONFIGURE.
	virtual int fs_reconfigure(int fd) = 0;
	// fsmount(2): returns the mount fd.
	virtual int fs_mount(int fd, unsigned int attrs) = 0;
	// move_mount(2) of a detached mount fd onto |target|.
	virtual int move_mount(int mount_fd, const std::string& target) = 0;
	// Drains the fs context's message log: lines like "e cppaufs: ...".
	virtual std::vector<std::string> read_log(int fd) = 0;
	virtual void close(int fd) = 0;

	// Classic mount(2), for remount and propagation changes.
	virtual int mount_legacy(const std::string& source, const std::string& target,
				 const std::string& fstype, unsigned long flags,
				 const std::string& data) = 0;
	// setns(2) into the mount namespace |ns| (a path, or a pid).
	virtual int enter_mount_ns(const std::string& ns) = 0;
	// Records userspace options in libmount's utab.
	virtual int update_utab(const std::string& source, const std::string& target,
				const std::string& user_options,
				unsigned long ms_flags) = 0;
};

// The real system calls.
class LinuxMountSystem : public MountSystem {
public:
	int fs_open(const std::string& fstype) override;
	int fs_set_string(int fd, const std::string& key,
			  const std::string& value) override;
	int fs_set_flag(int fd, const std::string& key) override;
	int fs_create(int fd) override;
	int fs_pick(const std::string& target) override;
	int fs_reconfigure(int fd) override;
	int fs_mount(int fd, unsigned int attrs) override;
	int move_mount(int mount_fd, const std::string& target) override;
	std::vector<std::string> read_log(int fd) override;
	void close(int fd) override;
	int mount_legacy(const std::string& source, const std::string& target,
			 const std::string& fstype, unsigned long flags,
			 const std::string& data) override;
	int enter_mount_ns(const std::string& ns) override;
	int update_utab(const std::string& source, const std::string& target,
			const std::string& user_options,
			unsigned long ms_flags) override;
};

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_KERNEL_H_
