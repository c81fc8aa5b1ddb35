#include "path_probe.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include <sys/stat.h>
#include <sys/statfs.h>

#include "cppaufs.h"
#include "raii.h"

namespace cppaufs {

int DiskPathProbe::resolve(const std::string& path, std::string* canonical)
{
	CString real(::realpath(path.c_str(), nullptr));
	if (!real)
		return errno;
	*canonical = real.get();
	return 0;
}

bool DiskPathProbe::is_directory(const std::string& canonical)
{
	struct stat st;
	return ::stat(canonical.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool DiskPathProbe::is_cppaufs(const std::string& canonical)
{
	struct statfs sfs;
	return ::statfs(canonical.c_str(), &sfs) == 0 &&
	       static_cast<unsigned long>(sfs.f_type) == CPPAUFS_SUPER_MAGIC;
}

} // namespace cppaufs
