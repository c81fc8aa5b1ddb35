// The dirs=/br= grammar and the checks the kernel makes on branches.
//
// A value is a ':'-separated list of "path[=perm]" specs; perm (after the
// LAST '=') is rw, ro or rr. Every dirs=/br= occurrence appends. Messages
// are the kernel's, word for word, without any program prefix.
#ifndef CPPAUFS_TOOLS_BRANCH_H_
#define CPPAUFS_TOOLS_BRANCH_H_

#include <cstddef>
#include <string>
#include <vector>

namespace cppaufs {

class PathProbe;

enum class Perm { kRw, kRo, kRr };

const char* perm_name(Perm perm);
// Parses "rw", "ro" or "rr". Returns false for anything else.
bool parse_perm(const std::string& text, Perm* perm);

struct Branch {
	std::string key;	// option name the user wrote: "dirs" or "br"
	std::string written;	// path as the user wrote it
	std::string path;	// resolved absolute path
	Perm perm = Perm::kRo;

	std::string spec() const { return path + "=" + perm_name(perm); }
};

// The kernel caps an fsconfig(2) string at 256 bytes with the NUL.
constexpr std::size_t kFsconfigStringMax = 255;

class BranchList {
public:
	explicit BranchList(PathProbe* probe) : probe_(probe) {}

	// Appends the branches of one dirs=/br= value. On the first bad
	// branch returns false and sets *err to the kernel's message.
	bool add_option(const std::string& key, const std::string& value,
			std::string* err);
	// Final check once every option is in: at least one branch.
	bool finish(std::string* err) const;

	const std::vector<Branch>& branches() const { return branches_; }

private:
	bool add_branch(const std::string& key, const std::string& spec,
			std::string* err);

	PathProbe* probe_;
	std::vector<Branch> branches_;
};

// Joins the branches' "path=perm" specs with ':' into as few pieces as
// possible, each at most |max| bytes. Fails on a spec longer than |max| or
// a resolved path holding ':' (which the grammar cannot express).
bool chunk_branches(const std::vector<Branch>& branches, std::size_t max,
		    std::vector<std::string>* pieces, std::string* err);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_BRANCH_H_
