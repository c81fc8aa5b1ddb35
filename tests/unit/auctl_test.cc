// auctl end to end, in process, against the fixture tree and mount table.
#include <catch2/catch.hpp>

#include <sstream>

#include "auctl.h"
#include "test_util.h"

using cppaufs::AuctlOptions;
using cppaufs_test::FakeProbe;
using cppaufs_test::FakeSystem;

namespace {

struct Result {
	int rc;
	std::string out, err;
};

// Parses like main() does, with the fixtures as sysfs and mount table.
Result auctl(std::vector<const char*> args, FakeSystem* sys = nullptr,
	     FakeProbe* probe = nullptr)
{
	std::vector<const char*> argv = {"auctl", "--sysfs-root", CPPAUFS_FIXTURES "/sysfs",
					 "--mountinfo", CPPAUFS_FIXTURES "/mountinfo",
					 "--filesystems", CPPAUFS_FIXTURES "/filesystems-with"};
	argv.insert(argv.end(), args.begin(), args.end());
	AuctlOptions opts;
	std::ostringstream out, err;
	int rc = cppaufs::parse_auctl_args(static_cast<int>(argv.size()), argv.data(),
					   &opts, out, err);
	if (rc < 0)
		rc = cppaufs::run_auctl(opts, nullptr, out, err, sys, probe);
	return {rc, out.str(), err.str()};
}

const char kSeedTable[] =
	"INDEX PATH                  PERM BRID\n"
	"    0 /home/vagrant/aufs/l1 rw     64\n"
	"    1 /home/vagrant/aufs/l2 ro     65\n"
	"    2 /home/vagrant/aufs/l3 ro     66\n"
	"xino: /home/vagrant/aufs/l1/.aufs.xino\n";

} // namespace

TEST_CASE("auctl list shows every cppaufs mount", "[auctl]")
{
	Result r = auctl({"list"});
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(r.out == "TARGET                    SI                  BRANCHES SOURCE\n"
		       "/home/vagrant/aufs/merged si_5d2a9c0e1f3b4a67        3 none\n"
		       "/srv/union                si_00000000000000aa        1 images\n"
		       "/mnt/stale                si_ffffffffffffffff          none\n");
}

TEST_CASE("auctl list --json has numbers and null for an unknown count", "[auctl]")
{
	Result r = auctl({"list", "--json", "-o", "TARGET,BRANCHES"});
	CHECK(r.rc == 0);
	CHECK(r.out == "{\n"
		       "   \"mounts\": [\n"
		       "      {\n"
		       "         \"target\": \"/home/vagrant/aufs/merged\",\n"
		       "         \"branches\": 3\n"
		       "      },{\n"
		       "         \"target\": \"/srv/union\",\n"
		       "         \"branches\": 1\n"
		       "      },{\n"
		       "         \"target\": \"/mnt/stale\",\n"
		       "         \"branches\": null\n"
		       "      }\n"
		       "   ]\n"
		       "}\n");
}

TEST_CASE("auctl show accepts si_<id>, <id> and a mount point", "[auctl]")
{
	const char* what = GENERATE("si_5d2a9c0e1f3b4a67", "5d2a9c0e1f3b4a67",
				    "/home/vagrant/aufs/merged", "/home/vagrant/aufs/merged/");
	Result r = auctl({"show", what});
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(r.out == kSeedTable);
}

TEST_CASE("auctl show --json carries si and xino at the top level", "[auctl]")
{
	Result r = auctl({"show", "--json", "/srv/union"});
	CHECK(r.rc == 0);
	CHECK(r.out == "{\n"
		       "   \"branches\": [\n"
		       "      {\n"
		       "         \"index\": 0,\n"
		       "         \"path\": \"/srv/image\",\n"
		       "         \"perm\": \"rr\",\n"
		       "         \"brid\": 7\n"
		       "      }\n"
		       "   ],\n"
		       "   \"si\": \"si_00000000000000aa\",\n"
		       "   \"xino\": null\n"
		       "}\n");
}

