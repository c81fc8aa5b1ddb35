// Reading si_<id> directories: the fixture tree and an in-memory fake.
#include <catch2/catch.hpp>

#include <cerrno>
#include <map>
#include <set>

#include "sysfs.h"

using cppaufs::CppaufsSysfs;
using cppaufs::DiskSysfs;
using cppaufs::ReadStatus;
using cppaufs::SiInfo;

namespace {

const std::string kFixtureSysfs = CPPAUFS_FIXTURES "/sysfs";
const std::string kSeedId = "5d2a9c0e1f3b4a67";

// Files by path; a directory is listed from the paths below it. Paths in
// |denied| fail with EACCES.
class FakeSysfs : public cppaufs::SysfsSource {
public:
	std::map<std::string, std::string> files;
	std::set<std::string> denied;

	ReadStatus read_file(const std::string& path, std::string* contents,
			     int* errnum) override
	{
		if (denied.count(path)) {
			*errnum = EACCES;
			return ReadStatus::kDenied;
		}
		auto it = files.find(path);
		if (it == files.end()) {
			*errnum = ENOENT;
			return ReadStatus::kNotFound;
		}
		*contents = it->second;
		return ReadStatus::kOk;
	}
	ReadStatus list_dir(const std::string& path, std::vector<std::string>* names,
			    int* errnum) override
	{
		names->clear();
		if (denied.count(path)) {
			*errnum = EACCES;
			return ReadStatus::kDenied;
		}
		std::set<std::string> seen;
		for (const auto& f : files) {
			if (f.first.compare(0, path.size() + 1, path + "/") != 0)
				continue;
			std::string rest = f.first.substr(path.size() + 1);
			seen.insert(rest.substr(0, rest.find('/')));
		}
		if (seen.empty()) {
			*errnum = ENOENT;
			return ReadStatus::kNotFound;
		}
		names->assign(seen.begin(), seen.end());
		return ReadStatus::kOk;
	}
	std::string full_path(const std::string& path) const override
	{
		return "/sys/" + path;
	}
};

} // namespace

TEST_CASE("si ids are 16 hex digits with or without si_", "[sysfs]")
{
	std::string id;
	CHECK(CppaufsSysfs::parse_si_id("si_0123456789abcdef", &id));
	CHECK(id == "0123456789abcdef");
	CHECK(CppaufsSysfs::parse_si_id("0123456789ABCDEF", &id));
	CHECK(id == "0123456789abcdef");
	CHECK_FALSE(CppaufsSysfs::parse_si_id("0123456789abcde", &id));
	CHECK_FALSE(CppaufsSysfs::parse_si_id("0123456789abcdeg", &id));
	CHECK_FALSE(CppaufsSysfs::parse_si_id("si_0123456789abcdef0", &id));
	CHECK_FALSE(CppaufsSysfs::parse_si_id("/mnt/0123456789abcdef", &id));
}

TEST_CASE("the seed mount reads back from the fixture tree", "[sysfs]")
{
	DiskSysfs disk(kFixtureSysfs);
	CppaufsSysfs sysfs(&disk);
	REQUIRE(sysfs.present());

	std::vector<std::string> ids;
	std::string err;
	REQUIRE(sysfs.list_instances(&ids, &err));
	CHECK(ids == std::vector<std::string>{"00000000000000aa", kSeedId});

	SiInfo info;
	REQUIRE(sysfs.read_instance(kSeedId, &info, &err));
	CHECK(info.id == kSeedId);
	REQUIRE(info.branches.size() == 3);
	CHECK(info.branches[0].path == "/home/vagrant/aufs/l1");
	CHECK(info.branches[0].perm == "rw");
	CHECK(info.branches[0].brid == 64);
	CHECK(info.branches[1].path == "/home/vagrant/aufs/l2");
	CHECK(info.branches[1].perm == "ro");
	CHECK(info.branches[1].brid == 65);
	CHECK(info.branches[2].path == "/home/vagrant/aufs/l3");
	CHECK(info.branches[2].index == 2);
	CHECK(info.branches[2].brid == 66);
	CHECK(info.xino == "/home/vagrant/aufs/l1/.aufs.xino");

	int count = 0;
	REQUIRE(sysfs.branch_count("00000000000000aa", &count, &err));
	CHECK(count == 1);
	REQUIRE(sysfs.read_instance("00000000000000aa", &info, &err));
	CHECK(info.xino.empty());	// xi_path holds just "\n"
	CHECK(info.branches[0].perm == "rr");
}

