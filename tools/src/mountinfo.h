// The mount table (/proc/self/mountinfo), read with libmount.
#ifndef CPPAUFS_TOOLS_MOUNTINFO_H_
#define CPPAUFS_TOOLS_MOUNTINFO_H_

#include <string>
#include <vector>

namespace cppaufs {

struct MountEntry {
	std::string target;
	std::string source;
	std::string fstype;
	std::string si_id;	// from the si= super option; cppaufs only
};

// Every mount in |file| (a mountinfo or fstab-like file), in table order.
bool read_mounts(const std::string& file, std::vector<MountEntry>* mounts,
		 std::string* err);

// The last mount on |target| (as given, without trailing '/', or resolved
// with realpath), or nullptr.
const MountEntry* find_mount(const std::vector<MountEntry>& mounts,
			     const std::string& target);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_MOUNTINFO_H_
