// Splitting -o with libmount into VFS, userspace and filesystem options.
#include <catch2/catch.hpp>

#include <sys/mount.h>

#include "mount_options.h"

using cppaufs::SplitOptions;

TEST_CASE("mount options split into VFS, userspace and fs parts", "[options]")
{
	SplitOptions s;
	std::string err;
	REQUIRE(cppaufs::split_mount_options(
		"dirs=./a:./b=ro,nosuid,x-gvfs-show,noatime,br=c,xino=/tmp/x,ro,user,noplink",
		&s, &err));
	CHECK(s.ms_flags == (MS_NOSUID | MS_NOATIME | MS_RDONLY));
	CHECK(s.vfs == "nosuid,noatime,ro");
	CHECK(s.user == "x-gvfs-show,user");
	REQUIRE(s.fs.size() == 4);
	CHECK(s.fs[0].key == "dirs");
	CHECK(s.fs[0].value == "./a:./b=ro");
	CHECK(s.fs[0].has_value);
	CHECK(s.fs[1].key == "br");
	CHECK(s.fs[2].key == "xino");
	CHECK(s.fs[2].value == "/tmp/x");
	CHECK(s.fs[3].key == "noplink");
	CHECK_FALSE(s.fs[3].has_value);
}

TEST_CASE("quoted option values keep their commas", "[options]")
{
	SplitOptions s;
	std::string err;
	REQUIRE(cppaufs::split_mount_options("dirs=\"a,b:c\",rw", &s, &err));
	REQUIRE(s.fs.size() == 1);
	CHECK(s.fs[0].value == "\"a,b:c\"");
	CHECK(s.ms_flags == 0);
}

TEST_CASE("an empty option string is nothing", "[options]")
{
	SplitOptions s;
	std::string err;
	REQUIRE(cppaufs::split_mount_options("", &s, &err));
	CHECK(s.fs.empty());
	CHECK(s.user.empty());
	CHECK(s.ms_flags == 0);
}

TEST_CASE("VFS flags become mount attributes and superblock flags", "[options]")
{
	CHECK(cppaufs::mount_attrs_from_flags(0) == MOUNT_ATTR_RELATIME);
	CHECK(cppaufs::mount_attrs_from_flags(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) ==
	      (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
	CHECK(cppaufs::mount_attrs_from_flags(MS_NOATIME | MS_NODIRATIME) ==
	      (MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME));
	CHECK(cppaufs::mount_attrs_from_flags(MS_STRICTATIME) == MOUNT_ATTR_STRICTATIME);

	CHECK(cppaufs::sb_flag_keys(MS_RDONLY | MS_SYNCHRONOUS | MS_LAZYTIME) ==
	      std::vector<std::string>{"ro", "sync", "lazytime"});
	CHECK(cppaufs::sb_flag_keys(MS_NOSUID).empty());

	CHECK(cppaufs::legacy_only_flags(MS_REMOUNT | MS_RDONLY) == MS_REMOUNT);
	CHECK(cppaufs::legacy_only_flags(MS_RDONLY | MS_NOEXEC) == 0);
}
