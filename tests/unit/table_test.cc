// Rendering one row model as a table, raw, without headings, or JSON.
#include <catch2/catch.hpp>

#include "table.h"

using cppaufs::ColumnDef;
using cppaufs::RenderOptions;
using cppaufs::Rows;

namespace {

const std::vector<ColumnDef> kCols = {
	{"NAME", 0.5, false, true, ""},
	{"SIZE", 0.1, true, true, ""},
	{"NOTE", 0.3, false, false, ""},
};
const Rows kRows = {{"alpha", "1", "a \"quoted\" note"}, {"b", "1234", ""}};

std::string render(const RenderOptions& opts)
{
	std::string out, err;
	REQUIRE(cppaufs::render_table(kCols, kRows, opts, &out, &err));
	return out;
}

} // namespace

TEST_CASE("tables render like findmnt", "[table]")
{
	RenderOptions o;
	o.json_name = "things";
	SECTION("default columns, aligned, numbers to the right") {
		CHECK(render(o) == "NAME  SIZE\n"
				   "alpha    1\n"
				   "b     1234\n");
	}
	SECTION("raw") {
		o.raw = true;
		CHECK(render(o) == "NAME SIZE\nalpha 1\nb 1234\n");
	}
	SECTION("no headings, chosen columns in the order asked, any case") {
		o.noheadings = true;
		o.raw = true;
		o.columns = "size,Name";
		CHECK(render(o) == "1 alpha\n1234 b\n");
	}
	SECTION("JSON: lower-case keys, numbers, null for empty") {
		o.json = true;
		o.columns = "NAME,SIZE,NOTE";
		CHECK(render(o) == "{\n"
				   "   \"things\": [\n"
				   "      {\n"
				   "         \"name\": \"alpha\",\n"
				   "         \"size\": 1,\n"
				   "         \"note\": \"a \\\"quoted\\\" note\"\n"
				   "      },{\n"
				   "         \"name\": \"b\",\n"
				   "         \"size\": 1234,\n"
				   "         \"note\": null\n"
				   "      }\n"
				   "   ]\n"
				   "}\n");
	}
}

TEST_CASE("unknown columns are refused by name", "[table]")
{
	RenderOptions o;
	o.columns = "NAME,COLOUR";
	std::string out, err;
	REQUIRE_FALSE(cppaufs::render_table(kCols, kRows, o, &out, &err));
	CHECK(err == "unknown column: 'COLOUR'");
}

TEST_CASE("JSON members are added to the top-level object", "[table]")
{
	std::string json = "{\n   \"things\": [\n   ]\n}\n";
	REQUIRE(cppaufs::json_add_members(&json, {{"xino", cppaufs::json_quote("/a\\b\n")},
						 {"none", "null"}}));
	CHECK(json == "{\n   \"things\": [\n   ],\n   \"xino\": \"/a\\\\b\\n\",\n"
		      "   \"none\": null\n}\n");
	CHECK(cppaufs::json_quote(std::string("\x01", 1)) == "\"\\u0001\"");
}
