// Reading /sys/fs/cppaufs/si_<id>/{br<N>,brid<N>,xi_path}.
//
// File access goes through SysfsSource so that tests can use a fixture tree
// (DiskSysfs with another root) or an in-memory fake.
#ifndef CPPAUFS_TOOLS_SYSFS_H_
#define CPPAUFS_TOOLS_SYSFS_H_

#include <string>
#include <vector>

namespace cppaufs {

enum class ReadStatus { kOk, kNotFound, kDenied, kError };

class SysfsSource {
public:
	virtual ~SysfsSource() = default;
	// |path| is relative to the sysfs root, e.g. "fs/cppaufs/si_<id>/br0".
	// On failure *errnum holds the errno value.
	virtual ReadStatus read_file(const std::string& path, std::string* contents,
				     int* errnum) = 0;
	virtual ReadStatus list_dir(const std::string& path,
				    std::vector<std::string>* names, int* errnum) = 0;
	// The absolute name of |path|, for messages.
	virtual std::string full_path(const std::string& path) const = 0;
};

// Files below a directory standing for /sys (the real one by default).
class DiskSysfs : public SysfsSource {
public:
	explicit DiskSysfs(std::string root = "/sys") : root_(std::move(root)) {}
	ReadStatus read_file(const std::string& path, std::string* contents,
			     int* errnum) override;
	ReadStatus list_dir(const std::string& path, std::vector<std::string>* names,
			    int* errnum) override;
	std::string full_path(const std::string& path) const override;

private:
	std::string root_;
};

struct SiBranch {
	int index = 0;
	std::string path;
	std::string perm;
	long long brid = -1;
};

struct SiInfo {
	std::string id;		// 16 hex digits, without "si_"
	std::vector<SiBranch> branches;
	std::string xino;	// empty: no xino file
};

// The cppaufs part of sysfs. Errors are full sentences for "auctl: error:".
class CppaufsSysfs {
public:
	explicit CppaufsSysfs(SysfsSource* src) : src_(src) {}

	// Whether fs/cppaufs exists (the module is loaded).
	bool present();
	// Whether si_<id> exists.
	bool has_instance(const std::string& id);
	// Ids of every si_<id> directory, sorted.
	bool list_instances(std::vector<std::string>* ids, std::string* err);
	// Number of br<N> files of si_<id>. On failure, *status (if given)
	// says why: kNotFound for an unknown instance.
	bool branch_count(const std::string& id, int* count, std::string* err,
			  ReadStatus* status = nullptr);
	// Everything about si_<id>.
	bool read_instance(const std::string& id, SiInfo* info, std::string* err);

	// "0123456789abcdef" or "si_0123456789abcdef" -> the 16 digits.
	static bool parse_si_id(const std::string& text, std::string* id);

private:
	bool read_value(const std::string& path, std::string* value, std::string* err);
	std::string si_dir(const std::string& id) const;

	SysfsSource* src_;
};

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_SYSFS_H_
