// The mount table fixture, read with libmount.
#include <catch2/catch.hpp>

#include "mountinfo.h"

using cppaufs::MountEntry;

TEST_CASE("cppaufs mounts and their si= come from mountinfo", "[mountinfo]")
{
	std::vector<MountEntry> mounts;
	std::string err;
	REQUIRE(cppaufs::read_mounts(CPPAUFS_FIXTURES "/mountinfo", &mounts, &err));
	REQUIRE(mounts.size() == 7);
	const MountEntry& seed = mounts[3];
	CHECK(seed.target == "/home/vagrant/aufs/merged");
	CHECK(seed.source == "none");
	CHECK(seed.fstype == "cppaufs");
	CHECK(seed.si_id == "5d2a9c0e1f3b4a67");
	CHECK(mounts[4].source == "images");
	CHECK(mounts[4].si_id == "00000000000000aa");
	CHECK(mounts[5].fstype == "tmpfs");
	CHECK(mounts[5].si_id.empty());

	const MountEntry* m = cppaufs::find_mount(mounts, "/home/vagrant/aufs/merged//");
	REQUIRE(m);
	CHECK(m->si_id == "5d2a9c0e1f3b4a67");
	CHECK(cppaufs::find_mount(mounts, "/home/vagrant/aufs") == nullptr);
}

TEST_CASE("an unreadable mount table is an error naming it", "[mountinfo]")
{
	std::vector<MountEntry> mounts;
	std::string err;
	REQUIRE_FALSE(cppaufs::read_mounts(CPPAUFS_FIXTURES "/no-such-file", &mounts, &err));
	CHECK(err == "cannot read " CPPAUFS_FIXTURES "/no-such-file: No such file or directory");
}
