// Branch changes on a mounted union ("live branches"), as aufs spells them
// in remount options and as auctl takes them:
//
//   add:<index>:<branch>   (alias ins:) the new branch becomes br<index>
//   append:<branch>        below the lowest branch
//   prepend:<branch>       above branch 0
//   del:<path>             removes the branch
//   mod:<path>=<perm>      changes a branch's permission
//   <branch> = <path>[=rw|ro|rr]
//
// The helper and auctl check what can be checked without the kernel (the
// grammar, that a path exists and is a directory) and make paths absolute;
// the kernel judges the rest against the union's branches. Messages start
// with the operation as written.
#ifndef CPPAUFS_TOOLS_BRANCH_OPS_H_
#define CPPAUFS_TOOLS_BRANCH_OPS_H_

#include <string>
#include <vector>

#include "branch.h"

namespace cppaufs {

class PathProbe;

enum class BranchOpKind { kAdd, kAppend, kPrepend, kDel, kMod };

struct BranchOp {
	BranchOpKind kind = BranchOpKind::kAppend;
	std::string written;	// as written: "ins:1:./y=rr"
	std::string key;	// fsconfig key: add, append, prepend, del or mod
	unsigned int index = 0;	// add: index of the new branch
	std::string path;	// absolute
	bool has_perm = false;
	Perm perm = Perm::kRo;

	// The fsconfig value: "<index>:<path>[=perm]" (add), "<path>[=perm]"
	// (append, prepend), "<path>" (del), "<path>=<perm>" (mod).
	std::string value() const;
	// "key:value", how the kernel names the operation in its messages.
	std::string step() const { return key + ":" + value(); }
};

// The operation names, as written before the first ':'.
const std::vector<std::string>& branch_op_names();

// Whether a mount option (as written, "append:/x=ro") is a branch operation.
bool is_branch_op(const std::string& option);

// Parses |text| ("del:./b"), resolves its path and checks it. On error sets
// *err to "<text>: <what is wrong>".
bool parse_branch_op(const std::string& text, PathProbe* probe, BranchOp* op,
		     std::string* err);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_BRANCH_OPS_H_
