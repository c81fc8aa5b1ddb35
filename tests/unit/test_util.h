// Shared helpers for the unit tests.
#ifndef CPPAUFS_TESTS_TEST_UTIL_H_
#define CPPAUFS_TESTS_TEST_UTIL_H_

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernel.h"
#include "path_probe.h"

namespace cppaufs_test {

// A fresh directory, removed with everything in it.
class TempDir {
public:
	TempDir()
	{
		const char* tmp = std::getenv("TMPDIR");
		std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") +
				   "/cppaufs-test.XXXXXX";
		char* made = ::mkdtemp(tmpl.data());
		if (!made)
			throw std::runtime_error("mkdtemp failed");
		// Resolved, so expectations can compare with realpath(3).
		path_ = std::filesystem::canonical(made).string();
	}
	~TempDir()
	{
		std::error_code ec;
		std::filesystem::remove_all(path_, ec);
	}
	TempDir(const TempDir&) = delete;
	TempDir& operator=(const TempDir&) = delete;

	const std::string& path() const { return path_; }
	std::string mkdir(const std::string& rel) const
	{
		std::filesystem::create_directories(path_ + "/" + rel);
		return path_ + "/" + rel;
	}
	std::string write(const std::string& rel, const std::string& text) const
	{
		std::ofstream(path_ + "/" + rel) << text;
		return path_ + "/" + rel;
	}

private:
	std::string path_;
};

// Resolves paths lexically below /u; names in |missing| do not exist,
// names in |files| are not directories, |unions| are cppaufs mounts.
class FakeProbe : public cppaufs::PathProbe {
public:
	std::set<std::string> missing, files, unions;

	int resolve(const std::string& path, std::string* canonical) override
	{
		std::filesystem::path p = path[0] == '/' ? std::filesystem::path(path)
							 : "/u" / std::filesystem::path(path);
		std::string s = p.lexically_normal().string();
		while (s.size() > 1 && s.back() == '/')
			s.pop_back();
		if (missing.count(s))
			return ENOENT;
		*canonical = s;
		return 0;
	}
	bool is_directory(const std::string& canonical) override
	{
		return !files.count(canonical);
	}
	bool is_cppaufs(const std::string& canonical) override
	{
		return unions.count(canonical) > 0;
	}
};

// Records every call as one line; calls named in |fail| return that errno
// and leave |log| to be read back.
class FakeSystem : public cppaufs::MountSystem {
public:
	std::vector<std::string> calls;
	std::map<std::string, int> fail;	// call name -> errno
	std::vector<std::string> log;

	int fs_open(const std::string& fstype) override
	{
		return record("fsopen", "fsopen " + fstype, 3);
	}
	int fs_set_string(int, const std::string& key, const std::string& value) override
	{
		return record("string " + key, "string " + key + "=" + value, 0);
	}
	int fs_set_flag(int, const std::string& key) override
	{
		return record("flag " + key, "flag " + key, 0);
	}
	int fs_create(int) override { return record("create", "create", 0); }
	int fs_pick(const std::string& target) override
	{
		return record("fspick", "fspick " + target, 5);
	}
	int fs_reconfigure(int) override { return record("reconfigure", "reconfigure", 0); }
	int fs_mount(int, unsigned int attrs) override
	{
		std::ostringstream s;
		s << "fsmount 0x" << std::hex << attrs;
		return record("fsmount", s.str(), 4);
	}
	int move_mount(int, const std::string& target) override
	{
		return record("move_mount", "move_mount " + target, 0);
	}
	std::vector<std::string> read_log(int) override
	{
		std::vector<std::string> out;
		out.swap(log);
		return out;
	}
	void close(int fd) override { calls.push_back("close " + std::to_string(fd)); }
	int mount_legacy(const std::string& source, const std::string& target,
			 const std::string& fstype, unsigned long flags,
			 const std::string& data) override
	{
		std::ostringstream s;
		s << "mount " << source << " " << target << " " << fstype << " 0x"
		  << std::hex << flags << " " << data;
		return record("mount", s.str(), 0);
	}
	int enter_mount_ns(const std::string& ns) override
	{
		return record("setns", "setns " + ns, 0);
	}
	int update_utab(const std::string& source, const std::string& target,
			const std::string& user, unsigned long) override
	{
		return record("utab", "utab " + source + " " + target + " " + user, 0);
	}

private:
	int record(const std::string& name, const std::string& line, int ok)
	{
		calls.push_back(line);
		auto it = fail.find(name);
		return it == fail.end() ? ok : -it->second;
	}
};

} // namespace cppaufs_test

#endif // CPPAUFS_TESTS_TEST_UTIL_H_
