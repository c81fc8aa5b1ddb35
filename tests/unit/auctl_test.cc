// auctl end to end, in process, against the fixture tree and mount table.
#include <catch2/catch.hpp>

#include <sstream>

#include "auctl.h"

using cppaufs::AuctlOptions;

namespace {

struct Result {
	int rc;
	std::string out, err;
};

// Parses like main() does, with the fixtures as sysfs and mount table.
Result auctl(std::vector<const char*> args)
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
		rc = cppaufs::run_auctl(opts, nullptr, out, err);
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
		Case({}, "no command given (list or show)"),
		Case({"lst"}, "unknown command 'lst' (list or show)"),
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