TEST_CASE("auctl show for scripts: raw, no headings, chosen columns, no xino line", "[auctl]")
{
	Result r = auctl({"show", "-rn", "si_5d2a9c0e1f3b4a67"});
	CHECK(r.out == "0 /home/vagrant/aufs/l1 rw 64\n"
		       "1 /home/vagrant/aufs/l2 ro 65\n"
		       "2 /home/vagrant/aufs/l3 ro 66\n");
	r = auctl({"show", "-o", "PATH,XINO", "--raw", "00000000000000aa"});
	CHECK(r.out == "PATH XINO\n/srv/image \n");
}

TEST_CASE("auctl errors name what is wrong", "[auctl]")
{
	Result r = auctl({"show", "si_0123456789abcdef"});
	CHECK(r.rc == 1);
	CHECK(r.out.empty());
	CHECK(r.err == "auctl: error: si_0123456789abcdef: no such cppaufs instance\n");

	r = auctl({"show", "/tmp"});
	CHECK(r.rc == 1);
	CHECK(r.err == "auctl: error: /tmp: not a cppaufs mount point (it is tmpfs)\n");

	r = auctl({"show", "/no/such/mount"});
	CHECK(r.err == "auctl: error: /no/such/mount: not a cppaufs mount point\n");

	r = auctl({"list", "-o", "TARGET,SIZE"});
	CHECK(r.rc == 1);
	CHECK(r.err == "auctl: error: unknown column: 'SIZE'\n");
}

TEST_CASE("auctl without the module", "[auctl]")
{
	std::vector<const char*> argv = {"auctl", "--sysfs-root", CPPAUFS_FIXTURES "/sysfs-empty",
					 "--filesystems", CPPAUFS_FIXTURES "/filesystems-without",
					 "--mountinfo", CPPAUFS_FIXTURES "/mountinfo", "list"};
	AuctlOptions opts;
	std::ostringstream out, err;
	REQUIRE(cppaufs::parse_auctl_args(static_cast<int>(argv.size()), argv.data(), &opts,
					  out, err) == -1);
	CHECK(cppaufs::run_auctl(opts, nullptr, out, err) == 1);
	CHECK(err.str() == "auctl: error: cppaufs module is not loaded\n");

	SECTION("registered but without a sysfs directory yet: not an error") {
		opts.filesystems = CPPAUFS_FIXTURES "/filesystems-with";
		std::ostringstream out2, err2;
		CHECK(cppaufs::run_auctl(opts, nullptr, out2, err2) == 0);
		CHECK(err2.str().empty());
	}
}

TEST_CASE("auctl usage errors", "[auctl][args]")
{
	using Case = std::pair<std::vector<const char*>, std::string>;
	auto c = GENERATE(
		Case({}, "no command given (list, show, add, append, prepend, del, mod, "
			 "apply or busy)"),
		Case({"lst"}, "unknown command 'lst' (list, show, add, append, prepend, del, "
			      "mod, apply or busy)"),
		Case({"add", "/m", "/a"}, "add takes three operands: <mount> <index> "
					  "<path>[=rw|ro|rr]"),
		Case({"append", "/m"}, "append takes two operands: <mount> <path>[=rw|ro|rr]"),
		Case({"del", "/m", "/a", "/b"}, "del takes two operands: <mount> <path>"),
		Case({"mod", "/m"}, "mod takes two operands: <mount> <path>=rw|ro|rr"),
		Case({"apply", "/m"}, "apply takes a mount and at least one operation"),
		Case({"busy", "/m"}, "busy takes two operands: <mount> <branch path | index>"),
		Case({"show"}, "show takes one operand: si_<id>, <id> or a mount point"),
		Case({"show", "a", "b"}, "show takes one operand: si_<id>, <id> or a mount point"),
		Case({"list", "x"}, "list takes no operand"),
		Case({"list", "--json", "--raw"}, "--json and --raw are mutually exclusive"),
		Case({"list", "--bogus"}, "unrecognised option '--bogus'"));
	Result r = auctl(c.first);
	CHECK(r.rc == 1);
	CHECK(r.out.empty());
	CHECK(r.err == "auctl: error: " + c.second + "\nTry 'auctl --help' for more information.\n");
}

