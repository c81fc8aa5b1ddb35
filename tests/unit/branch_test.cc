// The dirs=/br= grammar, the branch checks and the fsconfig chunking.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "branch.h"
#include "cppaufs.h"
#include "test_util.h"

using cppaufs::Branch;
using cppaufs::BranchList;
using cppaufs::Perm;
using cppaufs_test::FakeProbe;
using cppaufs_test::TempDir;

namespace {

// Parses key=value pairs in order; returns the first error, or "".
std::string parse(BranchList* list,
		  std::initializer_list<std::pair<std::string, std::string>> opts)
{
	std::string err;
	for (const auto& o : opts)
		if (!list->add_option(o.first, o.second, &err))
			return err;
	if (!list->finish(&err))
		return err;
	return "";
}

std::string specs(const BranchList& list)
{
	std::string s;
	for (const Branch& br : list.branches())
		s += (s.empty() ? "" : ":") + br.spec();
	return s;
}

std::string numbered_dirs(int n, const std::string& prefix = "d")
{
	std::string v;
	for (int i = 0; i < n; i++)
		v += (i ? ":" : "") + prefix + std::to_string(i);
	return v;
}

} // namespace

TEST_CASE("branch specs parse with default and explicit permissions", "[branch]")
{
	FakeProbe probe;
	BranchList list(&probe);
	REQUIRE(parse(&list, {{"dirs", "./a:./b=ro:c/=rr"}}) == "");
	CHECK(specs(list) == "/u/a=rw:/u/b=ro:/u/c=rr");
	CHECK(list.branches()[0].written == "./a");
	CHECK(list.branches()[2].written == "c/");
	CHECK(list.branches()[2].key == "dirs");

	SECTION("only the first branch defaults to rw") {
		BranchList l2(&probe);
		REQUIRE(parse(&l2, {{"dirs", "x=ro:y:z"}}) == "");
		CHECK(specs(l2) == "/u/x=ro:/u/y=ro:/u/z=ro");
	}
	SECTION("an explicit rw branch may come later") {
		BranchList l2(&probe);
		REQUIRE(parse(&l2, {{"br", "x=ro:y=rw:z"}}) == "");
		CHECK(specs(l2) == "/u/x=ro:/u/y=rw:/u/z=ro");
	}
	SECTION("the permission follows the last '='") {
		BranchList l2(&probe);
		REQUIRE(parse(&l2, {{"dirs", "a=b=ro:/abs/p=q"}}) ==
			"dirs: /abs/p: bad permission 'q' (expected rw, ro or rr)");
		REQUIRE(l2.branches().size() == 1);
		CHECK(l2.branches()[0].path == "/u/a=b");
		CHECK(l2.branches()[0].perm == Perm::kRo);
	}
}

TEST_CASE("every dirs= and br= occurrence appends", "[branch]")
{
	FakeProbe probe;
	BranchList list(&probe);
	REQUIRE(parse(&list, {{"dirs", "a:b"}, {"br", "c=rr"}, {"dirs", "d"}}) == "");
	CHECK(specs(list) == "/u/a=rw:/u/b=ro:/u/c=rr:/u/d=ro");
	CHECK(list.branches()[2].key == "br");
	CHECK(list.branches()[3].key == "dirs");
}

