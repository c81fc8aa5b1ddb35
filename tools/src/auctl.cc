#include "auctl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <unistd.h>

#include "branch_ops.h"
#include "busy.h"
#include "cppaufs.h"
#include "kernel.h"
#include "mountinfo.h"
#include "path_probe.h"
#include "reconfigure.h"
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

const std::vector<ColumnDef> kBusyColumns = {
	{"PID", 0.1, true, true, "process id"},
	{"COMMAND", 0.2, false, true, "command name"},
	{"WHAT", 0.1, false, true, "cwd, root, exe, fd <N> or map"},
	{"PATH", 0.6, false, true, "the path the process uses"},
};
enum { kBusyPid, kBusyCommand, kBusyWhat, kBusyPath };

const char kUsage[] =
	"Usage:\n"
	"  auctl [options] list\n"
	"  auctl [options] show <si_<id> | <id> | mountpoint>\n"
	"  auctl [options] add <mount> <index> <path>[=rw|ro|rr]\n"
	"  auctl [options] append <mount> <path>[=rw|ro|rr]\n"
	"  auctl [options] prepend <mount> <path>[=rw|ro|rr]\n"
	"  auctl [options] del <mount> <path>\n"
	"  auctl [options] mod <mount> <path>=rw|ro|rr\n"
	"  auctl [options] apply <mount> <operation>...\n"
	"  auctl [options] busy <mount> <branch path | index>\n"
	"\n"
	"<mount> is a mount point or si_<id>. An operation of apply is written as\n"
	"in a remount: add:<index>:<branch>, append:<branch>, prepend:<branch>,\n"
	"del:<path> or mod:<path>=<perm>; they are applied left to right, all or\n"
	"nothing.\n"
	"\n"
	"Commands:\n"
	"  list    every cppaufs mount\n"
	"  show    the branches of one cppaufs mount\n"
	"  add     insert a branch at an index\n"
	"  append  add a branch below the others\n"
	"  prepend add a branch above the others\n"
	"  del     remove a branch\n"
	"  mod     change the permission of a branch\n"
	"  apply   several branch changes at once\n"
	"  busy    the processes that use a branch\n";

// Commands that change branches: their operands after <mount>, and the
// operation they make of them.
bool change_ops(const std::string& cmd, const std::vector<std::string>& args,
		std::vector<std::string>* ops)
{
	ops->clear();
	if (cmd == "add" && args.size() == 3)
		ops->push_back("add:" + args[1] + ":" + args[2]);
	else if ((cmd == "append" || cmd == "prepend" || cmd == "del" || cmd == "mod") &&
		 args.size() == 2)
		ops->push_back(cmd + ":" + args[1]);
	else if (cmd == "apply" && args.size() >= 2)
		ops->assign(args.begin() + 1, args.end());
	else
		return false;
	return true;
}

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
	s += "\nColumns for busy:\n";
	for (const ColumnDef& c : kBusyColumns)
		s += std::string("  ") + c.name + std::string(10 - std::strlen(c.name), ' ') +
		     c.help + "\n";
	return s;
}

// Errors are returned as text and printed in one place, by run_auctl().
class Auctl {
public:
	Auctl(const AuctlOptions& opts, SysfsSource* src, MountSystem* sys,
	      PathProbe* probe, std::ostream& out, std::ostream& err)
		: opts_(opts), sysfs_(src), sys_(sys), probe_(probe), out_(out),
		  err_(err) {}

	// An empty *err after a failure: the messages are printed already.
	bool run(std::string* err);

private:
	bool module_loaded();
	bool list(std::string* err);
	bool show(const std::string& what, std::string* err);
	bool change(const std::string& what, const std::vector<std::string>& ops,
		    std::string* err);
	bool busy(const std::string& what, const std::string& branch, std::string* err);
	void name_busy_processes(const std::string& id, const std::string& target,
				 ReconfigureResult* res);
	bool resolve_instance(const std::string& what, std::string* id, std::string* err,
			      std::string* target = nullptr);
	RenderOptions render_options(const char* json_name) const;

