#include "auctl.h"

#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "cppaufs.h"
#include "mountinfo.h"
#include "sysfs.h"
#include "table.h"

namespace po = boost::program_options;

namespace cppaufs {

namespace {

const std::vector<ColumnDef> kListColumns = {
	{"TARGET", 0.4, false, true, "mount point"},
	{"SI", 0.2, false, true, "instance: si_<id> in /sys/fs/" CPPAUFS_NAME},
	{"BRANCHES", 0.1, true, true, "number of branches"},
	{"SOURCE", 0.2, false, true, "source given to mount"},
};
enum { kListTarget, kListSi, kListBranches, kListSource };

const std::vector<ColumnDef> kShowColumns = {
	{"INDEX", 0.1, true, true, "branch index (br<N>)"},
	{"PATH", 0.6, false, true, "branch directory"},
	{"PERM", 0.1, false, true, "permission: rw, ro or rr"},
	{"BRID", 0.1, true, true, "branch id (brid<N>)"},
	{"XINO", 0.3, false, false, "xino file of the mount"},
};
enum { kShowIndex, kShowPath, kShowPerm, kShowBrid, kShowXino };

const char kUsage[] =
	"Usage:\n"
	"  auctl [options] list\n"
	"  auctl [options] show <si_<id> | <id> | mountpoint>\n"
	"\n"
	"Commands:\n"
	"  list    every cppaufs mount\n"
	"  show    the branches of one cppaufs mount\n";

std::string column_help()
{
	std::string s = "\nColumns for list:\n";
	for (const ColumnDef& c : kListColumns)
		s += std::string("  ") + c.name + std::string(10 - std::strlen(c.name), ' ') +
		     c.help + "\n";
	s += "\nColumns for show (XINO only with -o):\n";
	for (const ColumnDef& c : kShowColumns)
		s += std::string("  ") + c.name + std::string(10 - std::strlen(c.name), ' ') +
		     c.help + "\n";
	return s;
}

// Errors are returned as text and printed in one place, by run_auctl().
class Auctl {
public:
	Auctl(const AuctlOptions& opts, SysfsSource* src, std::ostream& out)
		: opts_(opts), sysfs_(src), out_(out) {}

	bool run(std::string* err);

private:
	bool module_loaded();
	bool list(std::string* err);
	bool show(const std::string& what, std::string* err);
	bool resolve_instance(const std::string& what, std::string* id, std::string* err);
	RenderOptions render_options(const char* json_name) const;

	const AuctlOptions& opts_;
	CppaufsSysfs sysfs_;
	std::ostream& out_;
};

bool Auctl::module_loaded()
{
	if (sysfs_.present())
		return true;
	std::ifstream in(opts_.filesystems);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream words(line);
		std::string word;
		while (words >> word)
			if (word == CPPAUFS_NAME)
				return true;
	}
	return false;
}

RenderOptions Auctl::render_options(const char* json_name) const
{
	RenderOptions r;
	r.json = opts_.json;
	r.raw = opts_.raw;
	r.noheadings = opts_.noheadings;
	r.columns = opts_.columns;
	r.json_name = json_name;
	r.terminal = opts_.terminal;
	return r;
}

bool Auctl::run(std::string* err)
{
	if (!module_loaded()) {
		*err = CPPAUFS_NAME " module is not loaded";
		return false;
	}
	if (opts_.command == "list")
		return list(err);
	return show(opts_.args[0], err);
}

bool Auctl::list(std::string* err)
{
	std::vector<MountEntry> mounts;
	if (!read_mounts(opts_.mountinfo, &mounts, err))
		return false;
	Rows rows;
	for (const MountEntry& m : mounts) {
		if (m.fstype != CPPAUFS_NAME)
			continue;
		std::vector<std::string> row(kListColumns.size());
		row[kListTarget] = m.target;
		row[kListSource] = m.source;
		if (!m.si_id.empty()) {
			row[kListSi] = CPPAUFS_SYSFS_SI_PREFIX + m.si_id;
			int count = 0;
			ReadStatus st;
			// A mount whose si directory is gone (or not yet there)
			// gets an empty count rather than failing the listing.
			if (sysfs_.branch_count(m.si_id, &count, err, &st))
				row[kListBranches] = std::to_string(count);
			else if (st != ReadStatus::kNotFound)
				return false;
		}
		rows.push_back(std::move(row));
	}
	std::string text;
	if (!render_table(kListColumns, rows, render_options("mounts"), &text, err))
		return false;
	out_ << text;
	return true;
}

bool Auctl::resolve_instance(const std::string& what, std::string* id,
			     std::string* err)
{
	if (CppaufsSysfs::parse_si_id(what, id)) {
		if (sysfs_.has_instance(*id))
			return true;
		*err = CPPAUFS_SYSFS_SI_PREFIX + *id + ": no such " CPPAUFS_NAME " instance";
		return false;
	}
	std::vector<MountEntry> mounts;
	if (!read_mounts(opts_.mountinfo, &mounts, err))
		return false;
	const MountEntry* m = find_mount(mounts, what);
	if (!m || m->fstype != CPPAUFS_NAME) {
		*err = what + ": not a " CPPAUFS_NAME " mount point" +
		       (m ? " (it is " + m->fstype + ")" : std::string());
		return false;
	}
	if (m->si_id.empty() || !CppaufsSysfs::parse_si_id(m->si_id, id)) {
		*err = what + ": no " CPPAUFS_OPT_SI "= option in " + opts_.mountinfo;
		return false;
	}
	return true;
}

bool Auctl::show(const std::string& what, std::string* err)
{
	std::string id;
	if (!resolve_instance(what, &id, err))
		return false;
	SiInfo info;
	if (!sysfs_.read_instance(id, &info, err))
		return false;
	Rows rows;
	for (const SiBranch& br : info.branches) {
		std::vector<std::string> row(kShowColumns.size());
		row[kShowIndex] = std::to_string(br.index);
		row[kShowPath] = br.path;
		row[kShowPerm] = br.perm;
		row[kShowBrid] = std::to_string(br.brid);
		row[kShowXino] = info.xino;
		rows.push_back(std::move(row));
	}
	std::string text;
	if (!render_table(kShowColumns, rows, render_options("branches"), &text, err))
		return false;
	if (opts_.json) {
		json_add_members(&text, {
			{"si", json_quote(CPPAUFS_SYSFS_SI_PREFIX + id)},
			{"xino", info.xino.empty() ? "null" : json_quote(info.xino)},
		});
	} else if (!opts_.raw && !opts_.noheadings && opts_.columns.empty()) {
		// The human table: one mount-wide fact below the rows.
		text += "xino: " + (info.xino.empty() ? std::string("none") : info.xino) + "\n";
	}
	out_ << text;
	return true;
}

} // namespace

