#include "mount_helper.h"

#include <cerrno>
#include <cstring>
#include <ostream>
#include <sstream>
#include <vector>

#include <boost/program_options.hpp>
#include <libmount/libmount.h>
#include <sys/mount.h>
#include <unistd.h>

#include "branch.h"
#include "branch_ops.h"
#include "busy.h"
#include "cppaufs.h"
#include "kernel.h"
#include "mount_options.h"
#include "mountinfo.h"
#include "path_probe.h"
#include "reconfigure.h"
#include "sysfs.h"

namespace po = boost::program_options;

namespace cppaufs {

namespace {

const char kUsage[] =
	"Usage: mount.cppaufs <spec> <dir> [-sfnv] [-N <ns>] [-o <options>] [-t <type>]\n"
	"\n"
	"Mount a cppaufs union of the branches in dirs=<dir>[=rw|ro|rr][:...]\n"
	"(br= is an alias; repeat it to append) on <dir>. Normally run by mount(8).\n"
	"On remount, change the branches of the mounted union, left to right:\n"
	"  add:<index>:<branch> (or ins:), append:<branch>, prepend:<branch>,\n"
	"  del:<path>, mod:<path>=<perm>; <branch> is <path>[=rw|ro|rr].\n";

bool is_branch_key(const std::string& key)
{
	return key == CPPAUFS_OPT_DIRS || key == CPPAUFS_OPT_BR;
}

std::string errno_text(int err)
{
	return std::strerror(err < 0 ? -err : err);
}

// A filesystem option as written, "key" or "key=value".
std::string option_text(const FsOption& opt)
{
	return opt.key + (opt.has_value ? "=" + opt.value : "");
}

// Per-mount flags that a remount through mount(2) sets (and clears when
// not given) on the mount itself, besides the superblock's.
constexpr unsigned long kPerMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV |
	MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
	MS_NOSYMFOLLOW;

// One helper run: the options, the system, and where messages go.
class Helper {
public:
	Helper(const MountHelperOptions& opts, MountSystem* sys, PathProbe* probe,
	       std::ostream& out, std::ostream& err)
		: opts_(opts), sys_(sys), probe_(probe), out_(out), err_(err) {}
	~Helper()
	{
		if (mount_fd_ >= 0)
			sys_->close(mount_fd_);
		if (fs_fd_ >= 0)
			sys_->close(fs_fd_);
	}

	int run();

private:
	std::ostream& error() { return err_ << kMountHelperName << ": "; }
	void verbose(const std::string& msg)
	{
		if (opts_.verbose)
			out_ << kMountHelperName << ": " << msg << "\n";
	}
	int run_legacy(const SplitOptions& split);
	int run_remount(const SplitOptions& split);
	void name_busy_processes(ReconfigureResult* res);
	int check_target();
	// Prints the kernel's messages for a failed |step|; returns MNT_EX_FAIL.
	int kernel_failure(const std::string& step, int rc);
	// Prints what the kernel logged; returns how many errors it held.
	int relay_log(bool quiet);