	const AuctlOptions& opts_;
	CppaufsSysfs sysfs_;
	MountSystem* sys_;
	PathProbe* probe_;
	std::ostream& out_;
	std::ostream& err_;
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
	if (opts_.command == "show")
		return show(opts_.args[0], err);
	if (opts_.command == "busy")
		return busy(opts_.args[0], opts_.args[1], err);
	std::vector<std::string> ops;
	change_ops(opts_.command, opts_.args, &ops);
	return change(opts_.args[0], ops, err);
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

// The instance id of a mount point, si_<id> or <id>; with |target|, also
// the mount point of the instance, from the mount table.
bool Auctl::resolve_instance(const std::string& what, std::string* id,
			     std::string* err, std::string* target)
{
	if (CppaufsSysfs::parse_si_id(what, id)) {
		if (!sysfs_.has_instance(*id)) {
			*err = CPPAUFS_SYSFS_SI_PREFIX + *id +
			       ": no such " CPPAUFS_NAME " instance";
			return false;
		}
		if (!target)
			return true;
		std::vector<MountEntry> mounts;
		if (!read_mounts(opts_.mountinfo, &mounts, err))
			return false;
		for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
			if (it->fstype == CPPAUFS_NAME && it->si_id == *id) {
				*target = it->target;
				return true;
			}
		}
		*err = CPPAUFS_SYSFS_SI_PREFIX + *id + ": not in " + opts_.mountinfo;
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
	if (target)
		*target = m->target;
	return true;
}

// The branch operations go to the kernel as mount.cppaufs sends those of a
// remount: one fsconfig call each, then the reconfiguration; nothing else
// of the mount (ro/rw, flags) is touched.
bool Auctl::change(const std::string& what, const std::vector<std::string>& texts,
		   std::string* err)
{
	std::string id, target;
	if (!resolve_instance(what, &id, err, &target))
		return false;
	std::vector<FsParam> params;
	for (const std::string& text : texts) {
		BranchOp op;
		if (!parse_branch_op(text, probe_, &op, err))
			return false;
		params.push_back(branch_op_param(op));
	}
	ReconfigureOptions ropts;
	if (opts_.verbose)
		ropts.trace = [this](const std::string& line) {
			out_ << "auctl: " << line << "\n";
		};
	ReconfigureResult res = reconfigure(sys_, target, params, ropts);
	if (res.no_fspick) {
		*err = "branch changes need fspick(2), which this kernel lacks";
		return false;
	}
	if (res.rc == -EBUSY)
		name_busy_processes(id, target, &res);
	print_kernel_messages(res, {"auctl: error: ", "auctl: warning: ", "auctl: "},
			      opts_.verbose, err_);
	err->clear();
	return res.rc == 0;
}

// The kernel refused "del:<branch>: branch busy: ...": add who keeps the
// branch busy, as `auctl busy` finds them.
void Auctl::name_busy_processes(const std::string& id, const std::string& target,
				ReconfigureResult* res)
{
	SiInfo info;
	std::string ignored;
	if (!sysfs_.read_instance(id, &info, &ignored))
		return;
	BusyScan scan;
	scan.mount_point = target;
	scan.proc_root = opts_.proc_root;
	scan.self = static_cast<int>(::getpid());
	for (const SiBranch& br : info.branches)
		scan.branches.push_back(br.path);
	cppaufs::name_busy_processes(scan, &res->messages);
}

bool Auctl::busy(const std::string& what, const std::string& branch,
		 std::string* err)
{
	std::string id;
	BusyScan scan;
	if (!resolve_instance(what, &id, err, &scan.mount_point))
		return false;
	SiInfo info;
	if (!sysfs_.read_instance(id, &info, err))
		return false;
	for (const SiBranch& br : info.branches)
		scan.branches.push_back(br.path);
	// A branch path (as auctl show prints it, or resolving to it), else an index.
	std::string resolved;
	bool found = false;
	if (probe_->resolve(branch, &resolved) != 0)
		resolved.clear();
	std::string trimmed = branch;
	while (trimmed.size() > 1 && trimmed.back() == '/')
		trimmed.pop_back();
	for (std::size_t i = 0; i < scan.branches.size() && !found; i++) {
		if (scan.branches[i] == trimmed || scan.branches[i] == resolved) {
			scan.branch = i;
			found = true;
		}
	}
	if (!found && !branch.empty() && branch.size() < 5 &&
	    branch.find_first_not_of("0123456789") == std::string::npos &&
	    std::stoul(branch) < scan.branches.size()) {
		scan.branch = std::stoul(branch);
		found = true;
	}
	if (!found) {
		*err = branch + ": not a branch of " + what;
		return false;
	}
	scan.proc_root = opts_.proc_root;
	scan.self = static_cast<int>(::getpid());

	Rows rows;
	for (const BusyUse& use : scan_busy(scan)) {
		std::vector<std::string> row(kBusyColumns.size());
		row[kBusyPid] = std::to_string(use.pid);
		row[kBusyCommand] = use.command;
		row[kBusyWhat] = use.what;
		row[kBusyPath] = use.path;
		rows.push_back(std::move(row));
	}
	// Nothing busy: nothing printed, like fuser(1); JSON has an empty array.
	if (rows.empty() && !opts_.json)
		return true;
	std::string text;
	if (!render_table(kBusyColumns, rows, render_options("processes"), &text, err))
		return false;
	if (opts_.json) {
		json_add_members(&text, {
			{"si", json_quote(CPPAUFS_SYSFS_SI_PREFIX + id)},
			{"branch", json_quote(scan.branches[scan.branch])},
			{"index", std::to_string(scan.branch)},
		});
	}
	out_ << text;
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
		("verbose,v", po::bool_switch(&opts->verbose),
		 "trace the system calls of a branch change")
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
		("proc-root", po::value<std::string>(&opts->proc_root), "")
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
	static const char kCommands[] =
		"list, show, add, append, prepend, del, mod, apply or busy";
	std::vector<std::string> ops;
	const std::string& cmd = opts->command;
	if (cmd.empty())
		return usage_error(std::string("no command given (") + kCommands + ")");
	if (cmd == "list") {
		if (!opts->args.empty())
			return usage_error("list takes no operand");
	} else if (cmd == "show") {
		if (opts->args.size() != 1)
			return usage_error("show takes one operand: si_<id>, <id> or a mount point");
	} else if (cmd == "busy") {
		if (opts->args.size() != 2)
			return usage_error("busy takes two operands: <mount> <branch path | index>");
	} else if (cmd == "add") {
		if (!change_ops(cmd, opts->args, &ops))
			return usage_error("add takes three operands: <mount> <index> "
					   "<path>[=rw|ro|rr]");
	} else if (cmd == "append" || cmd == "prepend") {
		if (!change_ops(cmd, opts->args, &ops))
			return usage_error(cmd + " takes two operands: <mount> <path>[=rw|ro|rr]");
	} else if (cmd == "del") {
		if (!change_ops(cmd, opts->args, &ops))
			return usage_error("del takes two operands: <mount> <path>");
	} else if (cmd == "mod") {
		if (!change_ops(cmd, opts->args, &ops))
			return usage_error("mod takes two operands: <mount> <path>=rw|ro|rr");
	} else if (cmd == "apply") {
		if (!change_ops(cmd, opts->args, &ops))
			return usage_error("apply takes a mount and at least one operation");
	} else {
		return usage_error("unknown command '" + cmd + "' (" + kCommands + ")");
	}
	if (opts->json && opts->raw)
		return usage_error("--json and --raw are mutually exclusive");
	return -1;
}

int run_auctl(const AuctlOptions& opts, SysfsSource* sysfs, std::ostream& out,
	      std::ostream& err, MountSystem* sys, PathProbe* probe)
{
	std::unique_ptr<DiskSysfs> disk;
	if (!sysfs) {
		disk = std::make_unique<DiskSysfs>(opts.sysfs_root);
		sysfs = disk.get();
	}
	LinuxMountSystem linux_sys;
	DiskPathProbe disk_probe;
	Auctl auctl(opts, sysfs, sys ? sys : &linux_sys, probe ? probe : &disk_probe,
		    out, err);
	std::string msg;
	if (!auctl.run(&msg)) {
		if (!msg.empty())
			err << "auctl: error: " << msg << "\n";
		return kAuctlFailure;
	}
	return 0;
}

} // namespace cppaufs
