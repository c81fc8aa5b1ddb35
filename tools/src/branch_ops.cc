#include "branch_ops.h"

#include <cerrno>

#include "cppaufs.h"
#include "path_probe.h"

namespace cppaufs {

namespace {

struct OpName {
	const char* name;
	BranchOpKind kind;
	const char* key;
};

const OpName kOps[] = {
	{"add", BranchOpKind::kAdd, "add"},
	{"ins", BranchOpKind::kAdd, "add"},
	{"append", BranchOpKind::kAppend, "append"},
	{"prepend", BranchOpKind::kPrepend, "prepend"},
	{"del", BranchOpKind::kDel, "del"},
	{"mod", BranchOpKind::kMod, "mod"},
};

const OpName* find_op(const std::string& text)
{
	std::size_t colon = text.find(':');
	if (colon == std::string::npos)
		return nullptr;
	for (const OpName& op : kOps)
		if (text.compare(0, colon, op.name) == 0)
			return &op;
	return nullptr;
}

const char* usage_of(BranchOpKind kind)
{
	switch (kind) {
	case BranchOpKind::kAdd:
		return "add:<index>:<path>[=rw|ro|rr]";
	case BranchOpKind::kAppend:
		return "append:<path>[=rw|ro|rr]";
	case BranchOpKind::kPrepend:
		return "prepend:<path>[=rw|ro|rr]";
	case BranchOpKind::kDel:
		return "del:<path>";
	case BranchOpKind::kMod:
		return "mod:<path>=rw|ro|rr";
	}
	return "?";
}

} // namespace

const std::vector<std::string>& branch_op_names()
{
	static const std::vector<std::string> names = [] {
		std::vector<std::string> v;
		for (const OpName& op : kOps)
			v.push_back(op.name);
		return v;
	}();
	return names;
}

bool is_branch_op(const std::string& option)
{
	return find_op(option) != nullptr;
}

std::string BranchOp::value() const
{
	std::string v = path;
	if (has_perm)
		v += std::string(1, CPPAUFS_PERM_SEP) + perm_name(perm);
	if (kind == BranchOpKind::kAdd)
		v = std::to_string(index) + ":" + v;
	return v;
}

bool parse_branch_op(const std::string& text, PathProbe* probe, BranchOp* op,
		     std::string* err)
{
	const OpName* name = find_op(text);
	if (!name) {
		*err = text + ": not a branch operation (add, ins, append, prepend, del or mod)";
		return false;
	}
	*op = BranchOp();
	op->kind = name->kind;
	op->key = name->key;
	op->written = text;
	const std::string where = text + ": ";
	auto bad = [&](const std::string& what) {
		*err = where + what;
		return false;
	};

	std::string rest = text.substr(text.find(':') + 1);
	if (op->kind == BranchOpKind::kAdd) {
		std::size_t colon = rest.find(':');
		if (colon == std::string::npos)
			return bad(std::string("expected ") + usage_of(op->kind));
		std::string index = rest.substr(0, colon);
		if (index.empty() || index.size() > 4 ||
		    index.find_first_not_of("0123456789") != std::string::npos ||
		    std::stoul(index) >= CPPAUFS_BRANCH_MAX)
			return bad("bad index '" + index + "' (expected 0 to " +
				   std::to_string(CPPAUFS_BRANCH_MAX - 1) + ")");
		op->index = static_cast<unsigned int>(std::stoul(index));
		rest.erase(0, colon + 1);
	}

	std::string written_path = rest;
	if (op->kind != BranchOpKind::kDel) {
		std::size_t eq = rest.rfind(CPPAUFS_PERM_SEP);
		if (eq != std::string::npos) {
			std::string perm = rest.substr(eq + 1);
			if (!parse_perm(perm, &op->perm))
				return bad("bad permission '" + perm +
					   "' (expected rw, ro or rr)");
			op->has_perm = true;
			written_path = rest.substr(0, eq);
		} else if (op->kind == BranchOpKind::kMod) {
			return bad(std::string("no permission (expected ") +
				   usage_of(op->kind) + ")");
		}
	}
	if (written_path.empty())
		return bad("empty branch path");

	int rc = probe->resolve(written_path, &op->path);
	if (rc == ENOENT)
		return bad("no such file or directory");
	if (rc == ENOTDIR || (rc == 0 && !probe->is_directory(op->path)))
		return bad("not a directory");
	if (rc != 0)
		return bad("cannot resolve (error " + std::to_string(rc) + ")");
	if (op->kind != BranchOpKind::kDel && op->kind != BranchOpKind::kMod &&
	    probe->is_cppaufs(op->path))
		return bad("is a cppaufs mount");
	if (op->path.find(CPPAUFS_BRANCH_SEP) != std::string::npos &&
	    op->kind != BranchOpKind::kDel && op->kind != BranchOpKind::kMod)
		return bad("resolves to " + op->path + ", which holds ':'");
	if (op->value().size() > kFsconfigStringMax)
		return bad("too long (" + std::to_string(op->value().size()) +
			   " bytes for the kernel, at most " +
			   std::to_string(kFsconfigStringMax) + ")");
	return true;
}

} // namespace cppaufs