TEST_CASE("bad branches get the kernel's messages", "[branch]")
{
	FakeProbe probe;
	probe.missing = {"/u/gone"};
	probe.files = {"/u/file"};
	probe.unions = {"/u/merged"};
	BranchList list(&probe);

	using Case = std::pair<std::string, std::string>;
	auto c = GENERATE(
		Case("dirs=", "dirs: empty branch path"),
		Case("dirs=a::b", "dirs: empty branch path"),
		Case("br=a:=ro", "br: empty branch path"),
		Case("dirs=a:gone", "dirs: gone: no such file or directory"),
		Case("br=file", "br: file: not a directory"),
		Case("dirs=a:./b/../a/", "dirs: ./b/../a/: given twice"),
		Case("dirs=a:a/sub", "dirs: a/sub: overlaps branch a"),
		Case("dirs=a/sub:a", "dirs: a: overlaps branch a/sub"),
		Case("dirs=/:x", "dirs: x: overlaps branch /"),
		Case("br=merged", "br: merged: is a cppaufs mount"),
		Case("dirs=a:b=xx", "dirs: b: bad permission 'xx' (expected rw, ro or rr)"),
		Case("dirs=a:b=", "dirs: b: bad permission '' (expected rw, ro or rr)"),
		Case("dirs=a:b=RW", "dirs: b: bad permission 'RW' (expected rw, ro or rr)"));

	std::string kv = c.first;
	size_t eq = kv.find('=');
	std::string err;
	REQUIRE_FALSE(list.add_option(kv.substr(0, eq), kv.substr(eq + 1), &err));
	CHECK(err == c.second);
}

TEST_CASE("the message names the key of the occurrence at fault", "[branch]")
{
	FakeProbe probe;
	BranchList list(&probe);
	CHECK(parse(&list, {{"dirs", "a"}, {"br", "a"}}) == "br: a: given twice");
}

TEST_CASE("no branch at all is refused", "[branch]")
{
	FakeProbe probe;
	BranchList list(&probe);
	std::string err;
	REQUIRE_FALSE(list.finish(&err));
	CHECK(err == "no branches: use dirs=<dir>[:<dir>...]");
}

TEST_CASE("at most 1023 branches", "[branch]")
{
	FakeProbe probe;
	BranchList list(&probe);
	std::string err;
	REQUIRE(list.add_option("dirs", numbered_dirs(1000), &err));
	REQUIRE(list.add_option("br", numbered_dirs(23, "e"), &err));
	CHECK(list.branches().size() == CPPAUFS_BRANCH_MAX);
	REQUIRE_FALSE(list.add_option("br", "one-more", &err));
	CHECK(err == "br: too many branches (at most 1023)");
}

TEST_CASE("chunks hold whole specs, fit fsconfig and re-join to the list", "[branch][chunk]")
{
	FakeProbe probe;
	BranchList list(&probe);
	int n = GENERATE(1, 2, 17, 1000, 1023);
	REQUIRE(parse(&list, {{"dirs", numbered_dirs(n, "some/longer/dir-name-")}}) == "");

	std::vector<std::string> pieces;
	std::string err;
	REQUIRE(cppaufs::chunk_branches(list.branches(), cppaufs::kFsconfigStringMax,
					&pieces, &err));
	std::string joined;
	size_t specs_seen = 0;
	for (const std::string& piece : pieces) {
		CHECK(piece.size() <= 255);
		CHECK_FALSE(piece.empty());
		joined += (joined.empty() ? "" : ":") + piece;
		BranchList again(&probe);
		// Every piece is itself a valid list of whole specs.
		REQUIRE(again.add_option("br", piece, &err));
		specs_seen += again.branches().size();
	}
	CHECK(joined == specs(list));
	CHECK(specs_seen == static_cast<size_t>(n));
	// Greedy: no two neighbours would have fitted together.
	for (size_t i = 0; i + 1 < pieces.size(); i++)
		CHECK(pieces[i].size() + 1 + pieces[i + 1].substr(0, pieces[i + 1].find(':')).size() > 255);
}

TEST_CASE("a single spec longer than one fsconfig string is refused", "[branch][chunk]")
{
	FakeProbe probe;
	// "/u/" + name + "=rw": 255 bytes fit, 256 do not.
	std::string fits(255 - 3 - 3, 'x');
	std::string too_long(256 - 3 - 3, 'y');
	std::vector<std::string> pieces;
	std::string err;

	BranchList ok(&probe);
	REQUIRE(ok.add_option("dirs", fits, &err));
	REQUIRE(cppaufs::chunk_branches(ok.branches(), 255, &pieces, &err));
	REQUIRE(pieces.size() == 1);
	CHECK(pieces[0].size() == 255);

	BranchList bad(&probe);
	REQUIRE(bad.add_option("dirs", too_long, &err));
	REQUIRE_FALSE(cppaufs::chunk_branches(bad.branches(), 255, &pieces, &err));
	CHECK(err == "dirs: " + too_long + ": path too long (256 bytes with =rw, at most 255 per branch)");
}

