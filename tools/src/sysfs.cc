#include "sysfs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "cppaufs.h"
#include "raii.h"

namespace cppaufs {

namespace {

const std::string kCppaufsDir = "fs/" CPPAUFS_NAME;

ReadStatus status_of(int errnum)
{
	if (errnum == ENOENT || errnum == ENOTDIR)
		return ReadStatus::kNotFound;
	if (errnum == EACCES || errnum == EPERM)
		return ReadStatus::kDenied;
	return ReadStatus::kError;
}

// "br12" -> 12; anything else (brid12, br, bra) -> -1.
int br_index(const std::string& name)
{
	static const std::string prefix = CPPAUFS_SYSFS_BR_PREFIX;
	if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
		return -1;
	int n = 0;
	for (size_t i = prefix.size(); i < name.size(); i++) {
		if (name[i] < '0' || name[i] > '9' || n > 100000)
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n;
}

} // namespace

ReadStatus DiskSysfs::read_file(const std::string& path, std::string* contents,
				int* errnum)
{
	Fd fd(::open(full_path(path).c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd.valid()) {
		*errnum = errno;
		return status_of(*errnum);
	}
	contents->clear();
	char buf[4096];
	for (;;) {
		ssize_t n = ::read(fd.get(), buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*errnum = errno;
			return status_of(*errnum);
		}
		if (n == 0)
			return ReadStatus::kOk;
		contents->append(buf, static_cast<size_t>(n));
	}
}

ReadStatus DiskSysfs::list_dir(const std::string& path,
			       std::vector<std::string>* names, int* errnum)
{
	DIR* dir = ::opendir(full_path(path).c_str());
	if (!dir) {
		*errnum = errno;
		return status_of(*errnum);
	}
	names->clear();
	while (struct dirent* ent = ::readdir(dir)) {
		std::string name = ent->d_name;
		if (name != "." && name != "..")
			names->push_back(name);
	}
	::closedir(dir);
	std::sort(names->begin(), names->end());
	return ReadStatus::kOk;
}

std::string DiskSysfs::full_path(const std::string& path) const
{
	if (root_.empty() || root_ == "/")
		return "/" + path;
	return root_ + (root_.back() == '/' ? "" : "/") + path;
}

bool CppaufsSysfs::parse_si_id(const std::string& text, std::string* id)
{
	static const std::string prefix = CPPAUFS_SYSFS_SI_PREFIX;
	std::string digits = text;
	if (digits.compare(0, prefix.size(), prefix) == 0)
		digits.erase(0, prefix.size());
	if (digits.size() != CPPAUFS_SI_ID_DIGITS)
		return false;
	for (char& c : digits) {
		if (c >= 'A' && c <= 'F')
			c = static_cast<char>(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	*id = digits;
	return true;
}

std::string CppaufsSysfs::si_dir(const std::string& id) const
{
	return kCppaufsDir + "/" CPPAUFS_SYSFS_SI_PREFIX + id;
}

bool CppaufsSysfs::present()
{
	std::vector<std::string> names;
	int errnum = 0;
	ReadStatus st = src_->list_dir(kCppaufsDir, &names, &errnum);
	return st == ReadStatus::kOk || st == ReadStatus::kDenied;
}

bool CppaufsSysfs::has_instance(const std::string& id)
{
	std::vector<std::string> names;
	int errnum = 0;
	ReadStatus st = src_->list_dir(si_dir(id), &names, &errnum);
	return st == ReadStatus::kOk || st == ReadStatus::kDenied;
}

bool CppaufsSysfs::list_instances(std::vector<std::string>* ids, std::string* err)
{
	std::vector<std::string> names;
	int errnum = 0;
	ReadStatus st = src_->list_dir(kCppaufsDir, &names, &errnum);
	ids->clear();
	if (st == ReadStatus::kNotFound)
		return true;
	if (st == ReadStatus::kDenied) {
		*err = "permission denied reading " + src_->full_path(kCppaufsDir);
		return false;
	}
	if (st != ReadStatus::kOk) {
		*err = "cannot read " + src_->full_path(kCppaufsDir) + ": " +
		       std::strerror(errnum);
		return false;
	}
	for (const std::string& name : names) {
		std::string id;
		if (parse_si_id(name, &id) && name.size() > id.size())
			ids->push_back(id);
	}
	return true;
}

bool CppaufsSysfs::branch_count(const std::string& id, int* count, std::string* err,
				ReadStatus* status)
{
	std::vector<std::string> names;
	int errnum = 0;
	std::string dir = si_dir(id);
	ReadStatus st = src_->list_dir(dir, &names, &errnum);
	if (status)
		*status = st;
	switch (st) {
	case ReadStatus::kOk:
		break;
	case ReadStatus::kNotFound:
		*err = CPPAUFS_SYSFS_SI_PREFIX + id + ": no such cppaufs instance";
		return false;
	case ReadStatus::kDenied:
		*err = "permission denied reading " + src_->full_path(dir);
		return false;
	case ReadStatus::kError:
		*err = "cannot read " + src_->full_path(dir) + ": " + std::strerror(errnum);
		return false;
	}
	*count = static_cast<int>(std::count_if(names.begin(), names.end(),
		[](const std::string& name) { return br_index(name) >= 0; }));
	return true;
}

bool CppaufsSysfs::read_value(const std::string& path, std::string* value,
			      std::string* err)
{
	int errnum = 0;
	switch (src_->read_file(path, value, &errnum)) {
	case ReadStatus::kOk:
		if (!value->empty() && value->back() == '\n')
			value->pop_back();
		return true;
	case ReadStatus::kDenied:
		*err = "permission denied reading " + src_->full_path(path);
		return false;
	case ReadStatus::kNotFound:
	case ReadStatus::kError:
		break;
	}
	*err = "cannot read " + src_->full_path(path) + ": " + std::strerror(errnum);
	return false;
}

bool CppaufsSysfs::read_instance(const std::string& id, SiInfo* info,
				 std::string* err)
{
	int count = 0;
	if (!branch_count(id, &count, err))
		return false;
	info->id = id;
	info->branches.clear();
	info->xino.clear();
	const std::string dir = si_dir(id) + "/";
	for (int i = 0; i < count; i++) {
		SiBranch br;
		br.index = i;
		std::string path = dir + CPPAUFS_SYSFS_BR_PREFIX + std::to_string(i);
		std::string value;
		if (!read_value(path, &value, err))
			return false;
		size_t eq = value.rfind(CPPAUFS_PERM_SEP);
		if (eq == std::string::npos || eq == 0) {
			*err = "malformed " + src_->full_path(path) + ": '" + value + "'";
			return false;
		}
		br.path = value.substr(0, eq);
		br.perm = value.substr(eq + 1);

		path = dir + CPPAUFS_SYSFS_BRID_PREFIX + std::to_string(i);
		if (!read_value(path, &value, err))
			return false;
		char* end = nullptr;
		errno = 0;
		br.brid = std::strtoll(value.c_str(), &end, 10);
		if (value.empty() || *end != '\0' || errno != 0) {
			*err = "malformed " + src_->full_path(path) + ": '" + value + "'";
			return false;
		}
		info->branches.push_back(std::move(br));
	}

	// An instance without xino may lack the file altogether.
	std::string path = dir + CPPAUFS_SYSFS_XI_PATH;
	std::vector<std::string> names;
	int errnum = 0;
	if (src_->list_dir(si_dir(id), &names, &errnum) == ReadStatus::kOk &&
	    std::find(names.begin(), names.end(), CPPAUFS_SYSFS_XI_PATH) == names.end())
		return true;
	return read_value(path, &info->xino, err);
}

} // namespace cppaufs
