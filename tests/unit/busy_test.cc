// auctl busy: which uses of a fake /proc tree are on a branch.
#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "busy.h"
#include "test_util.h"

using cppaufs::BusyScan;
using cppaufs::BusyUse;
using cppaufs_test::TempDir;

namespace {

// l1 (top), l2, l3 and a union mount point u, all plain directories here.
struct Tree {
	TempDir t;
	BusyScan scan;
	Tree()
	{
		t.mkdir("l1/d");
		t.mkdir("l2/d/sub");
		t.mkdir("l3/d");
		t.mkdir("u");
		t.write("l1/top", "");
		t.write("l2/top", "");	// hidden by l1's
		t.write("l2/mid", "");
		t.write("l3/low", "");
		t.write("l2/d/sub/f", "");
		scan.mount_point = t.path() + "/u";
		scan.branches = {t.path() + "/l1", t.path() + "/l2", t.path() + "/l3"};
		scan.branch = 1;
	}
	std::string p(const std::string& rel) const { return t.path() + "/" + rel; }
	void link(const std::string& target, const std::string& name) const
	{
		std::filesystem::create_directories(
			std::filesystem::path(p(name)).parent_path());
		std::filesystem::create_symlink(target, p(name));
	}
};

} // namespace

TEST_CASE("the topmost branch holding a name is the union's", "[busy]")
{
	Tree tr;
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "top") == 0);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "mid") == 1);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "low") == 2);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "d") == 0);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "d/sub/f") == 1);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "") == 0);
	CHECK(cppaufs::topmost_branch(tr.scan.branches, "none") == -1);
}

TEST_CASE("a path is on the branch directly or through the union", "[busy]")
{
	Tree tr;
	const BusyScan& s = tr.scan;
	CHECK(cppaufs::on_branch(s, tr.p("l2")));
	CHECK(cppaufs::on_branch(s, tr.p("l2/top")));	// directly, even if hidden
	CHECK(cppaufs::on_branch(s, tr.p("l2/gone (deleted)")));
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("l2x/top")));
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("l1/top")));
	CHECK(cppaufs::on_branch(s, tr.p("u/mid")));
	CHECK(cppaufs::on_branch(s, tr.p("u/d/sub/f")));
	CHECK(cppaufs::on_branch(s, tr.p("u/d/sub")));
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("u/top")));	// l1's
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("u/low")));	// l3's
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("u")));		// the root: l1's
	CHECK_FALSE(cppaufs::on_branch(s, tr.p("u/mid (deleted)")));
	CHECK_FALSE(cppaufs::on_branch(s, "socket:[1234]"));
	CHECK_FALSE(cppaufs::on_branch(s, "/"));
}

TEST_CASE("scan_busy reads cwd, root, exe, fds and maps of a proc tree", "[busy]")
{
	Tree tr;
	std::string proc = tr.t.mkdir("proc");
	tr.t.mkdir("proc/7/fd");
	tr.t.write("proc/7/comm", "sleep\n");
	tr.link(tr.p("u/d/sub"), "proc/7/cwd");
	tr.link("/", "proc/7/root");
	tr.link("/usr/bin/sleep", "proc/7/exe");
	tr.link("/dev/null", "proc/7/fd/0");
	tr.link(tr.p("l2/mid"), "proc/7/fd/3");
	tr.link(tr.p("u/mid"), "proc/7/fd/12");
	tr.link("pipe:[99]", "proc/7/fd/4");
	tr.t.write("proc/7/maps",
		   "55d0-55d1 r--p 00000000 08:01 123  /usr/bin/sleep\n"
		   "7f00-7f01 r-xp 00000000 08:01 456  " + tr.p("u/mid") + "\n"
		   "7f01-7f02 r--p 00001000 08:01 456  " + tr.p("u/mid") + "\n"
		   "7f03-7f04 rw-p 00000000 00:00 0 \n"
		   "7ffd-7ffe rw-p 00000000 00:00 0    [stack]\n");
	tr.t.mkdir("proc/12/fd");
	tr.t.write("proc/12/comm", "sh\n");
	tr.link(tr.p("l1"), "proc/12/cwd");
	tr.link(tr.p("l2/d/sub/f (deleted)"), "proc/12/fd/5");
	tr.t.mkdir("proc/self");	// not a pid
	tr.t.mkdir("proc/99");		// gone, or not ours to read
	tr.scan.proc_root = proc;

	std::vector<BusyUse> uses = cppaufs::scan_busy(tr.scan);
	std::vector<std::string> got;
	for (const BusyUse& u : uses)
		got.push_back(std::to_string(u.pid) + " " + u.command + " " + u.what + " " +
			      u.path);
	CHECK(got == std::vector<std::string>{
		"7 sleep cwd " + tr.p("u/d/sub"),
		"7 sleep fd 3 " + tr.p("l2/mid"),
		"7 sleep fd 12 " + tr.p("u/mid"),
		"7 sleep map " + tr.p("u/mid"),
		"12 sh fd 5 " + tr.p("l2/d/sub/f (deleted)"),
	});

	tr.scan.self = 7;
	CHECK(cppaufs::scan_busy(tr.scan).size() == 1);
	tr.scan.branch = 2;
	CHECK(cppaufs::scan_busy(tr.scan).empty());
}

TEST_CASE("busy_summary names each process once, the first few", "[busy]")
{
	std::vector<BusyUse> uses = {
		{4711, "less", "fd 3", "/u/a"},
		{4711, "less", "cwd", "/u"},
		{12, "bash", "cwd", "/u/d"},
	};
	CHECK(cppaufs::busy_summary(uses) == "pid 4711 less, pid 12 bash");
	CHECK(cppaufs::busy_summary(uses, 1) == "pid 4711 less, ...");
	CHECK(cppaufs::busy_summary({}).empty());
}

TEST_CASE("name_busy_processes adds who keeps a removed branch busy", "[busy]")
{
	Tree tr;
	std::string proc = tr.t.mkdir("proc");
	tr.t.mkdir("proc/40/fd");
	tr.t.write("proc/40/comm", "less\n");
	tr.link(tr.p("u/mid"), "proc/40/fd/3");
	tr.scan.proc_root = proc;
	const std::string l2 = tr.p("l2"), l3 = tr.p("l3");
	std::vector<cppaufs::KernelMessage> msgs = {
		{'e', "del:" + l2 + ": branch busy: 1 open file"},
		{'e', "del:" + l3 + ": branch busy: 1 open file"},	// nobody there
		{'e', "del:/elsewhere: branch busy: 1 open file"},	// not a branch
		{'w', "del:" + l2 + ": branch busy: as a warning"},
		{'e', "add:1:" + l2 + ": already branch 1"},
	};
	cppaufs::name_busy_processes(tr.scan, &msgs);
	CHECK(msgs[0].text == "del:" + l2 + ": branch busy: 1 open file (pid 40 less)");
	CHECK(msgs[1].text == "del:" + l3 + ": branch busy: 1 open file");
	CHECK(msgs[2].text == "del:/elsewhere: branch busy: 1 open file");
	CHECK(msgs[3].text == "del:" + l2 + ": branch busy: as a warning");
	CHECK(msgs[4].text == "add:1:" + l2 + ": already branch 1");
}
