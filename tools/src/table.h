// One row model, several renderers (libsmartcols, as findmnt and lsblk).
#ifndef CPPAUFS_TOOLS_TABLE_H_
#define CPPAUFS_TOOLS_TABLE_H_

#include <string>
#include <utility>
#include <vector>

namespace cppaufs {

struct ColumnDef {
	const char* name;	// upper case; JSON keys are the lower-case form
	double whint;		// width hint, as scols_table_new_column()
	bool number;		// right-aligned; a JSON number (null when empty)
	bool by_default;	// shown without -o
	const char* help;
};

struct RenderOptions {
	bool json = false;
	bool raw = false;
	bool noheadings = false;
	std::string columns;	// -o: "COL,COL"; empty for the defaults
	std::string json_name;	// top-level JSON array name
	bool terminal = false;	// let libsmartcols fit the terminal width
};

// A table's rows: cells indexed like the column definitions.
using Rows = std::vector<std::vector<std::string>>;

// Resolves -o (case-insensitive names) to column indexes.
bool select_columns(const std::vector<ColumnDef>& defs, const std::string& list,
		    std::vector<size_t>* selected, std::string* err);

bool render_table(const std::vector<ColumnDef>& defs, const Rows& rows,
		  const RenderOptions& opts, std::string* out, std::string* err);

// |value| as a JSON string literal.
std::string json_quote(const std::string& value);

// Adds "key": value members (values already JSON) at the end of the top
// level object of |json| as libsmartcols prints it.
bool json_add_members(std::string* json,
		      const std::vector<std::pair<std::string, std::string>>& members);

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_TABLE_H_
