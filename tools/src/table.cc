#include "table.h"

#include <cctype>
#include <cstdio>
#include <strings.h>

#include "raii.h"

namespace cppaufs {

bool select_columns(const std::vector<ColumnDef>& defs, const std::string& list,
		    std::vector<size_t>* selected, std::string* err)
{
	selected->clear();
	if (list.empty()) {
		for (size_t i = 0; i < defs.size(); i++)
			if (defs[i].by_default)
				selected->push_back(i);
		return true;
	}
	size_t start = 0;
	for (;;) {
		size_t end = list.find(',', start);
		std::string name = list.substr(start, end == std::string::npos
						       ? std::string::npos : end - start);
		size_t i = 0;
		while (i < defs.size() && ::strcasecmp(defs[i].name, name.c_str()) != 0)
			i++;
		if (i == defs.size()) {
			*err = "unknown column: '" + name + "'";
			return false;
		}
		selected->push_back(i);
		if (end == std::string::npos)
			return true;
		start = end + 1;
	}
}

bool render_table(const std::vector<ColumnDef>& defs, const Rows& rows,
		  const RenderOptions& opts, std::string* out, std::string* err)
{
	std::vector<size_t> cols;
	if (!select_columns(defs, opts.columns, &cols, err))
		return false;

	ScolsTable tb(scols_new_table());
	if (!tb) {
		*err = "out of memory";
		return false;
	}
	scols_table_enable_json(tb.get(), opts.json);
	scols_table_enable_raw(tb.get(), opts.raw);
	scols_table_enable_noheadings(tb.get(), opts.noheadings);
	scols_table_set_termforce(tb.get(), opts.terminal ? SCOLS_TERMFORCE_AUTO
							  : SCOLS_TERMFORCE_NEVER);
	if (!opts.json_name.empty())
		scols_table_set_name(tb.get(), opts.json_name.c_str());

	for (size_t i : cols) {
		const ColumnDef& def = defs[i];
		libscols_column* cl = scols_table_new_column(
			tb.get(), def.name, def.whint, def.number ? SCOLS_FL_RIGHT : 0);
		if (!cl) {
			*err = "out of memory";
			return false;
		}
		scols_column_set_json_type(cl, def.number ? SCOLS_JSON_NUMBER
							  : SCOLS_JSON_STRING);
	}
	for (const auto& row : rows) {
		libscols_line* ln = scols_table_new_line(tb.get(), nullptr);
		if (!ln) {
			*err = "out of memory";
			return false;
		}
		for (size_t n = 0; n < cols.size(); n++) {
			const std::string& cell = cols[n] < row.size() ? row[cols[n]] : "";
			if (!cell.empty() && scols_line_set_data(ln, n, cell.c_str()) != 0) {
				*err = "out of memory";
				return false;
			}
		}
	}
	char* data = nullptr;
	if (scols_print_table_to_string(tb.get(), &data) != 0 || !data) {
		*err = "cannot render the table";
		return false;
	}
	CString owner(data);
	*out = data;
	if (!out->empty() && out->back() != '\n')
		*out += '\n';
	return true;
}

std::string json_quote(const std::string& value)
{
	std::string q = "\"";
	for (unsigned char c : value) {
		switch (c) {
		case '"':
			q += "\\\"";
			break;
		case '\\':
			q += "\\\\";
			break;
		case '\n':
			q += "\\n";
			break;
		case '\t':
			q += "\\t";
			break;
		default:
			if (c < 0x20) {
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				q += buf;
			} else {
				q += static_cast<char>(c);
			}
		}
	}
	return q + "\"";
}

bool json_add_members(std::string* json,
		      const std::vector<std::pair<std::string, std::string>>& members)
{
	size_t close = json->rfind('}');
	if (close == std::string::npos)
		return false;
	// Back up over the whitespace before the closing brace.
	size_t end = close;
	while (end > 0 && std::isspace(static_cast<unsigned char>((*json)[end - 1])))
		end--;
	std::string add;
	for (const auto& m : members)
		add += ",\n   " + json_quote(m.first) + ": " + m.second;
	json->insert(end, add);
	return true;
}

} // namespace cppaufs
