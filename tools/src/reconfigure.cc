#include "reconfigure.h"

#include <cerrno>
#include <cstring>
#include <ostream>

#include "branch_ops.h"
#include "cppaufs.h"
#include "kernel.h"

namespace cppaufs {

FsParam string_param(const std::string& key, const std::string& value,
		     const std::string& step)
{
	FsParam p;
	p.key = key;
	p.value = value;
	p.step = step;
	return p;
}

FsParam flag_param(const std::string& key, const std::string& step)
{
	FsParam p;
	p.key = key;
	p.flag = true;
	p.step = step;
	return p;
}

FsParam branch_op_param(const BranchOp& op)
{
	return string_param(op.key, op.value(), op.step());
}

KernelMessage parse_log_line(const std::string& line)
{
	static const std::string prefix = std::string(CPPAUFS_NAME) + ": ";
	KernelMessage m;
	m.text = line;
	if (line.size() >= 2 && line[1] == ' ') {
		m.kind = line[0];
		m.text = line.substr(2);
	}
	if (m.text.compare(0, prefix.size(), prefix) == 0)
		m.text.erase(0, prefix.size());
	return m;
}

namespace {

void drain(MountSystem* sys, int fd, std::vector<KernelMessage>* out)
{
	for (const std::string& line : sys->read_log(fd))
		out->push_back(parse_log_line(line));
}

} // namespace

ReconfigureResult reconfigure(MountSystem* sys, const std::string& target,
			      const std::vector<FsParam>& params,
			      const ReconfigureOptions& opts)
{
	ReconfigureResult res;
	auto trace = [&](const std::string& line) {
		if (opts.trace)
			opts.trace(line);
	};
	if (opts.fake) {
		trace("fspick " + target);
		for (const FsParam& p : params)
			trace("fsconfig " + p.text());
		trace("fsconfig reconfigure");
		return res;
	}
	trace("fspick " + target);
	int fd = sys->fs_pick(target);
	if (fd < 0) {
		res.rc = fd;
		res.no_fspick = fd == -ENOSYS;
		res.failed = "cannot remount " + target;
		return res;
	}
	for (const FsParam& p : params) {
		trace("fsconfig " + p.text());
		int rc = p.flag ? sys->fs_set_flag(fd, p.key)
				: sys->fs_set_string(fd, p.key, p.value);
		if (rc < 0 && opts.sloppy && p.sloppy) {
			std::vector<KernelMessage> dropped;
			drain(sys, fd, &dropped);
			trace("ignoring option " + p.key + " (sloppy)");
			continue;
		}
		if (rc < 0) {
			res.rc = rc;
			res.failed = p.step + " failed";
			drain(sys, fd, &res.messages);
			sys->close(fd);
			return res;
		}
	}
	trace("fsconfig reconfigure");
	int rc = sys->fs_reconfigure(fd);
	if (rc < 0) {
		res.rc = rc;
		res.failed = "remounting " + target + " failed";
	}
	drain(sys, fd, &res.messages);	// errors, or a good remount's warnings
	sys->close(fd);
	return res;
}

void print_kernel_messages(const ReconfigureResult& res, const MessagePrefixes& prefix,
			   bool verbose, std::ostream& err)
{
	bool errors = false;
	for (const KernelMessage& m : res.messages) {
		if (m.kind == 'e') {
			errors = true;
			err << prefix.error << m.text << "\n";
		} else if (m.kind == 'w') {
			err << prefix.warning << m.text << "\n";
		} else if (verbose) {
			err << prefix.info << m.text << "\n";
		}
	}
	if (res.rc < 0 && !errors)
		err << prefix.error << res.failed << ": " << std::strerror(-res.rc) << "\n";
}

} // namespace cppaufs