TEST_CASE("auctl --help lists commands and columns", "[auctl][args]")
{
	Result r = auctl({"--help"});
	CHECK(r.rc == 0);
	CHECK(r.out.rfind("Usage:\n  auctl [options] list\n", 0) == 0);
	CHECK(r.out.find("  BRANCHES  number of branches\n") != std::string::npos);
	CHECK(r.out.find("sysfs-root") == std::string::npos);	// hidden
}

TEST_CASE("auctl changes branches with the helper's fsconfig sequence", "[auctl][change]")
{
	FakeSystem sys;
	FakeProbe probe;
	using Case = std::pair<std::vector<const char*>, std::vector<std::string>>;
	auto c = GENERATE(
		Case({"add", "/home/vagrant/aufs/merged", "1", "/srv/new=rr"},
		     {"string add=1:/srv/new=rr"}),
		Case({"append", "si_5d2a9c0e1f3b4a67", "new"}, {"string append=/u/new"}),
		Case({"prepend", "/home/vagrant/aufs/merged/", "/srv/new=rw"},
		     {"string prepend=/srv/new=rw"}),
		Case({"del", "/home/vagrant/aufs/merged", "/home/vagrant/aufs/l3"},
		     {"string del=/home/vagrant/aufs/l3"}),
		Case({"mod", "/home/vagrant/aufs/merged", "/home/vagrant/aufs/l2=rr"},
		     {"string mod=/home/vagrant/aufs/l2=rr"}),
		Case({"apply", "/home/vagrant/aufs/merged", "del:/home/vagrant/aufs/l3",
		      "ins:0:/srv/new"},
		     {"string del=/home/vagrant/aufs/l3", "string add=0:/srv/new"}));
	Result r = auctl(c.first, &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(r.out.empty());
	CHECK(r.err.empty());
	std::vector<std::string> want = {"fspick /home/vagrant/aufs/merged"};
	want.insert(want.end(), c.second.begin(), c.second.end());
	want.push_back("reconfigure");
	want.push_back("close 5");
	CHECK(sys.calls == want);
}

TEST_CASE("auctl -v traces the calls; the kernel's errors are auctl's", "[auctl][change]")
{
	FakeSystem sys;
	FakeProbe probe;
	Result r = auctl({"-v", "append", "/srv/union", "/srv/new=ro"}, &sys, &probe);
	CHECK(r.rc == 0);
	CHECK(r.out == "auctl: fspick /srv/union\n"
		       "auctl: fsconfig append=/srv/new=ro\n"
		       "auctl: fsconfig reconfigure\n");

	sys.calls.clear();
	sys.fail["reconfigure"] = EBUSY;
	sys.log = {"w cppaufs: something to know",
		   "e cppaufs: del:/srv/image: branch busy: 2 open files"};
	r = auctl({"del", "/srv/union", "/srv/image"}, &sys, &probe);
	CHECK(r.rc == 1);
	CHECK(r.err == "auctl: warning: something to know\n"
		       "auctl: error: del:/srv/image: branch busy: 2 open files\n");

	sys.calls.clear();
	probe.missing = {"/u/nope"};
	r = auctl({"apply", "/srv/union", "del:/srv/image", "append:nope"}, &sys, &probe);
	CHECK(r.rc == 1);
	CHECK(r.err == "auctl: error: append:nope: no such file or directory\n");
	CHECK(sys.calls.empty());

	r = auctl({"append", "/tmp", "/srv/x"}, &sys, &probe);
	CHECK(r.err == "auctl: error: /tmp: not a cppaufs mount point (it is tmpfs)\n");
	r = auctl({"apply", "/srv/union", "remove:/srv/image"}, &sys, &probe);
	CHECK(r.err == "auctl: error: remove:/srv/image: not a branch operation "
		       "(add, ins, append, prepend, del or mod)\n");
}
