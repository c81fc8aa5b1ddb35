// Filesystem look-ups the branch checks need, behind an interface so that
// tests can fake what they cannot create (a cppaufs mount, say).
#ifndef CPPAUFS_TOOLS_PATH_PROBE_H_
#define CPPAUFS_TOOLS_PATH_PROBE_H_

#include <string>

namespace cppaufs {

class PathProbe {
public:
	virtual ~PathProbe() = default;
	// Resolves |path| (relative to the cwd) to an absolute path without
	// symlinks, "." or "..". Returns 0 or an errno value.
	virtual int resolve(const std::string& path, std::string* canonical) = 0;
	// Whether the resolved path is a directory.
	virtual bool is_directory(const std::string& canonical) = 0;
	// Whether the resolved path lies on a cppaufs mount (statfs f_type).
	virtual bool is_cppaufs(const std::string& canonical) = 0;
};

// The real thing: realpath(3), stat(2) and statfs(2).
class DiskPathProbe : public PathProbe {
public:
	int resolve(const std::string& path, std::string* canonical) override;
	bool is_directory(const std::string& canonical) override;
	bool is_cppaufs(const std::string& canonical) override;
};

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_PATH_PROBE_H_