TEST_CASE("a missing instance and a missing module", "[sysfs]")
{
	DiskSysfs disk(kFixtureSysfs);
	CppaufsSysfs sysfs(&disk);
	SiInfo info;
	std::string err;
	CHECK_FALSE(sysfs.has_instance("ffffffffffffffff"));
	REQUIRE_FALSE(sysfs.read_instance("ffffffffffffffff", &info, &err));
	CHECK(err == "si_ffffffffffffffff: no such cppaufs instance");

	DiskSysfs empty(CPPAUFS_FIXTURES "/sysfs-empty");
	CppaufsSysfs none(&empty);
	CHECK_FALSE(none.present());
	std::vector<std::string> ids{"stale"};
	REQUIRE(none.list_instances(&ids, &err));
	CHECK(ids.empty());
}

TEST_CASE("root-only files give a permission error naming the file", "[sysfs]")
{
	FakeSysfs fake;
	const std::string dir = "fs/cppaufs/si_0000000000000001/";
	fake.files = {{dir + "br0", "/a=rw\n"}, {dir + "brid0", "1\n"},
		      {dir + "br1", "/b=ro\n"}, {dir + "brid1", "2\n"},
		      {dir + "xi_path", "/a/.aufs.xino\n"}};
	CppaufsSysfs sysfs(&fake);
	SiInfo info;
	std::string err;

	SECTION("all readable") {
		REQUIRE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(info.branches.size() == 2);
		CHECK(info.branches[1].brid == 2);
	}
	SECTION("br1 denied") {
		fake.denied = {dir + "br1"};
		REQUIRE_FALSE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(err == "permission denied reading /sys/" + dir + "br1");
	}
	SECTION("xi_path denied") {
		fake.denied = {dir + "xi_path"};
		REQUIRE_FALSE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(err == "permission denied reading /sys/" + dir + "xi_path");
	}
	SECTION("no xi_path file at all means no xino") {
		fake.files.erase(dir + "xi_path");
		REQUIRE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(info.xino.empty());
	}
	SECTION("malformed values are named") {
		fake.files[dir + "br1"] = "no-permission\n";
		REQUIRE_FALSE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(err == "malformed /sys/" + dir + "br1: 'no-permission'");
		fake.files[dir + "br1"] = "/b=ro\n";
		fake.files[dir + "brid1"] = "12x\n";
		REQUIRE_FALSE(sysfs.read_instance("0000000000000001", &info, &err));
		CHECK(err == "malformed /sys/" + dir + "brid1: '12x'");
	}
	SECTION("an unreadable instance directory") {
		fake.denied = {"fs/cppaufs/si_0000000000000001"};
		int count = 0;
		ReadStatus st = ReadStatus::kOk;
		REQUIRE_FALSE(sysfs.branch_count("0000000000000001", &count, &err, &st));
		CHECK(st == ReadStatus::kDenied);
		CHECK(err == "permission denied reading /sys/fs/cppaufs/si_0000000000000001");
		REQUIRE_FALSE(sysfs.branch_count("0000000000000002", &count, &err, &st));
		CHECK(st == ReadStatus::kNotFound);
	}
	SECTION("brid files do not count as branches") {
		int count = 0;
		REQUIRE(sysfs.branch_count("0000000000000001", &count, &err));
		CHECK(count == 2);
	}
}
