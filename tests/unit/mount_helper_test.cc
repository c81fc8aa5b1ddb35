// mount.cppaufs: command line and the calls it makes, against a fake system.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <sstream>

#include <libmount/libmount.h>
#include <sys/mount.h>

#include "kernel.h"
#include "mount_helper.h"
#include "test_util.h"

using cppaufs::MountHelperOptions;
using cppaufs_test::FakeProbe;
using cppaufs_test::FakeSystem;

namespace {

struct Run {
	int rc;
	std::string out, err;
};

Run run(const MountHelperOptions& opts, FakeSystem* sys, FakeProbe* probe)
{
	std::ostringstream out, err;
	int rc = cppaufs::run_mount_helper(opts, sys, probe, out, err);
	return {rc, out.str(), err.str()};
}

MountHelperOptions options(const std::string& o)
{
	MountHelperOptions opts;
	opts.spec = "none";
	opts.dir = "/mnt";
	opts.options = o;
	return opts;
}

Run parse(std::vector<const char*> argv, MountHelperOptions* opts)
{
	argv.insert(argv.begin(), "mount.cppaufs");
	std::ostringstream out, err;
	int rc = cppaufs::parse_mount_helper_args(static_cast<int>(argv.size()),
						  argv.data(), opts, out, err);
	return {rc, out.str(), err.str()};
}

} // namespace

TEST_CASE("helper arguments follow mount(8)'s helper convention", "[helper][args]")
{
	MountHelperOptions opts;
	SECTION("everything") {
		Run r = parse({"none", "/mnt", "-sfnv", "-N", "1234", "-o", "dirs=a,ro",
			       "-o", "x-foo", "-t", "cppaufs.sub"}, &opts);
		REQUIRE(r.rc == -1);
		CHECK(opts.spec == "none");
		CHECK(opts.dir == "/mnt");
		CHECK(opts.sloppy);
		CHECK(opts.fake);
		CHECK(opts.no_mtab);
		CHECK(opts.verbose);
		CHECK(opts.ns == "1234");
		CHECK(opts.options == "dirs=a,ro,x-foo");
	}
	SECTION("no options") {
		REQUIRE(parse({"none", "/mnt"}, &opts).rc == -1);
		CHECK_FALSE(opts.fake);
		CHECK(opts.options.empty());
	}
	SECTION("missing mount point") {
		Run r = parse({"none", "-o", "dirs=a"}, &opts);
		CHECK(r.rc == MNT_EX_USAGE);
		CHECK(r.err == "mount.cppaufs: expected <spec> and <dir>\n"
			       "Try 'mount.cppaufs --help' for more information.\n");
	}
	SECTION("unknown switch") {
		Run r = parse({"none", "/mnt", "-x"}, &opts);
		CHECK(r.rc == MNT_EX_USAGE);
		CHECK(r.err.rfind("mount.cppaufs: unrecognised option '-x'\n", 0) == 0);
	}
	SECTION("another filesystem type") {
		Run r = parse({"none", "/mnt", "-t", "ext4"}, &opts);
		CHECK(r.rc == MNT_EX_USAGE);
		CHECK(r.err == "mount.cppaufs: unsupported filesystem type 'ext4'\n");
	}
	SECTION("help") {
		Run r = parse({"--help"}, &opts);
		CHECK(r.rc == 0);
		CHECK(r.out.rfind("Usage: mount.cppaufs <spec> <dir>", 0) == 0);
	}
}

