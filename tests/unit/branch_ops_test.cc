// Branch operations: the grammar and what goes to fsconfig(2).
#include <catch2/catch.hpp>

#include "branch_ops.h"
#include "reconfigure.h"
#include "test_util.h"

using cppaufs::BranchOp;
using cppaufs_test::FakeProbe;

TEST_CASE("branch operations are told from other options", "[branch_ops]")
{
	for (const char* op : {"add:0:/a", "ins:1:/a", "append:/a", "prepend:/a", "del:/a",
			       "mod:/a=ro"})
		CHECK(cppaufs::is_branch_op(op));
	for (const char* opt : {"dirs", "br", "xino", "addx:/a", "append", "delete:/a", "ro"})
		CHECK_FALSE(cppaufs::is_branch_op(opt));
}

TEST_CASE("each operation translates to one fsconfig key and value", "[branch_ops]")
{
	FakeProbe probe;
	struct Case {
		const char* text;
		const char* key;
		const char* value;
	};
	auto c = GENERATE(
		Case{"add:1:/y=rr", "add", "1:/y=rr"},
		Case{"ins:0:./y", "add", "0:/u/y"},
		Case{"add:12:y/../z/=ro", "add", "12:/u/z=ro"},
		Case{"append:/x=ro", "append", "/x=ro"},
		Case{"append:x", "append", "/u/x"},
		Case{"prepend:/x=rw", "prepend", "/x=rw"},
		Case{"del:/mnt/b", "del", "/mnt/b"},
		Case{"del:b/", "del", "/u/b"},
		Case{"mod:/mnt/b=rr", "mod", "/mnt/b=rr"});
	BranchOp op;
	std::string err;
	REQUIRE(cppaufs::parse_branch_op(c.text, &probe, &op, &err));
	CHECK(err.empty());
	CHECK(op.written == c.text);
	CHECK(op.key == c.key);
	CHECK(op.value() == c.value);
	cppaufs::FsParam p = cppaufs::branch_op_param(op);
	CHECK(p.key == c.key);
	CHECK(p.value == c.value);
	CHECK_FALSE(p.flag);
	CHECK(p.step == std::string(c.key) + ":" + c.value);
}

TEST_CASE("a value the kernel cannot take is refused", "[branch_ops]")
{
	FakeProbe probe;
	BranchOp op;
	std::string err;
	std::string longpath = "/" + std::string(260, 'p');
	CHECK_FALSE(cppaufs::parse_branch_op("append:" + longpath, &probe, &op, &err));
	CHECK(err == "append:" + longpath + ": too long (261 bytes for the kernel, at most 255)");
	CHECK_FALSE(cppaufs::parse_branch_op("append:/a:b", &probe, &op, &err));
	CHECK(err == "append:/a:b: resolves to /a:b, which holds ':'");
	CHECK_FALSE(cppaufs::parse_branch_op("remove:/a", &probe, &op, &err));
	CHECK(err == "remove:/a: not a branch operation (add, ins, append, prepend, del or mod)");
}

TEST_CASE("kernel log lines lose their level and the filesystem's name", "[branch_ops]")
{
	auto m = cppaufs::parse_log_line("e cppaufs: del:/b: branch busy: 2 open files");
	CHECK(m.kind == 'e');
	CHECK(m.text == "del:/b: branch busy: 2 open files");
	m = cppaufs::parse_log_line("w note");
	CHECK(m.kind == 'w');
	CHECK(m.text == "note");
	m = cppaufs::parse_log_line("bare");
	CHECK(m.kind == 'e');
	CHECK(m.text == "bare");
}