	const MountHelperOptions& opts_;
	MountSystem* sys_;
	PathProbe* probe_;
	std::ostream& out_;
	std::ostream& err_;
	int fs_fd_ = -1;
	int mount_fd_ = -1;
};

// A branch the remount was to remove is busy: name who keeps it so, from
// the mount table, sysfs and /proc, as `auctl busy` does.
void Helper::name_busy_processes(ReconfigureResult* res)
{
	std::vector<MountEntry> mounts;
	std::string id, ignored;
	if (!read_mounts("/proc/self/mountinfo", &mounts, &ignored))
		return;
	const MountEntry* m = find_mount(mounts, opts_.dir);
	if (!m || !CppaufsSysfs::parse_si_id(m->si_id, &id))
		return;
	DiskSysfs disk;
	CppaufsSysfs sysfs(&disk);
	SiInfo info;
	if (!sysfs.read_instance(id, &info, &ignored))
		return;
	BusyScan scan;
	scan.mount_point = m->target;
	scan.self = static_cast<int>(::getpid());
	for (const SiBranch& br : info.branches)
		scan.branches.push_back(br.path);
	cppaufs::name_busy_processes(scan, &res->messages);
}

int Helper::relay_log(bool quiet)
{
	if (fs_fd_ < 0)
		return 0;
	int errors = 0;
	for (const std::string& line : sys_->read_log(fs_fd_)) {
		KernelMessage m = parse_log_line(line);
		char kind = m.kind;
		const std::string& msg = m.text;
		if (kind == 'e')
			errors++;
		if (quiet || (kind == 'i' && !opts_.verbose))
			continue;
		if (kind == 'w')
			error() << "warning: " << msg << "\n";
		else
			error() << msg << "\n";
	}
	return errors;
}

int Helper::kernel_failure(const std::string& step, int rc)
{
	if (relay_log(false) == 0)
		error() << step << " failed: " << errno_text(rc) << "\n";
	return MNT_EX_FAIL;
}

int Helper::check_target()
{
	std::string resolved;
	int rc = probe_->resolve(opts_.dir, &resolved);
	if (rc == ENOENT) {
		error() << "mount point " << opts_.dir << " does not exist\n";
		return MNT_EX_FAIL;
	}
	if (rc != 0) {
		error() << "mount point " << opts_.dir << ": " << errno_text(rc) << "\n";
		return MNT_EX_FAIL;
	}
	if (!probe_->is_directory(resolved)) {
		error() << "mount point " << opts_.dir << " is not a directory\n";
		return MNT_EX_FAIL;
	}
	return 0;
}

// Bind, move and propagation changes go through mount(2): they do not create
// a superblock; so does a remount on a kernel without fspick(2).  On
// remount, mount(8) repeats the options of /etc/fstab, dirs= included: the
// kernel accepts the union's own branches and refuses others.
int Helper::run_legacy(const SplitOptions& split)
{
	std::string data;
	for (const FsOption& opt : split.fs) {
		data += (data.empty() ? "" : ",") + opt.key +
			(opt.has_value ? "=" + opt.value : "");
	}
	unsigned long flags = split.ms_flags;
	verbose("mount(2) " + opts_.dir + " flags " + split.vfs +
		(data.empty() ? "" : " data " + data));
	if (opts_.fake)
		return MNT_EX_SUCCESS;
	int rc = sys_->mount_legacy(opts_.spec, opts_.dir,
				    (flags & MS_REMOUNT) ? CPPAUFS_NAME : "", flags, data);
	if (rc < 0) {
		error() << "cannot " << ((flags & MS_REMOUNT) ? "remount " : "change ")
			<< opts_.dir << ": " << errno_text(rc) << "\n";
		return rc == -EPERM ? MNT_EX_USAGE : MNT_EX_FAIL;
	}
	return MNT_EX_SUCCESS;
}

// A remount goes through fspick(2) and fsconfig(2) (see reconfigure.h for
// the kernel interface): the branch operations (add:, ins:, append:,
// prepend:, del:, mod:) become one fsconfig call each, made absolute here;
// the dirs=/br= that mount(8) repeats from /etc/fstab are resolved as on a
// first mount and sent in br= pieces of at most 255 bytes, which the
// kernel compares with the union's branches; other options go as they
// come, all in the order written; then ro or rw, as mount(2) would. A
// remount through mount(2) also sets the flags of the mount itself
// (nosuid, noatime, ro, ...): a bind remount with the same flags keeps
// that. Without fspick(2) (ENOSYS) the remount falls back to mount(2),
// which knows no branch operation.
int Helper::run_remount(const SplitOptions& split)
{
	std::string msg;
	std::vector<FsParam> params;
	std::vector<std::string> ops;	// as written, for the fallback
	BranchList branches(probe_);
	std::size_t br_at = std::string::npos;	// where the br= pieces go
	for (const FsOption& opt : split.fs) {
		std::string text = option_text(opt);
		if (is_branch_op(text)) {
			BranchOp op;
			if (!parse_branch_op(text, probe_, &op, &msg)) {
				error() << msg << "\n";
				return MNT_EX_FAIL;
			}
			ops.push_back(text);
			params.push_back(branch_op_param(op));
		} else if (is_branch_key(opt.key)) {
			if (!branches.add_option(opt.key, opt.value, &msg)) {
				error() << msg << "\n";
				return MNT_EX_FAIL;
			}
			if (br_at == std::string::npos)
				br_at = params.size();
		} else {
			FsParam p = opt.has_value
				? string_param(opt.key, opt.value, "option " + opt.key)
				: flag_param(opt.key, "option " + opt.key);
			p.sloppy = true;
			params.push_back(std::move(p));
		}
	}
	if (br_at != std::string::npos) {
		std::vector<std::string> pieces;
		if (!chunk_branches(branches.branches(), kFsconfigStringMax, &pieces,
				    &msg)) {
			error() << msg << "\n";
			return MNT_EX_FAIL;
		}
		std::vector<FsParam> br;
		for (const std::string& piece : pieces)
			br.push_back(string_param(CPPAUFS_OPT_BR, piece,
						  "fsconfig " CPPAUFS_OPT_BR));
		params.insert(params.begin() + static_cast<long>(br_at), br.begin(),
			      br.end());
	}
	params.push_back(flag_param((split.ms_flags & MS_RDONLY) ? "ro" : "rw",
				    "option ro/rw"));
	for (const std::string& key : sb_flag_keys(split.ms_flags & ~MS_RDONLY))
		params.push_back(flag_param(key, "option " + key));

	ReconfigureOptions ropts;
	ropts.sloppy = opts_.sloppy;
	ropts.fake = opts_.fake;
	ropts.trace = [this](const std::string& line) { verbose(line); };
	ReconfigureResult res = reconfigure(sys_, opts_.dir, params, ropts);
	if (res.no_fspick) {
		if (!ops.empty()) {
			error() << ops.front() << ": branch operations need fspick(2), "
				   "which this kernel lacks\n";
			return MNT_EX_FAIL;
		}
		verbose("no fspick(2): remount through mount(2)");
		return run_legacy(split);
	}
	const std::string me = std::string(kMountHelperName) + ": ";
	if (res.rc == -EBUSY)
		name_busy_processes(&res);
	print_kernel_messages(res, {me, me + "warning: ", me}, opts_.verbose, err_);
	if (res.rc < 0)
		return res.rc == -EPERM ? MNT_EX_USAGE : MNT_EX_FAIL;

	unsigned long flags = MS_REMOUNT | MS_BIND | (split.ms_flags & kPerMountFlags);
	verbose("mount(2) " + opts_.dir + " flags bind," + split.vfs +
		" (mount attributes)");
	if (opts_.fake)
		return MNT_EX_SUCCESS;
	int rc = sys_->mount_legacy("", opts_.dir, "", flags, "");
	if (rc < 0) {
		error() << "cannot set the mount attributes of " << opts_.dir << ": "
			<< errno_text(rc) << "\n";
		return rc == -EPERM ? MNT_EX_USAGE : MNT_EX_FAIL;
	}
	return MNT_EX_SUCCESS;
}

int Helper::run()
{
	SplitOptions split;
	std::string msg;
	if (!split_mount_options(opts_.options, &split, &msg)) {
		error() << msg << "\n";
		return MNT_EX_USAGE;
	}

	if (!opts_.ns.empty()) {
		int rc = sys_->enter_mount_ns(opts_.ns);
		if (rc < 0) {
			error() << "cannot enter mount namespace " << opts_.ns << ": "
				<< errno_text(rc) << "\n";
			return MNT_EX_SYSERR;
		}
	}

	if ((split.ms_flags & MS_REMOUNT) && !(split.ms_flags & MS_BIND))
		return run_remount(split);
	for (const FsOption& opt : split.fs) {
		std::string text = option_text(opt);
		if (is_branch_op(text)) {
			error() << text << ": changes the branches of a mounted union: "
				   "use -o remount," << text << "\n";
			return MNT_EX_FAIL;
		}
	}
	if (legacy_only_flags(split.ms_flags))
		return run_legacy(split);

	BranchList branches(probe_);
	std::vector<FsOption> others;
	for (const FsOption& opt : split.fs) {
		if (!is_branch_key(opt.key)) {
			others.push_back(opt);
			continue;
		}
		if (!branches.add_option(opt.key, opt.value, &msg)) {
			error() << msg << "\n";
			return MNT_EX_FAIL;
		}
	}
	std::vector<std::string> pieces;
	if (!branches.finish(&msg) ||
	    !chunk_branches(branches.branches(), kFsconfigStringMax, &pieces, &msg)) {
		error() << msg << "\n";
		return MNT_EX_FAIL;
	}
	if (int rc = check_target())
		return rc;

	unsigned int attrs = mount_attrs_from_flags(split.ms_flags);
	if (opts_.verbose) {
		for (const Branch& br : branches.branches())
			verbose("branch " + br.written + " -> " + br.spec());
		for (const std::string& piece : pieces)
			verbose("fsconfig " CPPAUFS_OPT_BR "=" + piece);
		for (const FsOption& opt : others)
			verbose("fsconfig " + opt.key + (opt.has_value ? "=" + opt.value : ""));
		for (const std::string& key : sb_flag_keys(split.ms_flags))
			verbose("fsconfig " + key);
		std::ostringstream a;
		a << "fsmount attrs 0x" << std::hex << attrs << ", move_mount to "
		  << opts_.dir;
		verbose(a.str());
	}
	if (opts_.fake)
		return MNT_EX_SUCCESS;

	fs_fd_ = sys_->fs_open(CPPAUFS_NAME);
	if (fs_fd_ < 0) {
		int rc = fs_fd_;
		if (rc == -ENODEV) {
			error() << "filesystem " CPPAUFS_NAME
				   " is not available (is the module loaded?)\n";
			return MNT_EX_FAIL;
		}
		error() << "fsopen " CPPAUFS_NAME " failed: " << errno_text(rc) << "\n";
		return rc == -EPERM ? MNT_EX_USAGE : MNT_EX_SYSERR;
	}

	int rc = sys_->fs_set_string(fs_fd_, "source", opts_.spec);
	if (rc < 0)
		return kernel_failure("setting source " + opts_.spec, rc);
	for (const std::string& piece : pieces) {
		rc = sys_->fs_set_string(fs_fd_, CPPAUFS_OPT_BR, piece);
		if (rc < 0)
			return kernel_failure("fsconfig " CPPAUFS_OPT_BR, rc);
	}
	for (const FsOption& opt : others) {
		rc = opt.has_value ? sys_->fs_set_string(fs_fd_, opt.key, opt.value)
				   : sys_->fs_set_flag(fs_fd_, opt.key);
		if (rc < 0 && opts_.sloppy) {
			relay_log(true);
			verbose("ignoring option " + opt.key + " (sloppy)");
			continue;
		}
		if (rc < 0)
			return kernel_failure("option " + opt.key, rc);
	}
	for (const std::string& key : sb_flag_keys(split.ms_flags)) {
		rc = sys_->fs_set_flag(fs_fd_, key);
		if (rc < 0)
			return kernel_failure("option " + key, rc);
	}
	rc = sys_->fs_create(fs_fd_);
	if (rc < 0)
		return kernel_failure("creating the filesystem", rc);
	mount_fd_ = sys_->fs_mount(fs_fd_, attrs);
	if (mount_fd_ < 0)
		return kernel_failure("fsmount", mount_fd_);
	rc = sys_->move_mount(mount_fd_, opts_.dir);
	if (rc < 0)
		return kernel_failure("mounting on " + opts_.dir, rc);
	relay_log(false);	// warnings (and with -v, notes) of a good mount

	if (!split.user.empty() && !opts_.no_mtab) {
		rc = sys_->update_utab(opts_.spec, opts_.dir, split.user, split.ms_flags);
		if (rc < 0) {
			error() << "cannot record options in utab: " << errno_text(rc) << "\n";
			return MNT_EX_FILEIO;
		}
		verbose("utab: " + split.user);
	}
	return MNT_EX_SUCCESS;
}

} // namespace

int parse_mount_helper_args(int argc, const char* const* argv,
			    MountHelperOptions* opts, std::ostream& out,
			    std::ostream& err)
{
	po::options_description visible("Options");
	visible.add_options()
		("help,h", "show this help")
		(",s", po::bool_switch(&opts->sloppy), "sloppy: ignore options the kernel refuses")
		(",f", po::bool_switch(&opts->fake), "fake: check everything but do not mount")
		(",n", po::bool_switch(&opts->no_mtab), "do not write utab")
		(",v", po::bool_switch(&opts->verbose), "say what is done")
		(",N", po::value<std::string>(&opts->ns)->value_name("ns"),
		 "mount in this mount namespace (path or pid)")
		(",o", po::value<std::vector<std::string>>()->value_name("options"),
		 "mount options")
		(",t", po::value<std::string>(&opts->type)->value_name("type"),
		 "filesystem type (" CPPAUFS_NAME "[.subtype])");
	po::options_description hidden;
	hidden.add_options()
		("spec", po::value<std::string>(&opts->spec))
		("dir", po::value<std::string>(&opts->dir));
	po::options_description all;
	all.add(visible).add(hidden);
	po::positional_options_description pos;
	pos.add("spec", 1).add("dir", 1);

	po::variables_map vm;
	try {
		po::store(po::command_line_parser(argc, const_cast<char**>(argv))
				  .options(all)
				  .positional(pos)
				  .style(po::command_line_style::unix_style)
				  .run(),
			  vm);
		po::notify(vm);
	} catch (const po::error& e) {
		err << kMountHelperName << ": " << e.what() << "\n"
		    << "Try '" << kMountHelperName << " --help' for more information.\n";
		return MNT_EX_USAGE;
	}
	if (vm.count("help")) {
		out << kUsage << "\n" << visible;
		return MNT_EX_SUCCESS;
	}
	if (opts->spec.empty() || opts->dir.empty()) {
		err << kMountHelperName << ": expected <spec> and <dir>\n"
		    << "Try '" << kMountHelperName << " --help' for more information.\n";
		return MNT_EX_USAGE;
	}
	if (vm.count("-o")) {
		for (const std::string& o : vm["-o"].as<std::vector<std::string>>()) {
			if (o.empty())
				continue;
			opts->options += (opts->options.empty() ? "" : ",") + o;
		}
	}
	std::string base = opts->type.substr(0, opts->type.find('.'));
	if (!opts->type.empty() && base != CPPAUFS_NAME) {
		err << kMountHelperName << ": unsupported filesystem type '"
		    << opts->type << "'\n";
		return MNT_EX_USAGE;
	}
	return -1;
}

int run_mount_helper(const MountHelperOptions& opts, MountSystem* sys,
		     PathProbe* probe, std::ostream& out, std::ostream& err)
{
	Helper helper(opts, sys, probe, out, err);
	return helper.run();
}

} // namespace cppaufs