TEST_CASE("a good mount is fsopen, fsconfig, create, fsmount, move_mount", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	Run r = run(options("dirs=./l1:./l2:./l3/,nodev,ro,xino=/x/y,noplink"), &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(r.out.empty());
	CHECK(r.err.empty());
	CHECK(sys.calls == std::vector<std::string>{
		"fsopen cppaufs",
		"string source=none",
		"string br=/u/l1=rw:/u/l2=ro:/u/l3=ro",
		"string xino=/x/y",
		"flag noplink",
		"flag ro",
		"create",
		"fsmount 0x5",	// MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, relatime
		"move_mount /mnt",
		"close 4",
		"close 3",
	});
}

TEST_CASE("1000 branches go in several fsconfig strings of at most 255 bytes", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	std::string dirs, expect;
	for (int i = 0; i < 1000; i++) {
		dirs += (i ? ":" : "") + std::string("layers/") + std::to_string(i);
		expect += (i ? ":/u/layers/" : "/u/layers/") + std::to_string(i) + (i ? "=ro" : "=rw");
	}
	// Sent in two option occurrences, as a caller may do.
	size_t half = dirs.find(":layers/500");
	Run r = run(options("dirs=" + dirs.substr(0, half) + ",br=" + dirs.substr(half + 1)),
		    &sys, &probe);
	REQUIRE(r.rc == 0);
	std::string joined;
	int strings = 0;
	for (const std::string& call : sys.calls) {
		if (call.rfind("string br=", 0) != 0)
			continue;
		std::string value = call.substr(10);
		CHECK(value.size() <= 255);
		joined += (joined.empty() ? "" : ":") + value;
		strings++;
	}
	CHECK(strings > 40);
	CHECK(joined == expect);
}

TEST_CASE("bad branches are reported before the kernel is asked", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	probe.missing = {"/u/l9"};
	Run r = run(options("dirs=./l1:./l9"), &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: dirs: ./l9: no such file or directory\n");
	CHECK(sys.calls.empty());

	r = run(options("ro,x-foo"), &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: no branches: use dirs=<dir>[:<dir>...]\n");
	CHECK(sys.calls.empty());
}

TEST_CASE("a missing mount point is a mount failure", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	probe.missing = {"/nowhere"};
	MountHelperOptions opts = options("dirs=a");
	opts.dir = "/nowhere";
	Run r = run(opts, &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: mount point /nowhere does not exist\n");
}

TEST_CASE("the kernel's messages are relayed with the helper's prefix", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	SECTION("error lines, once each, without the fs name") {
		sys.fail["create"] = EINVAL;
		sys.log = {"w cppaufs: xino: /x/.aufs.xino: falling back to /tmp",
			   "e cppaufs: br: /u/a: is a cppaufs mount"};
		Run r = run(options("dirs=a"), &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: warning: xino: /x/.aufs.xino: falling back to /tmp\n"
			       "mount.cppaufs: br: /u/a: is a cppaufs mount\n");
		CHECK(sys.calls.back() == "close 3");
	}
	SECTION("a failure without a message names the step and errno") {
		sys.fail["move_mount"] = EBUSY;
		Run r = run(options("dirs=a"), &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: mounting on /mnt failed: Device or resource busy\n");
	}
	SECTION("the module is not loaded") {
		sys.fail["fsopen"] = ENODEV;
		Run r = run(options("dirs=a"), &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: filesystem cppaufs is not available "
			       "(is the module loaded?)\n");
		CHECK(sys.calls == std::vector<std::string>{"fsopen cppaufs"});
	}
	SECTION("not allowed") {
		sys.fail["fsopen"] = EPERM;
		Run r = run(options("dirs=a"), &sys, &probe);
		CHECK(r.rc == MNT_EX_USAGE);
		CHECK(r.err == "mount.cppaufs: fsopen cppaufs failed: Operation not permitted\n");
	}
}

TEST_CASE("sloppy mounts skip options the kernel refuses", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	sys.fail["flag nosuchopt"] = EINVAL;
	sys.log = {"e cppaufs: Unknown parameter 'nosuchopt'"};
	MountHelperOptions opts = options("dirs=a,nosuchopt");

	SECTION("without -s the mount fails") {
		Run r = run(opts, &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: Unknown parameter 'nosuchopt'\n");
	}
	SECTION("with -s it goes on, silently") {
		opts.sloppy = true;
		Run r = run(opts, &sys, &probe);
		CHECK(r.rc == 0);
		CHECK(r.err.empty());
		CHECK(std::find(sys.calls.begin(), sys.calls.end(), "move_mount /mnt") !=
		      sys.calls.end());
	}
}

TEST_CASE("userspace options go to utab unless -n", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	MountHelperOptions opts = options("dirs=a,x-foo=1,noauto");
	SECTION("recorded") {
		REQUIRE(run(opts, &sys, &probe).rc == 0);
		auto utab = std::find(sys.calls.begin(), sys.calls.end(),
				      "utab none /mnt x-foo=1,noauto");
		auto moved = std::find(sys.calls.begin(), sys.calls.end(), "move_mount /mnt");
		REQUIRE(utab != sys.calls.end());
		CHECK(moved < utab);
	}
	SECTION("-n") {
		opts.no_mtab = true;
		REQUIRE(run(opts, &sys, &probe).rc == 0);
		for (const std::string& c : sys.calls)
			CHECK(c.rfind("utab", 0) != 0);
	}
	SECTION("nothing to record") {
		REQUIRE(run(options("dirs=a"), &sys, &probe).rc == 0);
		for (const std::string& c : sys.calls)
			CHECK(c.rfind("utab", 0) != 0);
	}
	SECTION("utab failure") {
		sys.fail["utab"] = EACCES;
		Run r = run(opts, &sys, &probe);
		CHECK(r.rc == MNT_EX_FILEIO);
		CHECK(r.err == "mount.cppaufs: cannot record options in utab: Permission denied\n");
	}
}

TEST_CASE("fake mounts check everything and call nothing", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	MountHelperOptions opts = options("dirs=./l1:./l2,x-foo");
	opts.fake = true;
	opts.verbose = true;
	Run r = run(opts, &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(sys.calls.empty());
	CHECK(r.out == "mount.cppaufs: branch ./l1 -> /u/l1=rw\n"
		       "mount.cppaufs: branch ./l2 -> /u/l2=ro\n"
		       "mount.cppaufs: fsconfig br=/u/l1=rw:/u/l2=ro\n"
		       "mount.cppaufs: fsmount attrs 0x0, move_mount to /mnt\n");
}

std::string hexflags(unsigned long flags)
{
	std::ostringstream s;
	s << "0x" << std::hex << flags;
	return s.str();
}

TEST_CASE("remount goes through fspick and fsconfig, then sets the mount's flags", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	Run r = run(options("remount,ro,nosuid"), &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(sys.calls == std::vector<std::string>{
		"fspick /mnt",
		"flag ro",
		"reconfigure",
		"close 5",
		"mount  /mnt  " + hexflags(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID) + " ",
	});

	// What mount(8) repeats from /etc/fstab: branches resolved as on a
	// first mount, for the kernel to compare with the union's.
	sys.calls.clear();
	r = run(options("remount,dirs=./a:/u/b=ro,xino=/x/y,si=5d2a9c0e1f3b4a67"), &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(sys.calls == std::vector<std::string>{
		"fspick /mnt",
		"string br=/u/a=rw:/u/b=ro",
		"string xino=/x/y",
		"string si=5d2a9c0e1f3b4a67",
		"flag rw",
		"reconfigure",
		"close 5",
		"mount  /mnt  " + hexflags(MS_REMOUNT | MS_BIND) + " ",
	});
}

TEST_CASE("branch operations on remount: one fsconfig each, in order, paths absolute", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	Run r = run(options("remount,del:/mnt/b,add:1:y=rr,ins:0:./z,append:/u/x=ro,"
			    "prepend:w=rw,mod:/u/x=rr,nometacopy"), &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(sys.calls == std::vector<std::string>{
		"fspick /mnt",
		"string del=/mnt/b",
		"string add=1:/u/y=rr",
		"string add=0:/u/z",
		"string append=/u/x=ro",
		"string prepend=/u/w=rw",
		"string mod=/u/x=rr",
		"flag nometacopy",
		"flag rw",
		"reconfigure",
		"close 5",
		"mount  /mnt  " + hexflags(MS_REMOUNT | MS_BIND) + " ",
	});
}

TEST_CASE("remount -v traces each call; -f makes none", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	MountHelperOptions opts = options("remount,ro,append:./x=ro,del:/u/b");
	opts.verbose = true;
	opts.fake = true;
	Run r = run(opts, &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(sys.calls.empty());
	CHECK(r.out == "mount.cppaufs: fspick /mnt\n"
		       "mount.cppaufs: fsconfig append=/u/x=ro\n"
		       "mount.cppaufs: fsconfig del=/u/b\n"
		       "mount.cppaufs: fsconfig ro\n"
		       "mount.cppaufs: fsconfig reconfigure\n"
		       "mount.cppaufs: mount(2) /mnt flags bind,remount,ro (mount attributes)\n");
}

TEST_CASE("the kernel's refusal of a branch operation is relayed", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	SECTION("at reconfigure: all or nothing, the kernel names the step") {
		sys.fail["reconfigure"] = EBUSY;
		sys.log = {"e cppaufs: del:/u/b: branch busy: 2 open files"};
		Run r = run(options("remount,del:b,append:c"), &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: del:/u/b: branch busy: 2 open files\n");
		CHECK(sys.calls.back() == "close 5");
		for (const std::string& c : sys.calls)
			CHECK(c.rfind("mount ", 0) != 0);
	}
	SECTION("at fsconfig, without a message: the step and errno") {
		sys.fail["string append"] = EINVAL;
		Run r = run(options("remount,append:c=ro"), &sys, &probe);
		CHECK(r.rc == MNT_EX_FAIL);
		CHECK(r.err == "mount.cppaufs: append:/u/c=ro failed: Invalid argument\n");
	}
	SECTION("not allowed") {
		sys.fail["fspick"] = EPERM;
		Run r = run(options("remount,append:c"), &sys, &probe);
		CHECK(r.rc == MNT_EX_USAGE);
		CHECK(r.err == "mount.cppaufs: cannot remount /mnt: Operation not permitted\n");
	}
	SECTION("warnings of a good remount") {
		sys.log = {"w cppaufs: append:/u/c: xino not on this branch"};
		Run r = run(options("remount,append:c"), &sys, &probe);
		CHECK(r.rc == 0);
		CHECK(r.err == "mount.cppaufs: warning: append:/u/c: xino not on this branch\n");
	}
}

TEST_CASE("without fspick(2), remount falls back to mount(2)", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	sys.fail["fspick"] = ENOSYS;
	Run r = run(options("remount,ro,dirs=/u/a:/u/b=ro"), &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(sys.calls == std::vector<std::string>{
		"fspick /mnt",
		"mount none /mnt cppaufs " + hexflags(MS_REMOUNT | MS_RDONLY) + " dirs=/u/a:/u/b=ro",
	});

	sys.calls.clear();
	r = run(options("remount,append:/u/c"), &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: append:/u/c: branch operations need fspick(2), "
		       "which this kernel lacks\n");
	CHECK(sys.calls == std::vector<std::string>{"fspick /mnt"});
}

TEST_CASE("branch operations are checked before the kernel is asked", "[helper][remount]")
{
	FakeSystem sys;
	FakeProbe probe;
	probe.missing = {"/u/nope"};
	probe.files = {"/u/file"};
	probe.unions = {"/u/union"};
	using Case = std::pair<std::string, std::string>;
	auto c = GENERATE(
		Case("append:nope", "append:nope: no such file or directory"),
		Case("prepend:file=ro", "prepend:file=ro: not a directory"),
		Case("append:union", "append:union: is a cppaufs mount"),
		Case("append:a=rx", "append:a=rx: bad permission 'rx' (expected rw, ro or rr)"),
		Case("append:=ro", "append:=ro: empty branch path"),
		Case("del:", "del:: empty branch path"),
		Case("mod:/u/a", "mod:/u/a: no permission (expected mod:<path>=rw|ro|rr)"),
		Case("add:/u/a", "add:/u/a: expected add:<index>:<path>[=rw|ro|rr]"),
		Case("add:x:/u/a", "add:x:/u/a: bad index 'x' (expected 0 to 1022)"),
		Case("ins:1023:/u/a", "ins:1023:/u/a: bad index '1023' (expected 0 to 1022)"),
		Case("add:1:", "add:1:: empty branch path"));
	Run r = run(options("remount,del:/u/b," + c.first), &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: " + c.second + "\n");
	CHECK(sys.calls.empty());
}

TEST_CASE("branch operations on a first mount are refused, naming the option", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	Run r = run(options("dirs=a,append:/u/b=ro"), &sys, &probe);
	CHECK(r.rc == MNT_EX_FAIL);
	CHECK(r.err == "mount.cppaufs: append:/u/b=ro: changes the branches of a mounted "
		       "union: use -o remount,append:/u/b=ro\n");
	CHECK(sys.calls.empty());
}

TEST_CASE("option -N enters the namespace before anything else", "[helper]")
{
	FakeSystem sys;
	FakeProbe probe;
	MountHelperOptions opts = options("dirs=a");
	opts.ns = "/proc/42/ns/mnt";
	REQUIRE(run(opts, &sys, &probe).rc == 0);
	CHECK(sys.calls.front() == "setns /proc/42/ns/mnt");

	sys.calls.clear();
	sys.fail["setns"] = ENOENT;
	Run r = run(opts, &sys, &probe);
	CHECK(r.rc == MNT_EX_SYSERR);
	CHECK(r.err == "mount.cppaufs: cannot enter mount namespace /proc/42/ns/mnt: "
		       "No such file or directory\n");
}