TEST_CASE("a resolved path holding ':' cannot be sent", "[branch][chunk]")
{
	TempDir tmp;
	tmp.mkdir("with:colon");
	REQUIRE(::symlink((tmp.path() + "/with:colon").c_str(),
			  (tmp.path() + "/link").c_str()) == 0);
	cppaufs::DiskPathProbe probe;
	BranchList list(&probe);
	std::string err;
	REQUIRE(list.add_option("dirs", tmp.path() + "/link", &err));
	std::vector<std::string> pieces;
	REQUIRE_FALSE(cppaufs::chunk_branches(list.branches(), 255, &pieces, &err));
	CHECK(err == "dirs: " + tmp.path() + "/link: resolves to " + tmp.path() +
		     "/with:colon, which holds ':'");
}

TEST_CASE("checks against real directories", "[branch][disk]")
{
	TempDir tmp;
	std::string a = tmp.mkdir("a"), b = tmp.mkdir("b"), nested = tmp.mkdir("a/in");
	tmp.write("plain", "x\n");
	REQUIRE(::symlink(a.c_str(), (tmp.path() + "/alias").c_str()) == 0);
	cppaufs::DiskPathProbe probe;
	BranchList list(&probe);
	const std::string t = tmp.path();
	std::string err;

	SECTION("trailing slashes and relative forms resolve") {
		REQUIRE(parse(&list, {{"dirs", t + "/a/:" + t + "/b//=rr"}}) == "");
		CHECK(specs(list) == a + "=rw:" + b + "=rr");
	}
	SECTION("missing") {
		CHECK(parse(&list, {{"dirs", t + "/a:" + t + "/nope"}}) ==
		      "dirs: " + t + "/nope: no such file or directory");
	}
	SECTION("not a directory, also with a trailing slash or below a file") {
		std::string bad = GENERATE(std::string("/plain"), std::string("/plain/"),
					   std::string("/plain/x"));
		CHECK(parse(&list, {{"br", t + bad}}) == "br: " + t + bad + ": not a directory");
	}
	SECTION("nested either way") {
		CHECK(parse(&list, {{"dirs", t + "/a:" + t + "/a/in"}}) ==
		      "dirs: " + t + "/a/in: overlaps branch " + t + "/a");
		BranchList l2(&probe);
		CHECK(parse(&l2, {{"dirs", nested + ":" + a}}) ==
		      "dirs: " + a + ": overlaps branch " + nested);
	}
	SECTION("the same directory through a symlink is given twice") {
		CHECK(parse(&list, {{"dirs", t + "/a"}, {"br", t + "/alias/"}}) ==
		      "br: " + t + "/alias/: given twice");
	}
	SECTION("sibling names sharing a prefix do not overlap") {
		tmp.mkdir("ab");
		REQUIRE(parse(&list, {{"dirs", t + "/a:" + t + "/ab"}}) == "");
	}
	SECTION("relative paths resolve against the cwd") {
		char old[4096];
		REQUIRE(::getcwd(old, sizeof(old)));
		REQUIRE(::chdir(t.c_str()) == 0);
		std::string res = parse(&list, {{"dirs", "./a:b/"}});
		REQUIRE(::chdir(old) == 0);
		REQUIRE(res == "");
		CHECK(specs(list) == a + "=rw:" + b + "=ro");
	}
	SECTION("1000 real branches") {
		std::string v;
		for (int i = 0; i < 1000; i++) {
			tmp.mkdir("many/" + std::to_string(i));
			v += (i ? ":" : "") + t + "/many/" + std::to_string(i);
		}
		REQUIRE(parse(&list, {{"dirs", v}}) == "");
		CHECK(list.branches().size() == 1000);
		CHECK(list.branches()[999].spec() == t + "/many/999=ro");
	}
}
