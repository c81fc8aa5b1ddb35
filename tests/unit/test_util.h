// Shared helpers for the unit tests.
#ifndef CPPAUFS_TESTS_TEST_UTIL_H_
#define CPPAUFS_TESTS_TEST_UTIL_H_

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

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

} // namespace cppaufs_test

#endif // CPPAUFS_TESTS_TEST_UTIL_H_
