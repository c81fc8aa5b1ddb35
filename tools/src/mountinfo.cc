#include "mountinfo.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include "cppaufs.h"
#include "raii.h"

namespace cppaufs {

bool read_mounts(const std::string& file, std::vector<MountEntry>* mounts,
		 std::string* err)
{
	mounts->clear();
	if (::access(file.c_str(), R_OK) != 0) {
		*err = errno == EACCES ? "permission denied reading " + file
				       : "cannot read " + file + ": " + std::strerror(errno);
		return false;
	}
	MntTable tb(mnt_new_table());
	MntIter itr(mnt_new_iter(MNT_ITER_FORWARD));
	if (!tb || !itr) {
		*err = "out of memory";
		return false;
	}
	int rc = mnt_table_parse_file(tb.get(), file.c_str());
	if (rc != 0) {
		*err = "cannot parse " + file + ": " + std::strerror(rc < 0 ? -rc : rc);
		return false;
	}
	libmnt_fs* fs = nullptr;
	while (mnt_table_next_fs(tb.get(), itr.get(), &fs) == 0) {
		MountEntry m;
		if (const char* s = mnt_fs_get_target(fs))
			m.target = s;
		if (const char* s = mnt_fs_get_source(fs))
			m.source = s;
		if (const char* s = mnt_fs_get_fstype(fs))
			m.fstype = s;
		char* value = nullptr;
		size_t size = 0;
		if (m.fstype == CPPAUFS_NAME &&
		    mnt_fs_get_option(fs, CPPAUFS_OPT_SI, &value, &size) == 0 && value)
			m.si_id.assign(value, size);
		mounts->push_back(std::move(m));
	}
	return true;
}

const MountEntry* find_mount(const std::vector<MountEntry>& mounts,
			     const std::string& target)
{
	std::vector<std::string> names{target};
	std::string trimmed = target;
	while (trimmed.size() > 1 && trimmed.back() == '/')
		trimmed.pop_back();
	names.push_back(trimmed);
	CString real(::realpath(target.c_str(), nullptr));
	if (real)
		names.push_back(real.get());
	for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
		for (const std::string& name : names)
			if (it->target == name)
				return &*it;
	return nullptr;
}

} // namespace cppaufs