int parse_auctl_args(int argc, const char* const* argv, AuctlOptions* opts,
		     std::ostream& out, std::ostream& err)
{
	po::options_description visible("Options");
	visible.add_options()
		("help,h", "show this help")
		("json,J", po::bool_switch(&opts->json), "JSON output")
		("raw,r", po::bool_switch(&opts->raw), "raw output: no alignment")
		("noheadings,n", po::bool_switch(&opts->noheadings), "no header line")
		("output,o", po::value<std::string>(&opts->columns)->value_name("COL,..."),
		 "columns to print");
	po::options_description hidden;
	hidden.add_options()
		("sysfs-root", po::value<std::string>(&opts->sysfs_root), "")
		("mountinfo", po::value<std::string>(&opts->mountinfo), "")
		("filesystems", po::value<std::string>(&opts->filesystems), "")
		("command", po::value<std::string>(&opts->command), "")
		("args", po::value<std::vector<std::string>>(&opts->args), "");
	po::options_description all;
	all.add(visible).add(hidden);
	po::positional_options_description pos;
	pos.add("command", 1).add("args", -1);

	auto usage_error = [&](const std::string& msg) {
		err << "auctl: error: " << msg << "\n"
		    << "Try 'auctl --help' for more information.\n";
		return kAuctlUsage;
	};
	po::variables_map vm;
	try {
		po::store(po::command_line_parser(argc, const_cast<char**>(argv))
				  .options(all)
				  .positional(pos)
				  .style(po::command_line_style::unix_style &
					 ~po::command_line_style::allow_guessing)
				  .run(),
			  vm);
		po::notify(vm);
	} catch (const po::error& e) {
		return usage_error(e.what());
	}
	if (vm.count("help")) {
		out << kUsage << "\n" << visible << column_help();
		return 0;
	}
	if (opts->command.empty())
		return usage_error("no command given (list or show)");
	if (opts->command == "list") {
		if (!opts->args.empty())
			return usage_error("list takes no operand");
	} else if (opts->command == "show") {
		if (opts->args.size() != 1)
			return usage_error("show takes one operand: si_<id>, <id> or a mount point");
	} else {
		return usage_error("unknown command '" + opts->command + "' (list or show)");
	}
	if (opts->json && opts->raw)
		return usage_error("--json and --raw are mutually exclusive");
	return -1;
}

int run_auctl(const AuctlOptions& opts, SysfsSource* sysfs, std::ostream& out,
	      std::ostream& err)
{
	std::unique_ptr<DiskSysfs> disk;
	if (!sysfs) {
		disk = std::make_unique<DiskSysfs>(opts.sysfs_root);
		sysfs = disk.get();
	}
	Auctl auctl(opts, sysfs, out);
	std::string msg;
	if (!auctl.run(&msg)) {
		err << "auctl: error: " << msg << "\n";
		return kAuctlFailure;
	}
	return 0;
}

} // namespace cppaufs
