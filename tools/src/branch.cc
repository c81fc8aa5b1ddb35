#include "branch.h"

#include <cerrno>

#include "cppaufs.h"
#include "path_probe.h"

namespace cppaufs {

const char* perm_name(Perm perm)
{
	switch (perm) {
	case Perm::kRw:
		return CPPAUFS_PERM_RW;
	case Perm::kRo:
		return CPPAUFS_PERM_RO;
	case Perm::kRr:
		return CPPAUFS_PERM_RR;
	}
	return "?";
}

bool parse_perm(const std::string& text, Perm* perm)
{
	if (text == CPPAUFS_PERM_RW)
		*perm = Perm::kRw;
	else if (text == CPPAUFS_PERM_RO)
		*perm = Perm::kRo;
	else if (text == CPPAUFS_PERM_RR)
		*perm = Perm::kRr;
	else
		return false;
	return true;
}

namespace {

// Whether |child| lies strictly below |parent| (both resolved).
bool is_below(const std::string& child, const std::string& parent)
{
	if (parent == "/")
		return child != "/";
	return child.size() > parent.size() &&
	       child.compare(0, parent.size(), parent) == 0 &&
	       child[parent.size()] == '/';
}

} // namespace

bool BranchList::add_option(const std::string& key, const std::string& value,
			    std::string* err)
{
	std::size_t start = 0;
	for (;;) {
		std::size_t end = value.find(CPPAUFS_BRANCH_SEP, start);
		std::string spec = value.substr(start, end == std::string::npos
						? std::string::npos : end - start);
		if (!add_branch(key, spec, err))
			return false;
		if (end == std::string::npos)
			return true;
		start = end + 1;
	}
}

bool BranchList::add_branch(const std::string& key, const std::string& spec,
			    std::string* err)
{
	Branch br;
	br.key = key;
	std::size_t eq = spec.rfind(CPPAUFS_PERM_SEP);
	br.written = spec.substr(0, eq);
	if (br.written.empty()) {
		*err = key + ": empty branch path";
		return false;
	}
	const std::string where = key + ": " + br.written + ": ";
	if (eq != std::string::npos) {
		std::string perm = spec.substr(eq + 1);
		if (!parse_perm(perm, &br.perm)) {
			*err = where + "bad permission '" + perm +
			       "' (expected rw, ro or rr)";
			return false;
		}
	} else {
		br.perm = branches_.empty() ? Perm::kRw : Perm::kRo;
	}
	if (branches_.size() >= CPPAUFS_BRANCH_MAX) {
		*err = key + ": too many branches (at most " +
		       std::to_string(CPPAUFS_BRANCH_MAX) + ")";
		return false;
	}

	int rc = probe_->resolve(br.written, &br.path);
	if (rc == ENOENT) {
		*err = where + "no such file or directory";
		return false;
	}
	if (rc == ENOTDIR) {
		// A non-directory used as a directory inside the path.
		*err = where + "not a directory";
		return false;
	}
	if (rc != 0) {
		*err = where + "cannot resolve (error " + std::to_string(rc) + ")";
		return false;
	}
	if (!probe_->is_directory(br.path)) {
		*err = where + "not a directory";
		return false;
	}
	if (probe_->is_cppaufs(br.path)) {
		*err = where + "is a cppaufs mount";
		return false;
	}
	for (const Branch& other : branches_) {
		if (other.path == br.path) {
			*err = where + "given twice";
			return false;
		}
		if (is_below(br.path, other.path) || is_below(other.path, br.path)) {
			*err = where + "overlaps branch " + other.written;
			return false;
		}
	}
	branches_.push_back(std::move(br));
	return true;
}

bool BranchList::finish(std::string* err) const
{
	if (branches_.empty()) {
		*err = "no branches: use dirs=<dir>[:<dir>...]";
		return false;
	}
	return true;
}

bool chunk_branches(const std::vector<Branch>& branches, std::size_t max,
		    std::vector<std::string>* pieces, std::string* err)
{
	pieces->clear();
	std::string piece;
	for (const Branch& br : branches) {
		std::string spec = br.spec();
		if (br.path.find(CPPAUFS_BRANCH_SEP) != std::string::npos) {
			*err = br.key + ": " + br.written + ": resolves to " +
			       br.path + ", which holds ':'";
			return false;
		}
		if (spec.size() > max) {
			*err = br.key + ": " + br.written + ": path too long (" +
			       std::to_string(spec.size()) + " bytes with =" +
			       perm_name(br.perm) + ", at most " +
			       std::to_string(max) + " per branch)";
			return false;
		}
		if (!piece.empty() && piece.size() + 1 + spec.size() > max) {
			pieces->push_back(std::move(piece));
			piece.clear();
		}
		if (!piece.empty())
			piece += CPPAUFS_BRANCH_SEP;
		piece += spec;
	}
	if (!piece.empty())
		pieces->push_back(std::move(piece));
	return true;
}

} // namespace cppaufs
