#include "busy.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cppaufs {

namespace {

const std::string kDeleted = " (deleted)";

bool all_digits(const std::string& s)
{
	return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Whether |path| is |dir| or lies below it; *rel gets the rest ("" or "a/b").
bool inside(const std::string& path, std::string dir, std::string* rel)
{
	while (dir.size() > 1 && dir.back() == '/')
		dir.pop_back();
	if (dir == "/") {
		*rel = path.substr(1);
		return !path.empty() && path[0] == '/';
	}
	if (path.compare(0, dir.size(), dir) != 0)
		return false;
	if (path.size() == dir.size()) {
		rel->clear();
		return true;
	}
	if (path[dir.size()] != '/')
		return false;
	*rel = path.substr(dir.size() + 1);
	return true;
}

bool read_link(const std::string& link, std::string* target)
{
	std::string buf(4096, '\0');
	ssize_t n = ::readlink(link.c_str(), &buf[0], buf.size());
	if (n < 0)
		return false;
	buf.resize(static_cast<size_t>(n));
	*target = buf;
	return true;
}

std::vector<std::string> list_dir(const std::string& path)
{
	std::vector<std::string> names;
	DIR* dir = ::opendir(path.c_str());
	if (!dir)
		return names;
	while (struct dirent* ent = ::readdir(dir)) {
		std::string name = ent->d_name;
		if (all_digits(name))
			names.push_back(name);
	}
	::closedir(dir);
	std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
		return a.size() != b.size() ? a.size() < b.size() : a < b;
	});
	return names;
}

// The pathname of a maps line: the sixth field to the end of the line.
std::string maps_path(const std::string& line)
{
	std::size_t pos = 0;
	for (int field = 0; field < 5; field++) {
		pos = line.find_first_not_of(' ', pos);
		if (pos == std::string::npos)
			return "";
		pos = line.find(' ', pos);
		if (pos == std::string::npos)
			return "";
	}
	pos = line.find_first_not_of(' ', pos);
	return pos == std::string::npos ? "" : line.substr(pos);
}

} // namespace

int topmost_branch(const std::vector<std::string>& branches, const std::string& rel)
{
	for (std::size_t i = 0; i < branches.size(); i++) {
		std::string p = branches[i] + (rel.empty() ? "" : "/" + rel);
		struct stat st;
		if (::lstat(p.c_str(), &st) == 0)
			return static_cast<int>(i);
	}
	return -1;
}

bool on_branch(const BusyScan& scan, const std::string& path)
{
	if (path.empty() || path[0] != '/' || scan.branch >= scan.branches.size())
		return false;
	std::string rel;
	std::string live = path;
	bool deleted = live.size() > kDeleted.size() &&
		       live.compare(live.size() - kDeleted.size(), kDeleted.size(),
				    kDeleted) == 0;
	if (deleted)
		live.erase(live.size() - kDeleted.size());
	if (inside(live, scan.branches[scan.branch], &rel))
		return true;
	if (deleted || scan.mount_point.empty() || !inside(live, scan.mount_point, &rel))
		return false;
	return topmost_branch(scan.branches, rel) == static_cast<int>(scan.branch);
}

std::vector<BusyUse> scan_busy(const BusyScan& scan)
{
	std::vector<BusyUse> uses;
	for (const std::string& pid : list_dir(scan.proc_root)) {
		int id = std::stoi(pid);
		if (id == scan.self)
			continue;
		const std::string dir = scan.proc_root + "/" + pid + "/";
		std::string command;
		std::getline(std::ifstream(dir + "comm"), command);
		auto use = [&](const std::string& what, const std::string& path) {
			if (on_branch(scan, path))
				uses.push_back({id, command, what, path});
		};
		std::string target;
		for (const char* link : {"cwd", "root", "exe"})
			if (read_link(dir + link, &target))
				use(link, target);
		for (const std::string& fd : list_dir(dir + "fd"))
			if (read_link(dir + "fd/" + fd, &target))
				use("fd " + fd, target);
		std::ifstream maps(dir + "maps");
		std::set<std::string> seen;
		std::string line;
		while (std::getline(maps, line)) {
			std::string path = maps_path(line);
			if (!path.empty() && seen.insert(path).second)
				use("map", path);
		}
	}
	return uses;
}

std::string busy_summary(const std::vector<BusyUse>& uses, std::size_t max)
{
	std::vector<std::string> shown;
	std::set<int> seen;
	bool more = false;
	for (const BusyUse& use : uses) {
		if (!seen.insert(use.pid).second)
			continue;
		if (shown.size() == max) {
			more = true;
			break;
		}
		shown.push_back("pid " + std::to_string(use.pid) + " " + use.command);
	}
	std::string text;
	for (const std::string& s : shown)
		text += (text.empty() ? "" : ", ") + s;
	if (more)
		text += ", ...";
	return text;
}

void name_busy_processes(const BusyScan& base, std::vector<KernelMessage>* messages)
{
	static const std::string del = "del:", busy = ": branch busy: ";
	for (KernelMessage& msg : *messages) {
		std::size_t at = msg.text.find(busy);
		if (msg.kind != 'e' || msg.text.compare(0, del.size(), del) != 0 ||
		    at == std::string::npos)
			continue;
		const std::string branch = msg.text.substr(del.size(), at - del.size());
		auto it = std::find(base.branches.begin(), base.branches.end(), branch);
		if (it == base.branches.end())
			continue;
		BusyScan scan = base;
		scan.branch = static_cast<std::size_t>(it - base.branches.begin());
		std::string who = busy_summary(scan_busy(scan));
		if (!who.empty())
			msg.text += " (" + who + ")";
	}
}

} // namespace cppaufs
